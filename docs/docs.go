// Package docs embeds the rule pages (docs/rules/<RULE-ID>.md) so that every
// meshguard binary can show them offline (`meshguard policies explain`).
// Every page in docs/rules is picked up: a new rule's page needs no code.
package docs

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed rules/*.md
var rules embed.FS

// RulePage returns the page of a rule id (docs/rules/<id>.md).
func RulePage(id string) ([]byte, bool) {
	if id == "" || strings.ContainsAny(id, "/\\.") {
		return nil, false
	}
	b, err := fs.ReadFile(rules, path.Join("rules", id+".md"))
	if err != nil {
		return nil, false
	}
	return b, true
}

// RulePageIDs lists the rule ids that have a page, sorted.
func RulePageIDs() []string {
	entries, err := fs.ReadDir(rules, "rules")
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range entries {
		name := e.Name()
		if id, ok := strings.CutSuffix(name, ".md"); ok && id != "README" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
