package policy

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is the user's configuration file (`--config`, `.meshguard.yaml`).
//
//	params:              # thresholds, merged over the defaults in policies/lib/config
//	  route: {maxTimeout: 30s}
//	enforcement:         # per-rule action overrides
//	  ISTIO-TRAFFIC-001: warn
//	excludeNamespaces: [kube-system, kube-public, kube-node-lease]
//	nonExemptable: [ISTIO-MTLS-001]   # exemption annotations do not apply
type Config struct {
	// Params override the rule thresholds (data.meshguard.config).
	Params map[string]any `json:"params,omitempty"`
	// Enforcement overrides the action of every finding of a rule.
	Enforcement map[string]Action `json:"enforcement,omitempty"`
	// ExcludeNamespaces are namespaces whose objects are not judged. nil means
	// the defaults (DefaultExcludedNamespaces); an empty list excludes none.
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
	// NonExemptable rules ignore the meshguard.io/exempt annotations.
	NonExemptable []string `json:"nonExemptable,omitempty"`
	// Check holds the defaults of `meshguard check`'s controls; flags and
	// MESHGUARD_* environment variables override them.
	Check CheckConfig `json:"check,omitempty"`
}

// CheckConfig is the `check:` section of the config file.
type CheckConfig struct {
	// FailOnWarn makes warn findings fail the check (exit 1).
	FailOnWarn *bool `json:"failOnWarn,omitempty"`
	// SeverityThreshold drops findings less severe than it (e.g. "high").
	SeverityThreshold string `json:"severityThreshold,omitempty"`
	// Rules, when set, keeps only the findings of these rules; SkipRules
	// drops the findings of these.
	Rules     []string `json:"rules,omitempty"`
	SkipRules []string `json:"skipRules,omitempty"`
}

// DefaultExcludedNamespaces are skipped unless the config says otherwise
// (RULES.md §0.4).
var DefaultExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// LoadConfig reads a config file strictly: an unknown key is an error that
// names the file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig parses config file content; name is used in errors.
func ParseConfig(name string, b []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

// validate checks the config against the loaded rules and the parameter
// defaults, so a typo fails loudly instead of being ignored.
func (c *Config) validate(rules map[string]*Rule, defaults map[string]any) error {
	var problems []string
	for id, a := range c.Enforcement {
		if _, ok := rules[id]; !ok {
			problems = append(problems, fmt.Sprintf("enforcement: unknown rule %q", id))
		}
		switch a {
		case ActionDeny, ActionWarn, ActionAudit:
		default:
			problems = append(problems, fmt.Sprintf("enforcement.%s: action %q is not one of deny, warn, audit", id, a))
		}
	}
	for _, list := range []struct {
		key string
		ids []string
	}{{"check.rules", c.Check.Rules}, {"check.skipRules", c.Check.SkipRules}} {
		for _, id := range list.ids {
			if _, ok := rules[id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown rule %q", list.key, id))
			}
		}
	}
	if t := c.Check.SeverityThreshold; t != "" && !slices.Contains(Severities, t) {
		problems = append(problems, fmt.Sprintf("check.severityThreshold: %q is not one of %s", t, strings.Join(Severities, ", ")))
	}
	for _, id := range c.NonExemptable {
		if _, ok := rules[id]; !ok {
			problems = append(problems, fmt.Sprintf("nonExemptable: unknown rule %q", id))
		}
	}
	problems = append(problems, unknownParams("params", c.Params, defaults)...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("invalid config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func unknownParams(prefix string, user, defaults map[string]any) []string {
	var problems []string
	for k, v := range user {
		d, ok := defaults[k]
		if !ok {
			known := make([]string, 0, len(defaults))
			for dk := range defaults {
				known = append(known, dk)
			}
			sort.Strings(known)
			problems = append(problems, fmt.Sprintf("%s.%s is not a known parameter (known: %s)", prefix, k, strings.Join(known, ", ")))
			continue
		}
		dm, dIsMap := d.(map[string]any)
		um, uIsMap := v.(map[string]any)
		switch {
		case dIsMap && uIsMap:
			problems = append(problems, unknownParams(prefix+"."+k, um, dm)...)
		case dIsMap != uIsMap || typeName(d) != typeName(v):
			problems = append(problems, fmt.Sprintf("%s.%s has the wrong type: want %s, got %s", prefix, k, typeName(d), typeName(v)))
		}
	}
	return problems
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default: // int64, float64, json.Number
		return "a number"
	}
}
