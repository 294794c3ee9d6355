package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

var update = flag.Bool("update", false, "rewrite the golden files of pkg/report/testdata/golden")

// Messages that need escaping in some format: a percent sign, line breaks,
// the property separators of GitHub commands (, :), XML specials, TAP's #
// and backslash, a tab.
const (
	trickyMessage = "PeerAuthentication shop/default sets mtls.mode PERMISSIVE: 100% plaintext, <b>&\"quoted\"</b> #1 \\ back\r\nsecond\tline"
	oddFile       = "deploy/odd dir/a,b:c#1%.yaml"
)

// goldenReport has every case a format must handle: findings with and
// without a field line, an object without file or line (a live audit), an
// exempted finding from the object and one from its namespace, a clean
// object, a parse error, an unreadable file, a skipped document, a rule the
// report has no metadata for, and text that needs escaping.
func goldenReport() *report.Report {
	pa := func(ns string) policy.ObjectRef {
		return policy.ObjectRef{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication", Namespace: ns, Name: "default"}
	}
	vs := policy.ObjectRef{APIVersion: "networking.istio.io/v1", Kind: "VirtualService", Namespace: "shop", Name: "reviews"}
	mtls := policy.Finding{Rule: "ISTIO-MTLS-001", Version: "1.1.0", Severity: "high", Action: policy.ActionDeny, Remediation: "Set `spec.mtls.mode: STRICT`."}
	deny := mtls
	deny.Message, deny.Path, deny.Line = trickyMessage, "spec.mtls.mode", 11
	exObject := mtls
	exObject.Action, exObject.Message, exObject.Path, exObject.Line = policy.ActionExempted, "PeerAuthentication legacy/default sets mtls.mode DISABLE", "spec.mtls.mode", 25
	exObject.Exemption = &policy.Exemption{Reason: "migration, see TICKET-1", Until: "2026-12-31", From: "object"}
	exNamespace := exObject
	exNamespace.Exemption = &policy.Exemption{Reason: "legacy namespace", Until: "2027-01-31", From: "namespace legacy"}
	exNamespace.Rule, exNamespace.Message, exNamespace.Path, exNamespace.Line = "ISTIO-MTLS-002", "PeerAuthentication legacy/default sets portLevelMtls[8080] DISABLE", "spec.portLevelMtls[\"8080\"].mode", 27
	exNamespace.Version = "1.0.0"
	retries := policy.Finding{Rule: "ISTIO-TRAFFIC-002", Version: "1.0.2", Severity: "medium", Action: policy.ActionWarn,
		Message: "VirtualService shop/reviews route 0 sets no retries: each route should bound them", Remediation: "Set `retries.attempts` (at most 3)."}
	audit := policy.Finding{Rule: "TEAM-LABELS-001", Version: "0.1.0", Severity: "low", Action: policy.ActionAudit, Message: "Namespace payments has no owner label"}
	timeout := policy.Finding{Rule: "ISTIO-TRAFFIC-001", Version: "1.0.0", Severity: "medium", Action: policy.ActionDeny,
		Message: "VirtualService odd/x route 0 has no timeout", Path: "spec.http[0].timeout", Line: 9}

	r := &report.Report{
		Bundle:      report.Bundle{Revision: "2026.11.0"},
		ToolVersion: "v1.4.0 (0123456789ab)",
		Results: []report.Result{
			{File: "deploy/shop.yaml", Line: 1, Object: pa("shop"), Findings: []policy.Finding{deny}},
			{File: "deploy/shop.yaml", Line: 14, Object: vs, Findings: []policy.Finding{retries}},
			{File: "deploy/shop.yaml", Line: 30, Object: policy.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "shop"}},
			{File: "deploy/legacy.yaml", Line: 20, Object: pa("legacy"), Findings: []policy.Finding{exObject, exNamespace}},
			{File: oddFile, Line: 1, Object: policy.ObjectRef{APIVersion: "networking.istio.io/v1", Kind: "VirtualService", Namespace: "odd", Name: "x"}, Findings: []policy.Finding{timeout}},
			{Object: policy.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "payments"}, Findings: []policy.Finding{audit}},
		},
		Errors: []manifest.Error{
			{File: "deploy/broken.yaml", Line: 3, Message: "invalid YAML: did not find expected key"},
			{File: "deploy/missing.yaml", Message: "open deploy/missing.yaml: no such file or directory"},
		},
		Skipped: []manifest.Error{{File: "chart/values.yaml", Line: 1, Message: "document 1 has no apiVersion and no kind: not a Kubernetes object"}},
		Rules: []*policy.Rule{
			{ID: "ISTIO-MTLS-001", Title: "PeerAuthentication must not weaken mTLS", Description: "PERMISSIVE or DISABLE accepts plaintext.", Version: "1.1.0", Severity: "high", Action: policy.ActionDeny,
				Kinds: []policy.KindMatch{{GroupKind: policy.GroupKind{Group: "security.istio.io", Kind: "PeerAuthentication"}}}, Remediation: "Set `spec.mtls.mode: STRICT`."},
			{ID: "ISTIO-MTLS-002", Title: "No port-level mTLS downgrade", Version: "1.0.0", Severity: "high", Action: policy.ActionDeny},
			{ID: "ISTIO-TRAFFIC-001", Title: "VirtualService HTTP routes set a bounded timeout", Version: "1.0.0", Severity: "medium", Action: policy.ActionDeny},
			{ID: "ISTIO-TRAFFIC-002", Title: "Retries are bounded", Version: "1.0.2", Severity: "medium", Action: policy.ActionWarn, Remediation: "Set `retries.attempts` (at most 3)."},
		},
	}
	r.Summary.Files = 5
	r.Tally()
	return r
}

