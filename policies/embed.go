// Package policies embeds meshguard's built-in Rego bundle so that every
// binary carries the same rules. The bundle root is this directory: its
// .manifest names the revision, lib/ holds shared helpers and each rule lives
// in <mesh>/<area>_<nnn>/policy.rego with its tests beside it.
package policies

import "embed"

// FS is the built-in bundle: the .manifest and every directory here (lib and
// one per mesh: istio, linkerd, consul, gwapi), with every .rego file, and
// bundle.snapshot when `make snapshot` has written it (the bundle compiled and
// planned ahead of time, see pkg/policy/snapshot.go).
//
//go:embed .manifest *
var FS embed.FS
