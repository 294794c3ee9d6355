package policy

import "strings"

// irregularResources are the resource names of covered kinds that the
// English plural of the kind gets wrong (consul-k8s
// control-plane/config/crd/bases names them).
var irregularResources = map[GroupKind]string{
	{Group: "consul.hashicorp.com", Kind: "ServiceIntentions"}: "serviceintentions",
	{Group: "consul.hashicorp.com", Kind: "ServiceDefaults"}:   "servicedefaults",
	{Group: "consul.hashicorp.com", Kind: "ProxyDefaults"}:     "proxydefaults",
}

// Resource is the plural resource name of the kind as its API (a built-in
// type or the upstream CRD) serves it: what webhook configuration rules and
// RBAC name. It is the lower-case English plural of the kind
// (Gateway → gateways, Mesh → meshes, ServiceEntry → serviceentries), apart
// from the few upstream CRDs whose plural is their singular. Where a cluster
// is at hand, discovery is the authority; this is for configuration written
// ahead of time (the Helm chart, the test webhook configurations).
func (gk GroupKind) Resource() string {
	if r, ok := irregularResources[gk]; ok {
		return r
	}
	s := strings.ToLower(gk.Kind)
	switch {
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "z"),
		strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}
