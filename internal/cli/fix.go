package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/fix"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// runFix adds the missing defaults (the rules' mutations) to the inputs.
// Without write, the fixed manifests go to stdout (as one stream, ready for
// kubectl apply -f -) and the changes and remaining findings to stderr; with
// write, changed files are rewritten and the changes and the check of the
// fixed files go to stdout. It returns the paths (or stdin content) to check.
func runFix(ctx context.Context, s Streams, e *policy.Engine, paths []string, write bool) (checkPaths []string, stdin io.Reader, report io.Writer, err error) {
	var stdinData []byte
	for _, p := range paths {
		if p == "-" {
			if write {
				return nil, nil, nil, usageError("--write cannot rewrite stdin: drop --write, or give files")
			}
			if stdinData, err = io.ReadAll(s.In); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	// The first pass fills the engine's inventory with every input, so that
	// the Namespaces decide as in check.
	if _, err := check.Run(ctx, e, paths, check.Options{Stdin: bytes.NewReader(stdinData)}); err != nil {
		return nil, nil, nil, err
	}
	files, errs := manifest.Expand(paths)
	for _, er := range errs {
		fmt.Fprintf(s.Err, "error: %s\n", er.Error())
	}
	var stream bytes.Buffer
	log := s.Err
	if write {
		log = s.Out
	}
	for _, f := range files {
		var data []byte
		if f == "-" {
			data = stdinData
		} else if data, err = os.ReadFile(f); err != nil {
			fmt.Fprintf(s.Err, "error: %s: %v\n", f, err)
			continue
		}
		fixed, changes, err := fix.File(ctx, e, f, data)
		if err != nil {
			fmt.Fprintf(s.Err, "error: %v (left unchanged)\n", err)
			fixed = data
		}
		for _, c := range changes {
			name := f
			if f == "-" {
				name = manifest.Stdin
			}
			fmt.Fprintf(log, "fixed %s:%d: %s by %s: added %s\n", name, c.Line, c.Object, strings.Join(c.Rules, ","), strings.Join(c.Paths, ", "))
		}
		if write {
			if len(changes) > 0 {
				st, err := os.Stat(f)
				if err != nil {
					return nil, nil, nil, err
				}
				if err := os.WriteFile(f, fixed, st.Mode().Perm()); err != nil {
					return nil, nil, nil, fmt.Errorf("writing %s: %w", f, err)
				}
			}
			continue
		}
		if stream.Len() > 0 {
			stream.WriteString("---\n")
		}
		stream.Write(bytes.TrimPrefix(fixed, []byte("---\n")))
		if len(fixed) > 0 && fixed[len(fixed)-1] != '\n' {
			stream.WriteByte('\n')
		}
	}
	if write {
		return paths, s.In, s.Out, nil
	}
	if _, err := s.Out.Write(stream.Bytes()); err != nil {
		return nil, nil, nil, err
	}
	return []string{"-"}, bytes.NewReader(stream.Bytes()), s.Err, nil
}
