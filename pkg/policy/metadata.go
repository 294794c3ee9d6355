package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Action says what a finding does at admission.
type Action string

// The actions a rule or a finding can carry.
const (
	ActionDeny     Action = "deny"
	ActionWarn     Action = "warn"
	ActionAudit    Action = "audit"
	ActionExempted Action = "exempted"
)

// Severities, from most to least severe.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// GroupKind names an API kind independent of its version, as the rules match it.
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

func (gk GroupKind) String() string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

// KindMatch is one entry of a rule's `kinds` metadata.
type KindMatch struct {
	GroupKind
	Versions []string `json:"versions,omitempty"`
}

// Rule is the metadata of one rule package (its METADATA block).
type Rule struct {
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	Version     string      `json:"version"`
	Severity    string      `json:"severity"`
	Action      Action      `json:"action"`
	Since       string      `json:"since,omitempty"`
	Kinds       []KindMatch `json:"kinds"`
	Remediation string      `json:"remediation,omitempty"`
	// Operations are the admission operations the rule judges (METADATA
	// custom.operations; default CREATE and UPDATE). A rule that protects
	// objects from deletion lists DELETE and is then given the old object.
	Operations []string `json:"operations"`
	// Mutates is true when the package also defines `mutate`: the defaults
	// the mutating webhook (and `check --fix`) add when they are absent.
	Mutates bool `json:"mutates,omitempty"`
	// Package is the Rego package, e.g. data.meshguard.istio.mtls_001.
	Package string `json:"package"`
	// File is where the package is defined.
	File string `json:"file"`

	hasDeny, hasWarn bool
}

// The admission operations a rule can judge.
const (
	OpCreate = "CREATE"
	OpUpdate = "UPDATE"
	OpDelete = "DELETE"
)

// DefaultOperations are judged when a rule's METADATA lists none.
var DefaultOperations = []string{OpCreate, OpUpdate}

// Judges reports whether the rule judges the admission operation.
func (r *Rule) Judges(op string) bool { return slices.Contains(r.Operations, op) }

