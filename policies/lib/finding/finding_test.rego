package meshguard.lib.finding_test

import data.meshguard.lib.finding

# A chain as rego.metadata.chain() returns it: the rule first, then the package.
_chain := [
	{"path": ["meshguard", "istio", "x", "deny"], "annotations": {"scope": "rule", "custom": {"note": "no id here"}}},
	{"path": ["meshguard", "istio", "x"], "annotations": {
		"scope": "package",
		"title": "X",
		"custom": {"id": "ISTIO-X-001", "severity": "high", "kinds": []},
	}},
]

test_new_uses_package_id_and_severity if {
	finding.new(_chain, "something is wrong", ["spec", "x", 0]) == {
		"msg": "ISTIO-X-001: something is wrong",
		"id": "ISTIO-X-001",
		"severity": "high",
		"path": ["spec", "x", 0],
	}
}

test_with_severity_overrides_default if {
	finding.with_severity(_chain, "much worse", ["spec"], "critical") == {
		"msg": "ISTIO-X-001: much worse",
		"id": "ISTIO-X-001",
		"severity": "critical",
		"path": ["spec"],
	}
}

test_first_entry_with_an_id_wins if {
	chain := [
		{"annotations": {"custom": {"id": "RULE-LEVEL-001", "severity": "low"}}},
		{"annotations": {"custom": {"id": "PACKAGE-001", "severity": "high"}}},
	]
	finding.new(chain, "m", []) == {"msg": "RULE-LEVEL-001: m", "id": "RULE-LEVEL-001", "severity": "low", "path": []}
}

test_undefined_without_an_id if {
	not finding.new([{"annotations": {"custom": {"severity": "high"}}}, {"annotations": {}}], "m", [])
	not finding.new([], "m", [])
}
