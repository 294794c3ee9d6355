# METADATA
# title: Durations
# description: |
#   Istio (protobuf JSON, "1.5s"), Gateway API and Linkerd ("1h30m") and Consul
#   (Go) durations are all valid `time.parse_duration_ns` input. An unparsable
#   value is undefined here; "0s" counts as unset.
package meshguard.lib.duration

# Nanoseconds of a duration string; undefined when it does not parse.
ns(d) := time.parse_duration_ns(d)

# The duration is absent or zero.
unset(obj, key) if not obj[key]

unset(obj, key) if ns(obj[key]) == 0
