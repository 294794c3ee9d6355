// Package inventory holds the other objects that cross-object rules read, as
// the document the engine serves to policies as data.inventory:
//
//	data.inventory.namespaces[<name>]                       Namespace objects
//	data.inventory.objects["<Kind>.<group>"][<ns>][<name>]  mesh objects
//
// Offline it is built from every object in the inputs; in the webhook from an
// informer cache; in audit from the listed objects.
package inventory

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/policy"
)

// meshGroups are the API groups whose objects are kept: the mesh kinds that
// cross-object rules reason about. Workloads are not kept: no rule needs
// other workloads, and they are the bulk of a cluster.
var meshGroups = []string{
	"istio.io",
	"linkerd.io",
	"consul.hashicorp.com",
	"gateway.networking.k8s.io",
}

// Tracked reports whether objects of the kind belong in the inventory.
func Tracked(gk policy.GroupKind) bool {
	if gk.Group == "" && gk.Kind == "Namespace" {
		return true
	}
	for _, g := range meshGroups {
		if gk.Group == g || strings.HasSuffix(gk.Group, "."+g) {
			return true
		}
	}
	return false
}

// Key is the key of a kind under data.inventory.objects: "<Kind>.<group>".
func Key(gk policy.GroupKind) string { return gk.String() }

// Inventory collects objects. It is not safe for concurrent writes.
type Inventory struct {
	namespaces map[string]any
	objects    map[string]map[string]map[string]any
	reads      func(policy.GroupKind) bool
}

// New returns an empty inventory that keeps every kind Tracked accepts.
func New() *Inventory { return For(nil) }

// For returns an empty inventory that keeps only the tracked kinds that reads
// accepts (policy.Engine.ReadsInventory: the kinds the bundle reads from the
// inventory), so that a large input holds no object no rule will look up.
// nil keeps every tracked kind.
func For(reads func(policy.GroupKind) bool) *Inventory {
	return &Inventory{namespaces: map[string]any{}, objects: map[string]map[string]map[string]any{}, reads: reads}
}

// Tracks reports whether the inventory keeps objects of the kind.
func (inv *Inventory) Tracks(gk policy.GroupKind) bool {
	return Tracked(gk) && (inv.reads == nil || inv.reads(gk))
}

// Add records an object if its kind is tracked; it reports whether it did.
// A later object with the same kind, namespace and name replaces the earlier.
func (inv *Inventory) Add(obj map[string]any) bool { return inv.Put(policy.RefOf(obj), obj) }

// Put is Add for an object given with its reference, as a decoded map or a
// ready OPA value (audit converts each listed object once and frees the map).
func (inv *Inventory) Put(ref policy.ObjectRef, obj any) bool {
	gk := ref.GroupKind()
	if !inv.Tracks(gk) || ref.Name == "" {
		return false
	}
	if gk.Group == "" && gk.Kind == "Namespace" {
		inv.namespaces[ref.Name] = obj
		return true
	}
	key := Key(gk)
	byNS := inv.objects[key]
	if byNS == nil {
		byNS = map[string]map[string]any{}
		inv.objects[key] = byNS
	}
	byName := byNS[ref.Namespace]
	if byName == nil {
		byName = map[string]any{}
		byNS[ref.Namespace] = byName
	}
	byName[ref.Name] = obj
	return true
}

// KeyOf is where an object of a tracked kind sits in the inventory document
// (the key of Engine.PutInventory); ok is false for other kinds and for
// objects without a name.
func KeyOf(ref policy.ObjectRef) (key []string, ok bool) {
	gk := ref.GroupKind()
	if !Tracked(gk) || ref.Name == "" {
		return nil, false
	}
	if gk.Group == "" && gk.Kind == "Namespace" {
		return []string{"namespaces", ref.Name}, true
	}
	return []string{"objects", Key(gk), ref.Namespace, ref.Name}, true
}

// Document is the inventory as data.inventory.
func (inv *Inventory) Document() map[string]any {
	objects := make(map[string]any, len(inv.objects))
	for k, byNS := range inv.objects {
		m := make(map[string]any, len(byNS))
		for ns, byName := range byNS {
			m[ns] = byName
		}
		objects[k] = m
	}
	return map[string]any{"namespaces": inv.namespaces, "objects": objects}
}
