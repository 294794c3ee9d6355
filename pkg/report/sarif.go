package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/meshguard/meshguard/pkg/policy"
)

// SARIF writes the report as a SARIF 2.1.0 log (one run) for code scanning
// (GitHub, GitLab, Azure DevOps, IDE viewers): every rule with its METADATA,
// every finding as a result at its file and line, exempted findings as
// suppressed results, and input errors as tool execution notifications. See
// docs/output.md.
func SARIF(w io.Writer, r *Report) error {
	rules, index := ruleIndex(r)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:       "meshguard",
			Version:    r.ToolVersion,
			Properties: map[string]any{"bundleRevision": r.Bundle.Revision},
			Rules:      make([]sarifRule, 0, len(rules)),
		}},
		Results: []sarifResult{},
	}
	if v := semanticVersion(r.ToolVersion); v != "" {
		run.Tool.Driver.SemanticVersion = v
	}
	for _, rule := range rules {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(rule))
	}
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Findings {
			f := &res.Findings[j]
			run.Results = append(run.Results, sarifResultOf(res, f, index[f.Rule]))
		}
	}
	inv := sarifInvocation{ExecutionSuccessful: len(r.Errors) == 0, ToolExecutionNotifications: []sarifNotification{}}
	for _, e := range r.Errors {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "error", Message: sarifMessage{Text: e.Message}, Locations: sarifPhysical(e.File, e.Line),
			Descriptor: &sarifDescriptorRef{ID: "input-error"},
		})
	}
	for _, e := range r.Skipped {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "note", Message: sarifMessage{Text: e.Message + " (skipped)"}, Locations: sarifPhysical(e.File, e.Line),
			Descriptor: &sarifDescriptorRef{ID: "skipped-document"},
		})
	}
	run.Invocations = []sarifInvocation{inv}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// The subset of SARIF 2.1.0 that meshguard writes.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name            string         `json:"name"`
		Version         string         `json:"version,omitempty"`
		SemanticVersion string         `json:"semanticVersion,omitempty"`
		Rules           []sarifRule    `json:"rules"`
		Properties      map[string]any `json:"properties,omitempty"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name,omitempty"`
		ShortDescription     *sarifMessage      `json:"shortDescription,omitempty"`
		FullDescription      *sarifMessage      `json:"fullDescription,omitempty"`
		Help                 *sarifMessage      `json:"help,omitempty"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifRuleProps     `json:"properties"`
	}
	sarifRuleProps struct {
		Severity         string   `json:"severity,omitempty"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
		Version          string   `json:"version,omitempty"`
		Kinds            []string `json:"kinds,omitempty"`
		Tags             []string `json:"tags"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifMessage       `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          map[string]any     `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           *sarifRegion          `json:"region,omitempty"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogicalLocation struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
	}
	sarifNotification struct {
		Level      string              `json:"level"`
		Message    sarifMessage        `json:"message"`
		Locations  []sarifLocation     `json:"locations,omitempty"`
		Descriptor *sarifDescriptorRef `json:"descriptor,omitempty"`
	}
	sarifDescriptorRef struct {
		ID string `json:"id"`
	}
)

