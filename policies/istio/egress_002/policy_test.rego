package meshguard.istio.egress_002_test

import data.meshguard.istio.egress_002

_se(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "ServiceEntry",
	"metadata": {"name": "aws", "namespace": "shop"},
	"spec": object.union({"ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], "resolution": "DNS"}, spec),
}

_f(text, path) := {
	"msg": sprintf("ISTIO-EGRESS-002: ServiceEntry shop/aws %s", [text]),
	"id": "ISTIO-EGRESS-002",
	"severity": "medium",
	"path": path,
}

_wildcard(host, i) := _f(sprintf("allows the wildcard host %s, which admits any host of that domain; list the exact hosts", [host]), ["spec", "hosts", i])

_no_export := _f("sets no exportTo, so every namespace can use it; set exportTo [\".\"] or the namespaces that need it", ["spec"])

# RULES.md violating example (no exportTo either), in every served version.
test_warn_provider_wildcard_and_missing_export if {
	every v in ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"] {
		egress_002.warn == {_wildcard("*.amazonaws.com", 0), _no_export} with input as _se(v, {"hosts": ["*.amazonaws.com"], "resolution": "DYNAMIC_DNS"})
	}
	not egress_002.deny with input as _se("networking.istio.io/v1", {"hosts": ["*.amazonaws.com"]})
}

test_warn_short_wildcards if {
	hosts := ["*", "*.com", "*.example.com", "*.api.example.com", "api.example.com"]
	egress_002.warn == {_wildcard("*", 0), _wildcard("*.com", 1), _wildcard("*.example.com", 2)} with input as _se("networking.istio.io/v1", {"hosts": hosts, "exportTo": ["."]})
}

# A listed provider domain is broad however many labels it has; the list is
# a parameter and compared case-insensitively.
test_warn_listed_provider_domains if {
	spec := {"hosts": ["*.s3.amazonaws.com", "*.blob.core.windows.net", "*.eu.example.com"], "exportTo": ["."]}
	egress_002.warn == {_wildcard("*.s3.amazonaws.com", 0), _wildcard("*.blob.core.windows.net", 1)} with input as _se("networking.istio.io/v1", spec)
	egress_002.warn == {_wildcard("*.eu.example.com", 2)} with input as _se("networking.istio.io/v1", spec)
		with data.meshguard.config as {"istio": {"broadWildcardDomains": ["EU.example.com"]}}
}

test_warn_export_to_everyone if {
	egress_002.warn == {_f("is exported to every namespace (\"*\"); export it to \".\" or the namespaces that need it", ["spec", "exportTo", 1])} with input as _se("networking.istio.io/v1", {"hosts": ["s3.eu-west-1.amazonaws.com"], "exportTo": [".", "*"]})
}

# RULES.md compliant example; MESH_INTERNAL entries are in-mesh services.
test_allow_exact_hosts_exported_narrowly if {
	egress_002.warn == set() with input as _se("networking.istio.io/v1", {"hosts": ["s3.eu-west-1.amazonaws.com"], "exportTo": ["."]})
	egress_002.warn == set() with input as _se("networking.istio.io/v1", {"hosts": ["*.payments.svc.example.com"], "exportTo": ["payments", "shop"]})
	egress_002.warn == set() with input as _se("networking.istio.io/v1", {"hosts": ["*.com"], "location": "MESH_INTERNAL"})
}

test_other_kinds_are_not_judged if {
	egress_002.warn == set() with input as object.union(_se("networking.istio.io/v1", {"hosts": ["*.com"]}), {"kind": "Sidecar"})
}

# The engine has already matched the kind (kube.indexed).
test_warn_when_indexed_by_the_engine if {
	egress_002.warn == {_no_export} with input as _se("networking.istio.io/v1", {"hosts": ["s3.eu-west-1.amazonaws.com"]})
		with data.meshguard.engine.indexed as true
}
