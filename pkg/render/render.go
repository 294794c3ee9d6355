// Package render turns Helm charts and kustomize directories into manifests
// for `meshguard check`, with the Helm and kustomize Go libraries (no helm or
// kustomize binary, no network: remote values files and chart dependencies
// that are not vendored are errors).
package render

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/getter"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Source is one rendered manifest: Name says where it came from (a chart's
// template file, or a kustomize directory) and is what findings point at.
type Source struct {
	Name string
	Data []byte
}

// HelmOptions are the values of a chart rendering.
type HelmOptions struct {
	ValueFiles []string // --values
	Set        []string // --set key=value
	// Release and Namespace name the release (default: the chart's name and
	// "default").
	Release, Namespace string
}

// Helm renders a chart directory (or packaged chart) as `helm template`
// would: one Source per template that renders to something, named after the
// template file inside the chart directory (e.g. chart/templates/vs.yaml).
func Helm(chartPath string, o HelmOptions) ([]Source, error) {
	chrt, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", chartPath, err)
	}
	vo := values.Options{ValueFiles: o.ValueFiles, Values: o.Set}
	vals, err := vo.MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("chart %s: values: %w", chartPath, err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %w", chartPath, err)
	}
	rel := o.Release
	if rel == "" {
		rel = chrt.Name()
	}
	ns := o.Namespace
	if ns == "" {
		ns = "default"
	}
	rv, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{Name: rel, Namespace: ns, IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", chartPath, err)
	}
	out, err := engine.Render(chrt, rv)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", chartPath, err)
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	var srcs []Source
	for _, n := range names {
		if strings.HasSuffix(n, "NOTES.txt") || strings.TrimSpace(out[n]) == "" {
			continue
		}
		// n is "<chart name>/templates/x.yaml" (subcharts: .../charts/<sub>/...):
		// point at the file inside the chart directory given.
		rel := n
		if i := strings.IndexByte(n, '/'); i >= 0 {
			rel = n[i+1:]
		}
		srcs = append(srcs, Source{Name: filepath.Join(chartPath, filepath.FromSlash(rel)), Data: []byte(out[n])})
	}
	return srcs, nil
}

// Kustomize builds a kustomization directory as `kustomize build` would.
func Kustomize(dir string) (Source, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return Source{}, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	y, err := rm.AsYaml()
	if err != nil {
		return Source{}, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return Source{Name: dir + " (kustomize build)", Data: bytes.TrimSpace(y)}, nil
}
