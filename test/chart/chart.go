// Package chart renders the Helm chart in charts/meshguard for tests, through
// the Helm Go SDK (pkg/render, as `meshguard check --helm` does), and
// decodes every rendered object strictly into its Go type: k8s.io/api and
// cert-manager's API types. The unit tests beside it check the chart; the
// e2e tier applies what it renders to a real API server.
package chart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/render"
)

// Object is one rendered object: its template file, the decoded Go value
// (a *corev1.Service, *cmv1.Certificate, ...; *ServiceMonitor for the
// Prometheus operator's kind) and the raw JSON.
type Object struct {
	Template string
	Kind     string
	Name     string
	Value    any
	JSON     []byte
}

// ServiceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor that
// the chart writes, with the operator's field names; its module is not a
// dependency of meshguard, so strict decoding is against this type.
type ServiceMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Selector          map[string]any `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// Dir is the chart's directory.
func Dir() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "charts", "meshguard"), nil
}

// Scheme knows the kinds the chart renders: Kubernetes' and cert-manager's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := cmv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Render renders the chart as release in namespace, with values (YAML) over
// the chart's defaults, and decodes every object strictly (unknown or
// misspelt fields are errors naming the template).
func Render(release, namespace, values string) ([]Object, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "meshguard-chart-values-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	vf := filepath.Join(tmp, "values.yaml")
	if err := os.WriteFile(vf, []byte(values), 0o600); err != nil {
		return nil, err
	}
	srcs, err := render.Helm(dir, render.HelmOptions{ValueFiles: []string{vf}, Release: release, Namespace: namespace})
	if err != nil {
		return nil, err
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	var out []Object
	for _, src := range srcs {
		f := manifest.Parse(src.Name, src.Data)
		if len(f.Errors) > 0 {
			return nil, fmt.Errorf("%s: %s", src.Name, f.Errors[0].Message)
		}
		for _, d := range f.Docs {
			raw, err := json.Marshal(d.Object)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", src.Name, err)
			}
			kind, _ := d.Object["kind"].(string)
			o := Object{Template: filepath.Base(src.Name), Kind: kind, JSON: raw}
			if md, ok := d.Object["metadata"].(map[string]any); ok {
				o.Name, _ = md["name"].(string)
			}
			if kind == "ServiceMonitor" {
				sm := &ServiceMonitor{}
				if err := yaml.UnmarshalStrict(raw, sm); err != nil {
					return nil, fmt.Errorf("%s: ServiceMonitor %s: %w", src.Name, o.Name, err)
				}
				o.Value = sm
			} else {
				v, _, err := dec.Decode(raw, nil, nil)
				if err != nil {
					return nil, fmt.Errorf("%s: %s %s does not decode strictly: %w", src.Name, kind, o.Name, err)
				}
				o.Value = v
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// Find returns the objects of a kind.
func Find(objs []Object, kind string) []Object {
	var out []Object
	for _, o := range objs {
		if strings.EqualFold(o.Kind, kind) {
			out = append(out, o)
		}
	}
	return out
}
