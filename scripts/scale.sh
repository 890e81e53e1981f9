#!/usr/bin/env bash
# Terraform-level scale check (internal/catalog/BENCHMARKS.md, "Scale: one
# million artifacts"). Builds the provider and the sandbox, seeds Harbor, and
# runs through the real terraform binary:
#
#   1. apply              the first sync (blueprints + every entity created)
#   2. plan               a no-op plan (must say "No changes")
#   3. plan -out          a full-drift plan: Port's artifacts are deleted first,
#                         so every artifact is pending again
#   4. apply <plan>       applying that saved plan
#   5. serve              the listener's periodic resync over the same catalog
#
# and prints, per step, the wall time, the peak RSS of the provider process
# (and of terraform, and of the sandbox overall) and the plan file's size.
#
#   scripts/scale.sh                 # ~100k artifacts (24x100x61)
#   SEED=120x100x120 scripts/scale.sh   # ~1M artifacts (about 20 minutes, ~8 GB RAM for the simulators)
#
# Not part of CI. Needs Go, terraform on the PATH and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

SEED=${SEED:-24x100x61}
WORK=${WORK:-$(mktemp -d /tmp/harborport-scale.XXXXXX)}
TIMEOUT_S=${TIMEOUT_S:-7200}
command -v terraform >/dev/null || { echo "scale.sh: terraform is not on PATH" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "scale.sh: GNU time (/usr/bin/time) is needed to measure peak RSS" >&2; exit 1; }

echo "scale.sh: seed $SEED, work dir $WORK"
mkdir -p "$WORK/bin" "$WORK/real" "$WORK/tf"
go build -o "$WORK/real/terraform-provider-harborport" .
go build -o "$WORK/sandbox" ./internal/sandbox/cmd/sandbox

# terraform starts the provider through this wrapper (dev_overrides), so GNU
# time records each provider process's peak RSS ("%M" KiB) in rss.log.
cat >"$WORK/bin/terraform-provider-harborport" <<EOF
#!/usr/bin/env bash
exec /usr/bin/time -a -o "$WORK/rss.log" -f "provider %M %e" "$WORK/real/terraform-provider-harborport" "\$@"
EOF
chmod +x "$WORK/bin/terraform-provider-harborport"
cat >"$WORK/dev.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/harborport/harborport" = "$WORK/bin"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$WORK/dev.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

echo "scale.sh: starting the sandbox and seeding Harbor (a minute per million artifacts)"
"$WORK/sandbox" -demo-data=false -harbor-no-library -harbor-seed "$SEED" -harbor-seed-users 5 \
	-port-client-id scale-id -port-client-secret scale-secret -addr-file "$WORK/addr" >"$WORK/sandbox.log" 2>&1 &
SANDBOX=$!
LISTENER=
cleanup() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null || true
	kill "$SANDBOX" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 1800); do
	if [ -s "$WORK/addr" ] && grep -q HARBOR_URL "$WORK/addr"; then break; fi
	kill -0 "$SANDBOX" 2>/dev/null || { cat "$WORK/sandbox.log" >&2; exit 1; }
	sleep 1
done
# shellcheck disable=SC1091
. "$WORK/addr"
export HARBOR_URL PORT_BASE_URL HARBOR_USERNAME=admin HARBOR_PASSWORD=Harbor12345 \
	PORT_CLIENT_ID=scale-id PORT_CLIENT_SECRET=scale-secret

cat >"$WORK/tf/main.tf" <<'EOF'
terraform {
  required_providers {
    harborport = { source = "harborport/harborport" }
  }
}

provider "harborport" {}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}
EOF

