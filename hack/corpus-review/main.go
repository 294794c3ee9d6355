// Command corpus-review summarises `meshguard check -o json` over the shared
// corpus for docs/corpus.md: findings per rule, split by the upstream label of
// the file (INDEX.tsv), and every finding on a file upstream labels good.
//
//	bin/meshguard check -o json ../shared/corpus > /tmp/corpus.json
//	go run ./hack/corpus-review -index ../shared/corpus/INDEX.tsv /tmp/corpus.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type report struct {
	Results []struct {
		File     string
		Object   struct{ Kind, Namespace, Name string }
		Findings []struct {
			Rule, Action, Message string
			Line                  int
		}
	}
}

func main() {
	index := flag.String("index", "", "the corpus INDEX.tsv")
	good := flag.String("list", "known-good", "comma-separated labels whose findings are listed one by one")
	flag.Parse()
	if *index == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: corpus-review -index INDEX.tsv REPORT.json")
		os.Exit(2)
	}
	labels, category, err := readIndex(*index)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	root := filepath.Dir(*index)
	labelOrder := []string{"known-bad", "mixed", "known-good", "assumed-good", "n/a", "unknown"}
	type key struct{ rule, action string }
	counts := map[key]map[string]int{}
	files := map[key]map[string]bool{}
	listed := map[string]bool{}
	for _, l := range strings.Split(*good, ",") {
		listed[l] = true
	}
	var list []string
	for _, r := range rep.Results {
		rel, err := filepath.Rel(root, r.File)
		if err != nil {
			rel = r.File
		}
		label := labels[rel]
		if label == "" {
			label = "unknown"
		}
		for _, f := range r.Findings {
			k := key{f.Rule, f.Action}
			if counts[k] == nil {
				counts[k], files[k] = map[string]int{}, map[string]bool{}
			}
			counts[k][label]++
			counts[k]["total"]++
			files[k][rel] = true
			if listed[label] {
				list = append(list, fmt.Sprintf("| %s | %s | `%s:%d` (%s) | %s %s/%s | %s |", f.Rule, f.Action, rel, f.Line, category[rel], r.Object.Kind, r.Object.Namespace, r.Object.Name, strings.ReplaceAll(f.Message, "|", "\\|")))
			}
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].rule != keys[j].rule {
			return keys[i].rule < keys[j].rule
		}
		return keys[i].action < keys[j].action
	})
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "| rule | action | findings | files | %s |\n|---|---|---|---|%s\n", strings.Join(labelOrder, " | "), strings.Repeat("---|", len(labelOrder)))
	for _, k := range keys {
		cells := make([]string, len(labelOrder))
		for i, l := range labelOrder {
			cells[i] = fmt.Sprint(counts[k][l])
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s |\n", k.rule, k.action, counts[k]["total"], len(files[k]), strings.Join(cells, " | "))
	}
	sort.Strings(list)
	fmt.Fprintf(w, "\n%d findings on files labelled %s:\n\n| rule | action | where (category) | object | message |\n|---|---|---|---|---|\n", len(list), *good)
	for _, l := range list {
		fmt.Fprintln(w, l)
	}
}

func readIndex(path string) (label, category map[string]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	label, category = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 {
			continue
		}
		if len(cols) < 8 {
			return nil, nil, fmt.Errorf("%s:%d: %d columns, want at least 8", path, line, len(cols))
		}
		label[cols[0]], category[cols[0]] = cols[6], cols[2]
	}
	return label, category, sc.Err()
}
