#!/usr/bin/env bash
# Benchmark `meshguard check` end to end against conftest running the same
# bundle on the same files. The corpus (../shared/corpus, or $MESHGUARD_CORPUS)
# is copied COPIES times so that there are at least 10,000 objects; the two
# deliberately broken files are left out because conftest stops on them.
# Prints objects/s for both and the ratio (best wall time of RUNS runs, 5 by
# default; CONFTEST_RUNS for conftest). Used by `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${MESHGUARD_CORPUS:-../shared/corpus}
copies=${COPIES:-4}
runs=${RUNS:-5}
# conftest takes about 11 minutes per run of the 4 copies: CONFTEST_RUNS sets
# its runs apart (default RUNS).
ct_runs=${CONFTEST_RUNS:-$runs}
work=out/bench-corpus
[[ -d $corpus ]] || { echo "bench-check: corpus $corpus not found" >&2; exit 1; }

rm -rf "$work"; mkdir -p "$work"
for i in $(seq 1 "$copies"); do
  cp -r "$corpus" "$work/copy$i"
done
find "$work" \( -name 'inject_gettest_deployment.bad.input.yml' -o -name 'ipfamilies-policy.yml' \) -delete
objects=$(bin/meshguard check "$work" | sed -n 's/^\([0-9]*\) objects in .*/\1/p' || true)
files=$(find "$work" -type f | wc -l)
echo "corpus: $files files, $objects objects ($copies copies), $(nproc) CPUs, $(go version | cut -d' ' -f3)"

best() { # best wall time in seconds of $1 runs of the command
  local n=$1 best=999999 t
  shift
  for _ in $(seq 1 "$n"); do
    /usr/bin/time -o "$work.time" -f %e "$@" >/dev/null 2>&1 || true; t=$(tail -1 "$work.time")
    best=$(awk -v a="$best" -v b="$t" 'BEGIN{print (b<a)?b:a}')
  done
  echo "$best"
}
mg=$(best "$runs" bin/meshguard check "$work")
ct=$(best "$ct_runs" bin/conftest test --all-namespaces --no-color -p policies "$work")
awk -v n="$objects" -v mg="$mg" -v ct="$ct" 'BEGIN{
  printf "meshguard check: %.2fs  %8.0f objects/s\n", mg, n/mg;
  printf "conftest test:   %.2fs  %8.0f objects/s\n", ct, n/ct;
  printf "ratio: meshguard is %.1fx conftest\n", ct/mg }'
