package meshguard.istio.egress_001_test

import data.meshguard.istio.egress_001

_se(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "ServiceEntry",
	"metadata": {"name": "db", "namespace": "shop"},
	"spec": object.union({"hosts": ["db.partner.example.com"]}, spec),
}

_pg := [{"number": 5432, "name": "tcp-pg", "protocol": "TCP"}]

_f(text, path) := {
	"msg": sprintf("ISTIO-EGRESS-001: ServiceEntry shop/db %s", [text]),
	"id": "ISTIO-EGRESS-001",
	"severity": "high",
	"path": path,
}

_no_addresses(ports) := sprintf("has resolution NONE and no addresses, so traffic to any IP is allowed on %s; set resolution DNS or list the addresses", [ports])

# RULES.md violating example, in every served version.
test_deny_resolution_none_without_addresses if {
	every v in ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"] {
		egress_001.deny == {_f(_no_addresses("port 5432"), ["spec", "resolution"])} with input as _se(v, {"ports": _pg, "location": "MESH_EXTERNAL", "resolution": "NONE"})
	}
}

# location and resolution default to MESH_EXTERNAL and NONE; the finding
# then points at the spec.
test_deny_defaults if {
	egress_001.deny == {_f(_no_addresses("port 5432"), ["spec"])} with input as _se("networking.istio.io/v1", {"ports": _pg})
}

# Ports sorted by number; HTTP ports are routed by host, so they are left out.
test_deny_names_tcp_tls_and_protocol_less_ports if {
	ports := [
		{"number": 8443, "name": "tls", "protocol": "tls"},
		{"number": 80, "name": "http", "protocol": "HTTP"},
		{"number": 9000, "name": "raw"},
		{"number": 5432, "name": "tcp-pg", "protocol": "TCP"},
	]
	egress_001.deny == {_f(_no_addresses("ports 5432, 8443, 9000"), ["spec", "resolution"])} with input as _se("networking.istio.io/v1", {"ports": ports, "resolution": "NONE", "addresses": []})
}

test_deny_any_ip_addresses if {
	spec := {"ports": _pg, "addresses": ["10.0.0.0/8", "0.0.0.0/0", "::/0"]}
	egress_001.deny == {
		_f("has resolution NONE and address 0.0.0.0/0, so traffic to any IP is allowed on port 5432; list only the external IP ranges", ["spec", "addresses", 1]),
		_f("has resolution NONE and address ::/0, so traffic to any IP is allowed on port 5432; list only the external IP ranges", ["spec", "addresses", 2]),
	} with input as _se("networking.istio.io/v1", spec)
}

# RULES.md compliant example and the other ways out.
test_allow_pinned_or_resolved if {
	egress_001.deny == set() with input as _se("networking.istio.io/v1", {"ports": _pg, "location": "MESH_EXTERNAL", "resolution": "DNS"})
	egress_001.deny == set() with input as _se("networking.istio.io/v1", {"ports": _pg, "resolution": "NONE", "addresses": ["203.0.113.0/24"]})
	egress_001.deny == set() with input as _se("networking.istio.io/v1", {"ports": _pg, "location": "MESH_INTERNAL", "resolution": "NONE"})
	egress_001.deny == set() with input as _se("networking.istio.io/v1", {"ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})
	allocated := object.union(_se("networking.istio.io/v1", {"ports": _pg}), {"status": {"addresses": [{"host": "db.partner.example.com", "value": "240.240.0.1"}]}})
	egress_001.deny == set() with input as allocated
	egress_001.deny == {_f(_no_addresses("port 5432"), ["spec"])} with input as object.union(allocated, {"status": {"addresses": []}})
	not egress_001.warn with input as _se("networking.istio.io/v1", {"ports": _pg})
}

test_other_kinds_are_not_judged if {
	other := object.union(_se("networking.istio.io/v1", {"ports": _pg}), {"kind": "WorkloadEntry"})
	egress_001.deny == set() with input as other
	egress_001.deny == set() with input as object.union(_se("networking.istio.io/v1", {"ports": _pg}), {"apiVersion": "example.com/v1"})
}

test_judges_the_object_of_an_admission_review if {
	review := {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE", "object": _se("networking.istio.io/v1", {"ports": _pg})}}
	egress_001.deny == {_f(_no_addresses("port 5432"), ["spec"])} with input as review
}

# The engine has already matched the kind (kube.indexed).
test_deny_when_indexed_by_the_engine if {
	egress_001.deny == {_f(_no_addresses("port 5432"), ["spec"])} with input as _se("networking.istio.io/v1", {"ports": _pg})
		with data.meshguard.engine.indexed as true
}
