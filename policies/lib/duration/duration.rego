# METADATA
# title: Durations
# description: |
#   Istio (protobuf JSON, "1.5s"), Gateway API and Linkerd ("1h30m") and Consul
#   (Go) durations are all valid `time.parse_duration_ns` input. An unparsable
#   value is undefined here; "0s" counts as unset.
package meshguard.lib.duration

# Nanoseconds of a duration string; undefined when it does not parse.
ns(d) := time.parse_duration_ns(d)

# The duration is absent or zero. One chain of else branches (it stops at the
# first that holds) that ends in false, so that OPA caches every answer.
unset(obj, key) if {
	not obj[key]
} else if {
	time.parse_duration_ns(obj[key]) == 0
} else := false
