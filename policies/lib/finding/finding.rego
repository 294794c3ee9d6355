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
new(chain, msg, path) := {"msg": sprintf("%s: %s", [c.id, msg]), "id": c.id, "severity": c.severity, "path": path} if {
	c := [x | some entry in chain; x := entry.annotations.custom; x.id != false][0]
}

# A finding with an explicit severity (rules whose severity depends on the case).
with_severity(chain, msg, path, severity) := {"msg": sprintf("%s: %s", [c.id, msg]), "id": c.id, "severity": severity, "path": path} if {
	c := [x | some entry in chain; x := entry.annotations.custom; x.id != false][0]
}

# Both look up the custom annotations of the first chain entry that has an id
# (c) once per finding, inline: most packages report one finding per object,
# and a helper function, even one that OPA caches by its chain argument, costs
# more on the first finding than it saves on the later ones.
