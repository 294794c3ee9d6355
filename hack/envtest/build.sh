#!/usr/bin/env bash
# Builds envtest's control-plane binaries (etcd and kube-apiserver) from
# source, through the Go module proxy, into bin/k8s/ of the repository root.
# A binary that is already there is kept, so later runs are instant.
# FORCE=1 rebuilds both. See README.md beside this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/bin/k8s"

# Each module under hack/envtest/ is built on its own: never through a
# workspace, and statically, as the upstream release binaries are.
export GOWORK=off
export CGO_ENABLED=0

tmp_file=""
cleanup() {
	if [[ -n "$tmp_file" ]]; then
		rm -f "$tmp_file"
	fi
}
trap cleanup EXIT

log() {
	echo "envtest: $*"
}

# fresh NAME MODULE_DIR: succeeds when bin/k8s/NAME need not be (re)built.
fresh() {
	local name="$1" dir="$2"
	local dst="$out/$name"
	local stamp="$out/.$name.stamp"
	[[ "${FORCE:-0}" != 1 && -f "$dst" && -x "$dst" ]] || return 1
	# A stamp left by an earlier run that differs means the pinned versions
	# changed since; no stamp means the binary was put there by other means
	# and is kept as it is.
	if [[ -f "$stamp" && "$(cat "$stamp")" != "$(pins "$dir")" ]]; then
		log "$name: pinned versions changed since bin/k8s/$name was built, rebuilding"
		return 1
	fi
	log "$name: present at bin/k8s/$name, skipping (FORCE=1 rebuilds)"
}

pins() {
	cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -d' ' -f1
}

# build NAME MODULE_DIR PACKAGE [LDFLAGS...]
build() {
	local name="$1" dir="$2" pkg="$3"
	shift 3
	local dst="$out/$name"
	local stamp="$out/.$name.stamp"
	local want
	want="$(pins "$dir")"
	log "$name: building $pkg into bin/k8s/$name (this can take several minutes)"
	local start=$SECONDS
	mkdir -p "$out"
	tmp_file="$out/.$name.tmp.$$"
	(cd "$dir" && go build -trimpath -buildvcs=false -ldflags="-s -w $*" -o "$tmp_file" "$pkg")
	"$tmp_file" --version >/dev/null
	chmod 0755 "$tmp_file"
	mv -f "$tmp_file" "$dst"
	tmp_file=""
	echo "$want" >"$stamp.tmp.$$"
	mv -f "$stamp.tmp.$$" "$stamp"
	log "$name: built in $((SECONDS - start))s: $("$dst" --version | head -n 1)"
}

# etcd carries its version in its source; its main package is the tiny
# module in etcd/, as upstream's own main is in the repository root module.
etcd_dir="$here/etcd"
log "etcd: module $(cd "$etcd_dir" && go list -m -f '{{.Path}}@{{.Version}}' go.etcd.io/etcd/server/v3)"
if ! fresh etcd "$etcd_dir"; then
	build etcd "$etcd_dir" github.com/meshguard/meshguard/hack/envtest/etcd
fi

# kube-apiserver takes its version from link-time flags, as Kubernetes'
# own build sets them; without them it reports v0.0.0-master.
kas_dir="$here/kube-apiserver"
kas_version="$(cd "$kas_dir" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
log "kube-apiserver: module k8s.io/kubernetes@$kas_version"
if ! fresh kube-apiserver "$kas_dir"; then
	kas_date="$(cd "$kas_dir" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
	kas_major="${kas_version#v}"
	kas_major="${kas_major%%.*}"
	kas_minor="${kas_version#v*.}"
	kas_minor="${kas_minor%%.*}"
	kas_ldflags=()
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		kas_ldflags+=(
			"-X $p.gitVersion=$kas_version"
			"-X $p.gitMajor=$kas_major"
			"-X $p.gitMinor=$kas_minor"
			"-X $p.gitCommit="
			"-X $p.gitTreeState=archive"
			"-X $p.buildDate=$kas_date"
		)
	done
	build kube-apiserver "$kas_dir" k8s.io/kubernetes/cmd/kube-apiserver "${kas_ldflags[@]}"
fi

log "done: bin/k8s/etcd and bin/k8s/kube-apiserver are ready"
