#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the module for ${FUZZTIME:-60s} each,
# one after the other, and fails on any finding (see internal/FUZZING.md).
#
#   FUZZTIME=60s        per target (any -fuzztime value: 30s, 10000x, ...)
#   FUZZPARALLEL=1      fuzz workers per target (keep 1 on a shared 2-core box)
#   FUZZPKGS="./internal/..."  packages to search for Fuzz functions
#   FUZZRUN=Regexp      only targets whose name matches
#
# Targets are discovered with `go test -list`, so a new Fuzz function is
# picked up without editing this script. A finding makes `go test` fail and
# writes the input to <pkg>/testdata/fuzz/<Target>/; fix the product code,
# keep the file (it then runs in every plain `go test`) and add a named test.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-60s}
FUZZPARALLEL=${FUZZPARALLEL:-1}
FUZZPKGS=${FUZZPKGS:-./internal/...}
FUZZRUN=${FUZZRUN:-.}

# Seed corpora first: every committed input must pass as a regular test.
if ! seeds=$(go test -count=1 -run '^Fuzz' ${FUZZPKGS} 2>&1); then
	echo "$seeds" | grep -v -e '^ok ' -e '^? ' >&2
	echo "fuzz.sh: a committed seed fails; fix it before fuzzing" >&2
	exit 1
fi
module=$(go list -m)

mapfile -t targets < <(
	for pkg in $(go list ${FUZZPKGS}); do
		go test -list '^Fuzz' "$pkg" 2>/dev/null | grep -E '^Fuzz' | grep -E -- "${FUZZRUN}" | sed "s|^|${pkg} |"
	done
)
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found in ${FUZZPKGS}" >&2
	exit 1
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
failed=()
summary=()
for t in "${targets[@]}"; do
	pkg=${t% *}
	name=${t#* }
	short=${pkg#"$module"/}
	echo "=== ${name} (${pkg}) for ${FUZZTIME}"
	out="$log/${name}.log"
	go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel "$FUZZPARALLEL" 2>&1 | tee "$out" | grep -v '^fuzz: elapsed' || true
	rc=${PIPESTATUS[0]}
	execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		summary+=("$(printf '%-20s %-18s FAIL  execs=%s' "$name" "$short" "${execs:-?}")")
	else
		summary+=("$(printf '%-20s %-18s ok    execs=%s' "$name" "$short" "${execs:-?}")")
	fi
done

echo
echo "fuzz summary (${FUZZTIME} each):"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
	echo "fuzz.sh: findings in: ${failed[*]} (inputs written under <pkg>/testdata/fuzz/)" >&2
	exit 1
fi
