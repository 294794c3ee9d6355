package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/meshguard/meshguard/pkg/policy"
)

// JUnit writes the report as JUnit XML for CI test reports (GitLab, Jenkins,
// Azure DevOps): one testsuite per input file, one testcase per finding
// (deny: a failure; warn, audit and exempted: skipped, with the reason) and
// one passing testcase per object without findings; a file that could not
// be read or parsed is a testcase with an error. See docs/output.md.
func JUnit(w io.Writer, r *Report) error {
	root := junitSuites{Name: "meshguard"}
	suites := map[string]*junitSuite{}
	var order []string
	suite := func(name string) *junitSuite {
		s, ok := suites[name]
		if !ok {
			s = &junitSuite{Name: name, Properties: []junitProperty{{Name: "bundle", Value: r.Bundle.Revision}}}
			suites[name] = s
			order = append(order, name)
		}
		return s
	}
	for i := range r.Results {
		res := &r.Results[i]
		name := junitSuiteName(res)
		s := suite(name)
		if len(res.Findings) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: res.Object.String(), ClassName: name, File: fileAttr(res.File), Line: res.Line})
			continue
		}
		for j := range res.Findings {
			s.Cases = append(s.Cases, junitCaseOf(name, res, &res.Findings[j]))
		}
	}
	for _, e := range r.Errors {
		name := e.File
		if name == "" {
			name = "input"
		}
		s := suite(name)
		s.Cases = append(s.Cases, junitCase{
			Name: "read " + name, ClassName: name, File: fileAttr(e.File), Line: e.Line,
			Error: &junitResult{Message: e.Message, Type: "input-error", Text: e.Error()},
		})
	}
	for _, name := range order {
		s := suites[name]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		root.Skipped += s.Skipped
		root.Suites = append(root.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string       `xml:"name,attr"`
		ClassName string       `xml:"classname,attr"`
		File      string       `xml:"file,attr,omitempty"`
		Line      int          `xml:"line,attr,omitempty"`
		Skipped   *junitResult `xml:"skipped"`
		Error     *junitResult `xml:"error"`
		Failure   *junitResult `xml:"failure"`
		SystemOut string       `xml:"system-out,omitempty"`
	}
	junitResult struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// junitSuiteName groups results by file; objects not read from a file (a
// live audit) are grouped by namespace.
func junitSuiteName(res *Result) string {
	if res.File != "" {
		return res.File
	}
	if res.Object.Namespace == "" {
		return ClusterScope
	}
	return "namespace " + res.Object.Namespace
}

func fileAttr(file string) string {
	if inFile(file) {
		return file
	}
	return ""
}

func junitCaseOf(suite string, res *Result, f *policy.Finding) junitCase {
	line := lineOf(res, f)
	c := junitCase{Name: f.Rule + " " + res.Object.String(), ClassName: suite, File: fileAttr(res.File), Line: line}
	msg := f.Message
	if f.Path != "" {
		msg += " [" + f.Path + "]"
	}
	var detail strings.Builder
	loc := res.File
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, line)
	}
	if loc != "" {
		fmt.Fprintf(&detail, "%s: ", loc)
	}
	fmt.Fprintf(&detail, "%s %s (%s): %s\n", f.Rule, f.Action, f.Severity, msg)
	fmt.Fprintf(&detail, "object: %s\n", res.Object.String())
	if f.Version != "" {
		fmt.Fprintf(&detail, "rule version: %s\n", f.Version)
	}
	if f.Remediation != "" {
		fmt.Fprintf(&detail, "how to fix: %s\n", f.Remediation)
	}
	switch f.Action {
	case policy.ActionDeny:
		c.Failure = &junitResult{Message: msg, Type: f.Rule, Text: detail.String()}
	case policy.ActionExempted:
		x := f.Exemption
		reason := "exempted"
		if x != nil {
			reason = exempted(x)
		}
		c.Skipped = &junitResult{Message: reason + " (" + msg + ")"}
		c.SystemOut = detail.String()
	default:
		c.Skipped = &junitResult{Message: fmt.Sprintf("%s (%s): %s", f.Action, f.Severity, msg)}
		c.SystemOut = detail.String()
	}
	return c
}