rows=()
# step NAME ARGS...: runs terraform ARGS, records wall time and peak RSS.
step() {
	local name=$1
	shift
	: >"$WORK/rss.log"
	local start end rc=0
	start=$(date +%s.%N)
	# terraform's own peak RSS is polled from /proc (GNU time would report
	# the largest of terraform and its plugin children).
	terraform -chdir="$WORK/tf" "$@" >"$WORK/$name.out" 2>&1 &
	local tf=$! hwm=0 deadline=$(($(date +%s) + TIMEOUT_S))
	while kill -0 "$tf" 2>/dev/null; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "scale.sh: terraform $* took over ${TIMEOUT_S}s" >&2; kill "$tf"; exit 1; }
		local kb
		kb=$(awk '/VmHWM/{print $2}' "/proc/$tf/status" 2>/dev/null || true)
		[ -n "$kb" ] && [ "$kb" -gt "$hwm" ] && hwm=$kb
		sleep 0.2
	done
	wait "$tf" || rc=$?
	if [ "$rc" != 0 ]; then
		# plan -detailed-exitcode: 2 means changes, which is what a drift plan must say.
		if [ "$name" != "drift-plan" ] || [ "$rc" != 2 ]; then
			echo "scale.sh: terraform $* failed (exit $rc):" >&2
			tail -30 "$WORK/$name.out" >&2
			exit 1
		fi
	fi
	end=$(date +%s.%N)
	local prss
	prss=$(awk '$1=="provider"{if($2>m)m=$2}END{printf "%.0f", m/1024}' "$WORK/rss.log")
	local tfrss=$((hwm / 1024))
	local size="-"
	if [ -f "$WORK/tf/drift.tfplan" ] && [ "$name" = "drift-plan" ]; then
		size=$(du -m "$WORK/tf/drift.tfplan" | cut -f1)" MB"
	fi
	rows+=("$(printf '%-18s %9.1f s %12s MB %12s MB %12s' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$prss" "$tfrss" "$size")")
	echo "scale.sh: ${rows[-1]}"
}

echo "scale.sh: 1. first sync (apply)"
step first-apply apply -auto-approve -input=false
echo "scale.sh: 2. no-op plan"
step noop-plan plan -input=false -detailed-exitcode
grep -q "No changes" "$WORK/noop-plan.out" || { echo "scale.sh: the no-op plan found changes" >&2; tail -20 "$WORK/noop-plan.out" >&2; exit 1; }
echo "scale.sh: 3. full drift: Port's artifacts deleted, then plan -out"
curl -fsS -X POST "$PORT_BASE_URL/_sandbox/clear?blueprint=harborArtifact" >"$WORK/cleared"
echo "scale.sh:    $(cat "$WORK/cleared") artifact entities deleted from Port"
step drift-plan plan -input=false -detailed-exitcode -out=drift.tfplan
echo "scale.sh: 4. apply the saved plan"
step drift-apply apply -input=false drift.tfplan
echo "scale.sh: 5. the listener's periodic resync (first one after 1 minute)"
start=$(date +%s)
"$WORK/real/terraform-provider-harborport" serve --listen 127.0.0.1:0 --data-dir "$WORK/spool" --insecure-no-auth \
	--resync-interval 1m --audit-poll-interval 0 --log-format text >"$WORK/serve.log" 2>&1 &
LISTENER=$!
for _ in $(seq 1 3600); do
	grep -q "periodic resync done" "$WORK/serve.log" && break
	kill -0 "$LISTENER" 2>/dev/null || { tail -20 "$WORK/serve.log" >&2; exit 1; }
	sleep 1
done
srss=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$LISTENER/status")
resync=$(grep -o 'periodic resync done.*' "$WORK/serve.log" | head -1)
kill "$LISTENER"
LISTENER=
rows+=("$(printf '%-18s %9s   %12s MB %12s    %12s' "serve resync" "$(( $(date +%s) - start - 60 ))s*" "$srss" "-" "-")")

sbx=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$SANDBOX/status")
artifacts=$(curl -fsS "$PORT_BASE_URL/_sandbox/catalog" | awk '/blueprint harborArtifact/{for(i=1;i<=NF;i++) if($i=="entities:") print $(i+1)}')
echo
echo "harborport scale check: seed $SEED, $artifacts artifact entities, simulators at 0 ms latency (sandbox peak RSS $sbx MB)"
printf '%-18s %11s %15s %15s %14s\n' step wall "provider RSS" "terraform RSS" "plan file"
for r in "${rows[@]}"; do echo "$r"; done
echo "* serve resync: time after the 1-minute interval until 'periodic resync done'; RSS is the serve process's peak"
echo "  $resync"