// Every format has a golden file; go test ./pkg/report -run TestGolden -update
// rewrites them (review the diff).
func TestGolden(t *testing.T) {
	for _, format := range report.Formats() {
		t.Run(format, func(t *testing.T) {
			out, err := report.For(format)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, out.Output(&b, goldenReport()))
			path := filepath.Join("testdata", "golden", format+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create the golden file")
			assert.Equal(t, string(want), b.String())
		})
	}
}

func TestFormatsListed(t *testing.T) {
	assert.Equal(t, []string{"github", "json", "junit", "sarif", "table", "tap", "text"}, report.Formats())
	_, err := report.For("xml")
	assert.ErrorContains(t, err, `unknown output format "xml" (want one of github, json, junit, sarif, table, tap, text)`)
}

func output(t *testing.T, format string, r *report.Report) string {
	t.Helper()
	out, err := report.For(format)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, out.Output(&b, r))
	return b.String()
}

// The runner's unescaping of workflow commands (toolkit command.ts).
func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

func TestGitHubCommandsRoundTrip(t *testing.T) {
	out := output(t, "github", goldenReport())
	cmd := regexp.MustCompile(`^::(error|warning|notice) ([^:]*)::(.*)$`)
	type annotation struct{ level, file, line, title, msg string }
	var got []annotation
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines[:len(lines)-1] {
		m := cmd.FindStringSubmatch(l)
		require.NotNil(t, m, "not a workflow command: %q", l)
		a := annotation{level: m[1], msg: ghUnescape(m[3])}
		for _, p := range strings.Split(m[2], ",") {
			k, v, ok := strings.Cut(p, "=")
			require.True(t, ok, p)
			switch k {
			case "file":
				a.file = ghUnescape(v)
			case "line":
				a.line = v
			case "title":
				a.title = ghUnescape(v)
			}
		}
		got = append(got, a)
	}
	assert.Equal(t, "meshguard: 6 objects in 5 files: 2 deny, 1 warn, 1 audit, 2 exempted, 2 errors (bundle 2026.11.0)", lines[len(lines)-1])
	require.Len(t, got, 8)
	assert.Equal(t, annotation{"error", "deploy/shop.yaml", "11", "ISTIO-MTLS-001", "deny (high): " + trickyMessage + " [spec.mtls.mode]"}, got[0], "a message with line breaks and %% survives")
	assert.Equal(t, annotation{"warning", "deploy/shop.yaml", "14", "ISTIO-TRAFFIC-002", "warn (medium): VirtualService shop/reviews route 0 sets no retries: each route should bound them"}, got[1], "a finding without a field line points at its object")
	assert.Equal(t, "notice", got[2].level)
	assert.Contains(t, got[2].msg, "exempted by the object until 2026-12-31: migration, see TICKET-1")
	assert.Equal(t, oddFile, got[4].file, "a file name with , : # %% survives as a property")
	assert.Equal(t, annotation{"notice", "", "", "TEAM-LABELS-001", "Namespace payments: audit (low): Namespace payments has no owner label"}, got[5], "no file, no line: a run annotation naming the object")
	assert.Equal(t, annotation{"error", "deploy/broken.yaml", "3", "meshguard: input error", "invalid YAML: did not find expected key"}, got[6])
	assert.Equal(t, annotation{"error", "deploy/missing.yaml", "", "meshguard: input error", "open deploy/missing.yaml: no such file or directory"}, got[7])
}

