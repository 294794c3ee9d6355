// Package version holds the binary version, set at build time with
// -ldflags "-X github.com/meshguard/meshguard/internal/version.Version=v1.2.3".
package version

import "runtime/debug"

// Version of the binary; "dev" for untagged builds.
var Version = "dev"

// String is the version with the VCS revision when the build recorded one.
func String() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