var (
	ruleIDPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`)
	semverPattern = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
)

// rulesFromCompiler reads the METADATA of every package that defines deny or
// warn. A package that defines them without a valid METADATA block is an
// error: the engine cannot say which objects it applies to.
func rulesFromCompiler(c *ast.Compiler) ([]*Rule, error) {
	byPkg := map[string]*Rule{}
	var errs []string
	generators := generatorPackages(c)
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		if a == nil || a.Scope != "package" || a.Custom["id"] == nil || generators[ref.Path.String()] {
			continue
		}
		r, err := ruleFromAnnotations(a)
		file := ""
		if loc := a.Location; loc != nil {
			file = loc.File
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: METADATA of %s: %v", file, ref.Path, err))
			continue
		}
		r.Package = ref.Path.String()
		r.File = file
		byPkg[r.Package] = r
	}

	// Which packages define deny or warn.
	decisions := map[string]map[string]bool{}
	for _, m := range c.Modules {
		pkg := m.Package.Path.String()
		for _, rule := range m.Rules {
			name := ""
			if ref := rule.Head.Ref(); len(ref) > 0 {
				if v, ok := ref[0].Value.(ast.Var); ok {
					name = string(v)
				}
			}
			if name == "deny" || name == "warn" || name == "mutate" {
				if decisions[pkg] == nil {
					decisions[pkg] = map[string]bool{}
				}
				decisions[pkg][name] = true
			}
		}
	}
	pkgs := make([]string, 0, len(decisions))
	for pkg := range decisions {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		r := byPkg[pkg]
		if r == nil {
			errs = append(errs, fmt.Sprintf("%s defines deny, warn or mutate but has no package METADATA with custom.id", pkg))
			continue
		}
		r.hasDeny, r.hasWarn, r.Mutates = decisions[pkg]["deny"], decisions[pkg]["warn"], decisions[pkg]["mutate"]
	}

	seen := map[string]string{}
	var rules []*Rule
	for _, r := range byPkg {
		if !r.hasDeny && !r.hasWarn {
			errs = append(errs, fmt.Sprintf("%s: rule %s (%s) defines neither deny nor warn", r.File, r.ID, r.Package))
			continue
		}
		if other, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Sprintf("rule id %s is used by both %s and %s", r.ID, other, r.Package))
			continue
		}
		seen[r.ID] = r.Package
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("invalid rule metadata:\n  %s", strings.Join(errs, "\n  "))
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

func ruleFromAnnotations(a *ast.Annotations) (*Rule, error) {
	str := func(key string) string {
		s, _ := a.Custom[key].(string)
		return s
	}
	r := &Rule{
		ID:          str("id"),
		Title:       a.Title,
		Description: strings.TrimSpace(a.Description),
		Version:     str("version"),
		Severity:    str("severity"),
		Action:      Action(str("action")),
		Since:       str("since"),
		Remediation: strings.TrimSpace(str("remediation")),
	}
	var problems []string
	if !ruleIDPattern.MatchString(r.ID) {
		problems = append(problems, fmt.Sprintf("custom.id %q is not of the form MESH-AREA-NNN", r.ID))
	}
	if r.Title == "" {
		problems = append(problems, "title is missing")
	}
	if !semverPattern.MatchString(r.Version) {
		problems = append(problems, fmt.Sprintf("custom.version %q is not a semantic version", r.Version))
	}
	if !slices.Contains(Severities, r.Severity) {
		problems = append(problems, fmt.Sprintf("custom.severity %q is not one of %s", r.Severity, strings.Join(Severities, ", ")))
	}
	switch r.Action {
	case ActionDeny, ActionWarn, ActionAudit:
	default:
		problems = append(problems, fmt.Sprintf("custom.action %q is not one of deny, warn, audit", r.Action))
	}
	switch ops := a.Custom["operations"].(type) {
	case nil:
		r.Operations = slices.Clone(DefaultOperations)
	case []any:
		for _, o := range ops {
			s, _ := o.(string)
			switch s {
			case OpCreate, OpUpdate, OpDelete:
				if !slices.Contains(r.Operations, s) {
					r.Operations = append(r.Operations, s)
				}
			default:
				problems = append(problems, fmt.Sprintf("custom.operations: %v is not one of CREATE, UPDATE, DELETE", o))
			}
		}
		if len(ops) == 0 {
			problems = append(problems, "custom.operations is empty (leave it out for CREATE and UPDATE)")
		}
	default:
		problems = append(problems, "custom.operations is not a list")
	}
	kinds, ok := a.Custom["kinds"].([]any)
	if !ok || len(kinds) == 0 {
		problems = append(problems, "custom.kinds is missing or empty")
	}
	for i, k := range kinds {
		m, ok := k.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("custom.kinds[%d] is not an object", i))
			continue
		}
		group, gok := m["group"].(string)
		kind, _ := m["kind"].(string)
		if !gok || kind == "" {
			problems = append(problems, fmt.Sprintf("custom.kinds[%d] needs a group (\"\" for core) and a kind", i))
			continue
		}
		km := KindMatch{GroupKind: GroupKind{Group: group, Kind: kind}}
		if vs, ok := m["versions"].([]any); ok {
			for _, v := range vs {
				if s, ok := v.(string); ok {
					km.Versions = append(km.Versions, s)
				}
			}
		}
		r.Kinds = append(r.Kinds, km)
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return r, nil
}

// generatorPackages are the packages that define `generate` (see
// generate.go): they are generators, not rules.
func generatorPackages(c *ast.Compiler) map[string]bool {
	out := map[string]bool{}
	for _, m := range c.Modules {
		for _, rule := range m.Rules {
			if ref := rule.Head.Ref(); len(ref) > 0 {
				if v, ok := ref[0].Value.(ast.Var); ok && v == "generate" {
					out[m.Package.Path.String()] = true
				}
			}
		}
	}
	return out
}
