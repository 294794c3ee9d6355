package cli

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

// checkControls decide which findings count and what fails the check.
// Each comes from its flag, else its MESHGUARD_* variable, else the config
// file's `check:` section (excludeNamespaces: the config's top level).
type checkControls struct {
	failOnWarn        bool
	severityThreshold string
	rules, skipRules  []string
	excludeNamespaces []string
}

func (c *checkControls) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&c.failOnWarn, "fail-on-warn", false, "exit 1 on warn findings too [$MESHGUARD_FAIL_ON_WARN]")
	fl.StringVar(&c.severityThreshold, "severity-threshold", "", "report only findings of this severity or worse: "+strings.Join(policy.Severities, ", ")+" [$MESHGUARD_SEVERITY_THRESHOLD]")
	fl.StringSliceVar(&c.rules, "rule", nil, "report only these rules (repeatable or comma-separated) [$MESHGUARD_RULE]")
	fl.StringSliceVar(&c.skipRules, "skip-rule", nil, "do not report these rules (repeatable or comma-separated) [$MESHGUARD_SKIP_RULE]")
	fl.StringSliceVar(&c.excludeNamespaces, "exclude-namespace", nil, "also leave objects in these namespaces unjudged (added to the config's excludeNamespaces) [$MESHGUARD_EXCLUDE_NAMESPACE]")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// resolve applies flag > environment > config file precedence; it adjusts
// cfg's exclusions, which the engine reads.
func (c *checkControls) resolve(cmd *cobra.Command, cfg *policy.Config) error {
	changed := cmd.Flags().Changed
	env := func(name string) (string, bool) { return os.LookupEnv("MESHGUARD_" + name) }

	if !changed("fail-on-warn") {
		if v, ok := env("FAIL_ON_WARN"); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return usageError("MESHGUARD_FAIL_ON_WARN=%q: want true or false", v)
			}
			c.failOnWarn = b
		} else if cfg.Check.FailOnWarn != nil {
			c.failOnWarn = *cfg.Check.FailOnWarn
		}
	}
	if !changed("severity-threshold") {
		if v, ok := env("SEVERITY_THRESHOLD"); ok {
			c.severityThreshold = v
		} else {
			c.severityThreshold = cfg.Check.SeverityThreshold
		}
	}
	if c.severityThreshold != "" && !slices.Contains(policy.Severities, c.severityThreshold) {
		return usageError("severity threshold %q: want one of %s", c.severityThreshold, strings.Join(policy.Severities, ", "))
	}
	if !changed("rule") {
		if v, ok := env("RULE"); ok {
			c.rules = splitList(v)
		} else {
			c.rules = cfg.Check.Rules
		}
	}
	if !changed("skip-rule") {
		if v, ok := env("SKIP_RULE"); ok {
			c.skipRules = splitList(v)
		} else {
			c.skipRules = cfg.Check.SkipRules
		}
	}
	if !changed("exclude-namespace") {
		if v, ok := env("EXCLUDE_NAMESPACE"); ok {
			c.excludeNamespaces = splitList(v)
		}
	}
	if len(c.excludeNamespaces) > 0 {
		base := cfg.ExcludeNamespaces
		if base == nil {
			base = policy.DefaultExcludedNamespaces
		}
		cfg.ExcludeNamespaces = append(slices.Clone(base), c.excludeNamespaces...)
	}
	return nil
}

// checkRules makes sure the rule ids name loaded rules.
func (c *checkControls) checkRules(e *policy.Engine) error {
	for _, id := range append(slices.Clone(c.rules), c.skipRules...) {
		if _, ok := e.Rule(id); !ok {
			return usageError("unknown rule %q (see meshguard policies list)", id)
		}
	}
	return nil
}

// filter drops the findings the controls leave out.
func (c *checkControls) filter(r *report.Report) {
	if len(c.rules) == 0 && len(c.skipRules) == 0 && c.severityThreshold == "" {
		return
	}
	r.Filter(func(f policy.Finding) bool {
		if len(c.rules) > 0 && !slices.Contains(c.rules, f.Rule) {
			return false
		}
		if slices.Contains(c.skipRules, f.Rule) {
			return false
		}
		return report.AtLeast(f.Severity, c.severityThreshold)
	})
}

func (c *checkControls) String() string {
	return fmt.Sprintf("failOnWarn=%v severity=%q rules=%v skip=%v exclude=%v", c.failOnWarn, c.severityThreshold, c.rules, c.skipRules, c.excludeNamespaces)
}