func TestJUnitParses(t *testing.T) {
	out := output(t, "junit", goldenReport())
	require.True(t, strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`))
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Line    int    `xml:"line,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &doc))
	// 6 findings, 1 clean object, 2 input errors.
	assert.Equal(t, []int{9, 2, 2, 4}, []int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
	names := []string{}
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"deploy/shop.yaml", "deploy/legacy.yaml", oddFile, report.ClusterScope, "deploy/broken.yaml", "deploy/missing.yaml"}, names, "one suite per file, in input order")
	shop := doc.Suites[0]
	assert.Equal(t, 3, shop.Tests)
	require.NotNil(t, shop.Cases[0].Failure)
	// XML normalises a CR LF in an attribute value only when it is not
	// escaped: the message survives exactly.
	assert.Equal(t, trickyMessage+" [spec.mtls.mode]", shop.Cases[0].Failure.Message)
	assert.Equal(t, "ISTIO-MTLS-001", shop.Cases[0].Failure.Type)
	assert.Equal(t, 11, shop.Cases[0].Line)
	require.NotNil(t, shop.Cases[1].Skipped, "warn is skipped, not failed")
	assert.Equal(t, 14, shop.Cases[1].Line, "a finding without a field line has its object's")
	assert.Equal(t, "Namespace shop", shop.Cases[2].Name)
	assert.Nil(t, shop.Cases[2].Failure)
	assert.Nil(t, shop.Cases[2].Skipped)
	assert.Contains(t, doc.Suites[1].Cases[1].Skipped.Message, "exempted by the namespace legacy until 2027-01-31: legacy namespace")
	require.NotNil(t, doc.Suites[4].Cases[0].Error)
	assert.Equal(t, "invalid YAML: did not find expected key", doc.Suites[4].Cases[0].Error.Message)
}

func TestTAPPlanAndDiagnostics(t *testing.T) {
	out := output(t, "tap", goldenReport())
	lines := strings.Split(out, "\n")
	require.Equal(t, "TAP version 14", lines[0])
	plan := regexp.MustCompile(`^1\.\.(\d+)$`).FindStringSubmatch(lines[1])
	require.NotNil(t, plan, lines[1])
	point := regexp.MustCompile(`^(not )?ok (\d+) - `)
	var n int
	var blocks []string
	for i := 2; i < len(lines); i++ {
		if m := point.FindStringSubmatch(lines[i]); m != nil {
			n++
			assert.Equal(t, strconv.Itoa(n), m[2], "test points are numbered in order")
			continue
		}
		if lines[i] == "  ---" {
			var block []string
			for i++; lines[i] != "  ..."; i++ {
				require.True(t, strings.HasPrefix(lines[i], "  "), "diagnostic lines are indented: %q", lines[i])
				block = append(block, strings.TrimPrefix(lines[i], "  "))
			}
			blocks = append(blocks, strings.Join(block, "\n"))
			continue
		}
		if lines[i] != "" {
			assert.True(t, strings.HasPrefix(lines[i], "# "), "unexpected line %q", lines[i])
		}
	}
	assert.Equal(t, plan[1], strconv.Itoa(n), "the plan counts the test points")
	assert.Equal(t, 9, n)
	assert.Contains(t, out, "not ok 1 - ISTIO-MTLS-001 PeerAuthentication shop/default\n")
	assert.Contains(t, out, "not ok 2 - ISTIO-TRAFFIC-002 VirtualService shop/reviews # TODO warn, not failing\n")
	assert.Contains(t, out, "ok 3 - Namespace shop\n")
	assert.Contains(t, out, "ok 4 - ISTIO-MTLS-001 PeerAuthentication legacy/default # SKIP exempted by the object until 2026-12-31: migration, see TICKET-1\n")
	require.Len(t, blocks, 8, "every finding and error has a diagnostic")
	var d map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(blocks[0]), &d))
	assert.Equal(t, trickyMessage, d["message"], "the YAML diagnostic keeps the message exactly")
	assert.Equal(t, 11, d["line"])
}

func TestTableAligned(t *testing.T) {
	out := output(t, "table", goldenReport())
	lines := strings.Split(out, "\n")
	header := lines[0]
	cols := []int{}
	for _, h := range []string{"RULE", "ACTION", "SEVERITY", "OBJECT", "MESSAGE"} {
		cols = append(cols, strings.Index(header, h))
	}
	rows := 0
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		rows++
		for _, c := range cols {
			assert.True(t, c > 0 && l[c-1] == ' ' && l[c] != ' ', "column at %d misaligned in %q", c, l)
		}
	}
	assert.Equal(t, 6, rows, "one row per finding, a message with line breaks stays on its row")
	assert.Contains(t, out, "error: deploy/broken.yaml:3: invalid YAML: did not find expected key\n")
	assert.Contains(t, out, "6 objects in 5 files: 2 deny, 1 warn, 1 audit, 2 exempted, 2 errors, 1 document skipped")
}

