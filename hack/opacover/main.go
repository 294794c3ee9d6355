// Command opacover reads `opa test --coverage` JSON on stdin, prints the
// coverage of each policy file and the total, and fails when the total is
// below -min percent.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
)

func main() {
	min := flag.Float64("min", 0, "fail when total coverage is below this percentage")
	flag.Parse()
	var report struct {
		Files map[string]struct {
			Coverage float64 `json:"coverage"`
		} `json:"files"`
		Coverage float64 `json:"coverage"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&report); err != nil {
		fmt.Fprintf(os.Stderr, "opacover: reading opa coverage JSON: %v\n", err)
		os.Exit(2)
	}
	names := make([]string, 0, len(report.Files))
	for n := range report.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%6.1f%%  %s\n", report.Files[n].Coverage, n)
	}
	fmt.Printf("%6.1f%%  total Rego coverage\n", report.Coverage)
	if report.Coverage < *min {
		fmt.Fprintf(os.Stderr, "opacover: coverage %.1f%% is below the minimum %.1f%%\n", report.Coverage, *min)
		os.Exit(1)
	}
}
