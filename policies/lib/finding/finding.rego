# METADATA
# title: Finding constructor
# description: |
#   Builds the finding every rule returns:
#   {"msg": "<RULE-ID>: <text>", "id", "severity", "path"}.
#   `path` is the offending field as an array of keys and indices,
#   e.g. ["spec", "http", 0, "timeout"]. The id and default severity come
#   from the METADATA of the calling package (pass rego.metadata.chain()).
package meshguard.lib.finding

# A finding with the package's default severity.
new(chain, msg, path) := with_severity(chain, msg, path, _custom(chain).severity)

# A finding with an explicit severity (rules whose severity depends on the case).
with_severity(chain, msg, path, severity) := {
	"msg": sprintf("%s: %s", [_custom(chain).id, msg]),
	"id": _custom(chain).id,
	"severity": severity,
	"path": path,
}

_custom(chain) := [c |
	some entry in chain
	c := entry.annotations.custom
	c.id
][0]