func TestSARIFContent(t *testing.T) {
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version, SemanticVersion string
					Rules                          []struct {
						ID                   string
						Name                 string
						ShortDescription     struct{ Text string }
						Help                 struct{ Text, Markdown string }
						DefaultConfiguration struct{ Level string }
						Properties           map[string]any
					}
				}
			}
			Invocations []struct {
				ExecutionSuccessful        bool
				ToolExecutionNotifications []struct {
					Level     string
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine int }
					}
					LogicalLocations []struct{ FullyQualifiedName string }
				}
				Suppressions []struct{ Kind, Status, Justification string }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(output(t, "sarif", goldenReport())), &log))
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	d := run.Tool.Driver
	assert.Equal(t, []string{"meshguard", "v1.4.0 (0123456789ab)", "1.4.0"}, []string{d.Name, d.Version, d.SemanticVersion})
	ids := []string{}
	for _, r := range d.Rules {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"ISTIO-MTLS-001", "ISTIO-MTLS-002", "ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002", "TEAM-LABELS-001"}, ids, "the report's rules, plus one for a finding without metadata")
	mtls := d.Rules[0]
	assert.Equal(t, "PeerAuthenticationMustNotWeakenMTLS", mtls.Name)
	assert.Equal(t, "PeerAuthentication must not weaken mTLS", mtls.ShortDescription.Text)
	assert.Equal(t, "error", mtls.DefaultConfiguration.Level)
	assert.Contains(t, mtls.Help.Markdown, "Set `spec.mtls.mode: STRICT`.")
	assert.Equal(t, "high", mtls.Properties["severity"])
	assert.Equal(t, "8.0", mtls.Properties["security-severity"])
	assert.Equal(t, []any{"security", "istio", "mtls"}, mtls.Properties["tags"])
	assert.Equal(t, "warning", d.Rules[3].DefaultConfiguration.Level)

	require.Len(t, run.Results, 6)
	for _, res := range run.Results {
		assert.Equal(t, res.RuleID, d.Rules[res.RuleIndex].ID, "ruleIndex points at the rule")
	}
	first := run.Results[0]
	assert.Equal(t, "error", first.Level)
	assert.Equal(t, trickyMessage+" [spec.mtls.mode]", first.Message.Text)
	assert.Equal(t, "deploy/shop.yaml", first.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	assert.Equal(t, 11, first.Locations[0].PhysicalLocation.Region.StartLine)
	assert.Equal(t, "PeerAuthentication.security.istio.io/shop/default", first.Locations[0].LogicalLocations[0].FullyQualifiedName)
	assert.Equal(t, 14, run.Results[1].Locations[0].PhysicalLocation.Region.StartLine, "no field line: the object's line")
	assert.Equal(t, "warning", run.Results[1].Level)
	ex := run.Results[2]
	assert.Equal(t, "note", ex.Level)
	require.Len(t, ex.Suppressions, 1)
	assert.Equal(t, "inSource", ex.Suppressions[0].Kind, "an object's own exemption annotations are in its source")
	assert.Equal(t, "accepted", ex.Suppressions[0].Status)
	assert.Equal(t, "external", run.Results[3].Suppressions[0].Kind, "a namespace's exemption is not in the object")
	assert.Equal(t, "deploy/odd%20dir/a,b:c%231%25.yaml", run.Results[4].Locations[0].PhysicalLocation.ArtifactLocation.URI)
	live := run.Results[5]
	assert.Nil(t, live.Locations[0].PhysicalLocation, "an object not from a file has only a logical location")
	assert.Equal(t, "Namespace/payments", live.Locations[0].LogicalLocations[0].FullyQualifiedName)
	assert.Equal(t, "note", live.Level)

	require.Len(t, run.Invocations, 1)
	inv := run.Invocations[0]
	assert.False(t, inv.ExecutionSuccessful, "input errors make the run unsuccessful")
	require.Len(t, inv.ToolExecutionNotifications, 3)
	n := inv.ToolExecutionNotifications[0]
	assert.Equal(t, "error", n.Level)
	assert.Equal(t, "invalid YAML: did not find expected key", n.Message.Text)
	assert.Equal(t, "deploy/broken.yaml", n.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	assert.Equal(t, 3, n.Locations[0].PhysicalLocation.Region.StartLine)
	assert.Equal(t, "note", inv.ToolExecutionNotifications[2].Level, "a skipped document is a note")
}

// Characters XML 1.0 cannot carry at all (NUL, ESC) are replaced, so the
// document stays well-formed whatever a rule's message holds.
func TestJUnitControlCharacters(t *testing.T) {
	r := goldenReport()
	r.Results[0].Findings[0].Message = "a\x00b\x1bc ]]> d"
	out := output(t, "junit", r)
	var v struct {
		Suites []struct {
			Cases []struct {
				Failure struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &v), out)
	assert.Equal(t, "a\uFFFDb\uFFFDc ]]> d [spec.mtls.mode]", v.Suites[0].Cases[0].Failure.Message)
}
