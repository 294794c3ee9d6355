// Package check judges manifests offline: it reads files, directories and
// stdin, builds the inventory from every object read, evaluates each object
// with the policy engine in parallel and returns one report. It is what
// `meshguard check` runs, and what offline audit will reuse.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/render"
	"github.com/meshguard/meshguard/pkg/report"
)

// Options configure Run.
type Options struct {
	// Stdin is read for the argument "-".
	Stdin io.Reader
	// Workers is the parallelism for decoding and evaluation; 0 means
	// GOMAXPROCS.
	Workers int
	// Sources are inputs already in memory (rendered Helm charts and
	// kustomizations), checked after the paths.
	Sources []render.Source
}

// Run checks the objects found under paths. Input problems (unreadable files,
// invalid YAML, documents that are not objects) are collected in the report's
// Errors and never stop the other files. The returned error is for failures
// of the check itself: an evaluation error, or a cancelled context.
func Run(ctx context.Context, engine *policy.Engine, paths []string, opts Options) (*report.Report, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	files, errs := manifest.Expand(paths)
	nfiles := len(files)
	for _, src := range opts.Sources {
		files = append(files, src.Name)
	}

	// Decode in parallel, keeping the input order. An object of a kind that
	// no rule covers can have no finding: its result is made here and its
	// parse tree dropped at once (and its body too unless the inventory
	// keeps it), so that a large input holds only what evaluation needs.
	type decoded struct {
		file    manifest.File
		results []report.Result
	}
	inv := inventory.For(engine.ReadsInventory)
	out := make([]decoded, len(files))
	parallel(len(files), workers, func(i int) {
		var f manifest.File
		if i < nfiles {
			f = manifest.ReadFile(files[i], opts.Stdin)
		} else {
			src := opts.Sources[i-nfiles]
			f = manifest.Parse(src.Name, src.Data)
		}
		res := make([]report.Result, len(f.Docs))
		for j := range f.Docs {
			doc := &f.Docs[j]
			ref := policy.RefOf(doc.Object)
			res[j] = report.Result{File: doc.File, Line: doc.Line, Object: ref}
			if gk := ref.GroupKind(); !engine.Covers(gk) {
				doc.DropLines()
				if !inv.Tracks(gk) {
					doc.Object = nil
				}
			}
		}
		out[i] = decoded{file: f, results: res}
	})

	var docs []*manifest.Document
	var results []report.Result
	var skipped []manifest.Error
	for i := range out {
		d := &out[i]
		errs = append(errs, d.file.Errors...)
		skipped = append(skipped, d.file.Skipped...)
		for j := range d.file.Docs {
			doc := &d.file.Docs[j]
			if doc.Object != nil {
				inv.Add(doc.Object)
			}
			docs = append(docs, doc)
		}
		results = append(results, d.results...)
		d.results = nil
	}
	if err := engine.SetInventory(ctx, inv.Document()); err != nil {
		return nil, err
	}

	evalErrs := make([]error, len(docs))
	parallel(len(docs), workers, func(i int) {
		if ctx.Err() != nil {
			evalErrs[i] = ctx.Err()
			return
		}
		doc := docs[i]
		if !engine.Covers(results[i].Object.GroupKind()) {
			*doc = manifest.Document{}
			return
		}
		findings, err := engine.Evaluate(ctx, doc.Object)
		if err != nil {
			evalErrs[i] = fmt.Errorf("%s:%d: %w", doc.File, doc.Line, err)
			return
		}
		for j := range findings {
			if findings[j].PathParts != nil {
				findings[j].Line = doc.LineOf(findings[j].PathParts)
			}
		}
		results[i].Findings = findings
		*doc = manifest.Document{} // keep no parsed object past its evaluation
	})
	if err := errors.Join(evalErrs...); err != nil {
		return nil, err
	}

	r := &report.Report{
		Bundle:  report.Bundle{Revision: engine.Revision()},
		Results: results,
		Errors:  errs,
		Skipped: skipped,
		Rules:   engine.Rules(),
	}
	r.Summary.Files = len(files)
	r.Tally()
	return r, nil
}

// parallel runs fn(0..n-1) on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