// sarifLevel maps an action to a SARIF level: deny fails, warn warns, audit
// and exempted findings are notes.
func sarifLevel(a policy.Action) string {
	switch a {
	case policy.ActionDeny:
		return "error"
	case policy.ActionWarn:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score GitHub code scanning sorts
// security alerts by (properties.security-severity): critical > 9,
// high 7-8.9, medium 4-6.9, low < 4.
var securitySeverity = map[string]string{"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}

func sarifRuleOf(rule *policy.Rule) sarifRule {
	sr := sarifRule{
		ID:                   rule.ID,
		Name:                 pascalName(rule.Title),
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(rule.Action)},
		Properties: sarifRuleProps{
			Severity:         rule.Severity,
			SecuritySeverity: securitySeverity[rule.Severity],
			Version:          rule.Version,
			Tags:             ruleTags(rule),
		},
	}
	if rule.Title != "" {
		sr.ShortDescription = &sarifMessage{Text: rule.Title}
	}
	if rule.Description != "" {
		sr.FullDescription = &sarifMessage{Text: rule.Description}
	}
	for _, k := range rule.Kinds {
		sr.Properties.Kinds = append(sr.Properties.Kinds, k.String())
	}
	explain := "Run `meshguard policies explain " + rule.ID + "` for the rule's page."
	if rule.Remediation != "" {
		sr.Help = &sarifMessage{Text: rule.Remediation + "\n\n" + explain, Markdown: "**How to fix**\n\n" + rule.Remediation + "\n\n" + explain}
	} else {
		sr.Help = &sarifMessage{Text: explain, Markdown: explain}
	}
	return sr
}

// ruleTags are "security", the mesh and the area of the rule id
// (ISTIO-MTLS-001: istio, mtls), for filtering in code scanning.
func ruleTags(rule *policy.Rule) []string {
	tags := []string{"security"}
	parts := strings.Split(strings.ToLower(rule.ID), "-")
	if len(parts) >= 3 {
		tags = append(tags, parts[:len(parts)-1]...)
	}
	return tags
}

// pascalName turns a title into the identifier-like name SARIF expects
// ("PeerAuthentication must not weaken mTLS" -> PeerAuthenticationMustNotWeakenMTLS).
func pascalName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	return b.String()
}

var semverish = regexp.MustCompile(`^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\s|$)`)

// semanticVersion is the semver part of a version string ("v1.2.3 (abc)" ->
// 1.2.3), or "" for development builds.
func semanticVersion(v string) string {
	if m := semverish.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return ""
}

func sarifResultOf(res *Result, f *policy.Finding, ruleIndex int) sarifResult {
	msg := f.Message
	if f.Path != "" {
		msg += " [" + f.Path + "]"
	}
	sr := sarifResult{
		RuleID:    f.Rule,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Action),
		Message:   sarifMessage{Text: msg},
		Properties: map[string]any{
			"severity": f.Severity,
			"action":   string(f.Action),
			"object":   res.Object.String(),
		},
	}
	if f.Version != "" {
		sr.Properties["ruleVersion"] = f.Version
	}
	if f.Path != "" {
		sr.Properties["path"] = f.Path
	}
	loc := sarifLocation{LogicalLocations: []sarifLogicalLocation{{
		Name:               res.Object.Name,
		FullyQualifiedName: objectFQN(res.Object),
		Kind:               "resource",
	}}}
	if pl := sarifPhysical(res.File, lineOf(res, f)); pl != nil {
		loc.PhysicalLocation = pl[0].PhysicalLocation
	}
	sr.Locations = []sarifLocation{loc}
	// The same finding keeps its fingerprint when lines move: rule, object
	// and field, not the line.
	sum := sha256.Sum256([]byte(f.Rule + "\x00" + objectFQN(res.Object) + "\x00" + f.Path))
	sr.PartialFingerprints = map[string]string{"meshguardFinding/v1": hex.EncodeToString(sum[:16])}
	if x := f.Exemption; x != nil {
		kind := "external"
		if x.From == "object" {
			kind = "inSource" // the exemption annotations are in the object itself
		}
		sr.Suppressions = []sarifSuppression{{Kind: kind, Status: "accepted", Justification: x.Reason + " (exempted by the " + x.From + " until " + x.Until + ")"}}
	}
	return sr
}

// objectFQN names an object uniquely: Kind.group/namespace/name.
func objectFQN(o policy.ObjectRef) string {
	gk := o.GroupKind()
	parts := []string{gk.String()}
	if o.Namespace != "" {
		parts = append(parts, o.Namespace)
	}
	return strings.Join(append(parts, o.Name), "/")
}

// sarifPhysical is the location of a file and line, or nil when the input
// was not a file (stdin, a live object).
func sarifPhysical(file string, line int) []sarifLocation {
	if !inFile(file) {
		return nil
	}
	pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: fileURI(file)}}
	if line > 0 {
		pl.Region = &sarifRegion{StartLine: line}
	}
	return []sarifLocation{{PhysicalLocation: pl}}
}

// fileURI is a file name as a URI reference: relative paths stay relative
// (code scanning resolves them against the repository root), with forward
// slashes and percent-encoding; absolute paths become file: URIs.
func fileURI(name string) string {
	p := filepath.ToSlash(filepath.Clean(name))
	if filepath.IsAbs(name) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive letter
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
