package policy

import (
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/open-policy-agent/opa/v1/ir"
)

func TestVMStats(t *testing.T) {
	if os.Getenv("VMSTATS") == "" {
		t.Skip()
	}
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := manifest.Expand([]string{testutil.Corpus(t)})
	var dep map[string]any
	for _, f := range files {
		for _, d := range manifest.ReadFile(f, nil).Docs {
			if RefOf(d.Object).Kind == os.Getenv("VMSTATS") && dep == nil {
				dep = d.Object
			}
		}
	}
	ref := RefOf(dep)
	kq := e.byKind[opKind{ref.GroupKind(), OpCreate}]
	// static: count statements per func
	type fs struct {
		name string
		n    int
		ins  int
	}
	var all []fs
	for _, f := range kq.prog.funcs {
		n, ins := 0, 0
		var walk func(b *ir.Block)
		walk = func(b *ir.Block) {
			for _, s := range b.Stmts {
				n++
				switch s := s.(type) {
				case *ir.ObjectInsertStmt, *ir.ArrayAppendStmt:
					ins++
				case *ir.BlockStmt:
					for _, bb := range s.Blocks {
						walk(bb)
					}
				case *ir.ScanStmt:
					walk(s.Block)
				case *ir.NotStmt:
					walk(s.Block)
				case *ir.WithStmt:
					walk(s.Block)
				}
			}
		}
		for _, b := range f.fn.Blocks {
			walk(b)
		}
		all = append(all, fs{f.fn.Name, n, ins})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ins > all[j].ins })
	for _, f := range all[:25] {
		fmt.Println(f.name, f.n, f.ins)
	}
	fmt.Println(len(all), "funcs")
}

func TestVMDump(t *testing.T) {
	if os.Getenv("VMDUMP") == "" {
		t.Skip()
	}
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kq := range e.byKind {
		if f := kq.prog.byName[os.Getenv("VMDUMP")]; f != nil {
			ir.Pretty(os.Stdout, f.fn)
			return
		}
	}
}

func TestVMCopies(t *testing.T) {
	if os.Getenv("VMCOPIES") == "" {
		t.Skip()
	}
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	kq := e.byKind[opKind{GroupKind{Group: "apps", Kind: "Deployment"}, OpCreate}]
	n := 0
	for _, f := range kq.prog.funcs {
		var walk func(b *ir.Block)
		walk = func(b *ir.Block) {
			for _, s := range b.Stmts {
				switch s := s.(type) {
				case *constStmt:
					if len(s.value.String()) > 20 && n < 15 {
						n++
						fmt.Println(f.fn.Name, s.target, len(s.value.String()), s.value.String()[:min(60, len(s.value.String()))])
					}
				case *ir.BlockStmt:
					for _, bb := range s.Blocks {
						walk(bb)
					}
				case *ir.ScanStmt:
					walk(s.Block)
				case *ir.NotStmt:
					walk(s.Block)
				}
			}
		}
		for _, b := range f.blocks {
			walk(b)
		}
	}
}

func TestVMFolded(t *testing.T) {
	name := os.Getenv("VMFOLDED")
	if name == "" {
		t.Skip()
	}
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kq := range e.byKind {
		if f := kq.prog.byName[name]; f != nil {
			for _, b := range f.blocks {
				ir.Pretty(os.Stdout, b)
			}
			return
		}
	}
}
