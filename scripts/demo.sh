#!/usr/bin/env bash
# The sandbox demo behind `make demo`: start the simulators, build the provider,
# apply examples/demo with terraform through a dev_overrides CLI config, show
# what Port now holds, prove a second plan is empty, and stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
sandbox_pid=""
listener_pid=""
cleanup() {
	[ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null && wait "$listener_pid" 2>/dev/null
	[ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Building the provider and the sandbox"
mkdir -p "$work/bin"
go build -ldflags "-X github.com/harborport/terraform-provider-harborport/internal/version.Version=0.1.0-demo" \
	-o "$work/bin/terraform-provider-harborport" .
go build -o "$work/sandbox" ./internal/sandbox/cmd/sandbox

step "Starting the sandbox Port and Harbor"
export PORT_CLIENT_ID=demo-client PORT_CLIENT_SECRET=demo-secret HARBOR_USERNAME=admin HARBOR_PASSWORD=Harbor12345
"$work/sandbox" -addr-file "$work/addrs" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$work/addrs" ] && break; sleep 0.1; done
[ -s "$work/addrs" ] || { cat "$work/sandbox.log"; echo "sandbox did not start" >&2; exit 1; }
set -a; source "$work/addrs"; set +a
echo "Port simulator at $PORT_BASE_URL, Harbor simulator at $HARBOR_URL"

step "Starting the listener: terraform-provider-harborport serve"
export HARBORPORT_WEBHOOK_SECRET="Bearer demo-webhook-secret-0123456789"
"$work/bin/terraform-provider-harborport" serve --listen 127.0.0.1:0 --data-dir "$work/spool" --log-format text \
	>"$work/listener.log" 2>&1 &
listener_pid=$!
for _ in $(seq 100); do grep -q 'msg=listening' "$work/listener.log" && break; sleep 0.1; done
listener_addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$work/listener.log" | sed -n 1p)
[ -n "$listener_addr" ] || { cat "$work/listener.log"; echo "listener did not start" >&2; exit 1; }
echo "listener at http://$listener_addr (spool in $work/spool)"
export TF_VAR_listener_url="http://$listener_addr" TF_VAR_webhook_secret="$HARBORPORT_WEBHOOK_SECRET"

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/harborport/harborport" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cp examples/demo/*.tf "$work/"
cd "$work"

# terraform without its dev_overrides banner (a warning box naming the local provider build).
tf() {
	local cmd=$1; shift
	terraform "$cmd" -input=false -no-color "$@" 2>&1 | awk '
		/Warning: Provider development overrides are in effect/ { skip = 1 }
		skip && /^releases\.$/ { skip = 0; next }
		!skip'
	return "${PIPESTATUS[0]}"
}

step "terraform apply: blueprints, the first full sync (the warning previews it), webhooks"
tf apply -auto-approve

step "What Port now holds"
curl -fsS "$PORT_BASE_URL/_sandbox/catalog"

sim() { curl -fsS -X POST "$HARBOR_URL/_sim/$1" -H 'Content-Type: application/json' -d "${2:-{\}}"; }

step "Webhook deliveries paused: a new image is pushed to Harbor and scanned"
sim webhooks/pause >/dev/null
digest=$(curl -fsS -X POST "$HARBOR_URL/_sim/push" -H 'Content-Type: application/json' \
	-d '{"project":"platform","repo":"web","tags":["1.5.0"]}' | sed 's/.*"digest":"\([^"]*\)".*/\1/')
curl -fsS -X POST "$HARBOR_URL/_sim/scan" -H 'Content-Type: application/json' \
	-d "{\"project\":\"platform\",\"repo\":\"web\",\"digest\":\"$digest\",\"counts\":{\"Medium\":1}}" >/dev/null
echo "pushed platform/web@$digest"

step "terraform plan: exactly what the sync would change"
tf plan -out=sync.tfplan

step "terraform apply sync.tfplan: exactly that"
tf apply sync.tfplan
sim webhooks/resume >/dev/null

step "Real time: an image is pushed while the listener runs"
start=$(date +%s%N)
digest=$(sim push '{"project":"payments","repo":"ledger-api","tags":["v3.1.0"]}' | sed 's/.*"digest":"\([^"]*\)".*/\1/')
id="payments/ledger-api@$digest"
# in_port DIGEST: whether Port's catalog holds it (read whole first: grep -q
# closing the pipe early would make curl complain).
in_port() { curl -fsS -o "$work/catalog.json" "$PORT_BASE_URL/_sandbox/catalog" && grep -q "$1" "$work/catalog.json"; }
for _ in $(seq 200); do
	in_port "$digest" && break
	sleep 0.05
done
in_port "$digest" || { cat "$work/listener.log"; echo "the push did not reach Port" >&2; exit 1; }
echo "harborArtifact/$id is in Port $(( ($(date +%s%N) - start) / 1000000 )) ms after the push"
sim artifacts/delete "{\"project\":\"payments\",\"repo\":\"ledger-api\",\"digest\":\"$digest\"}" >/dev/null
for _ in $(seq 200); do
	in_port "$digest" || break
	sleep 0.05
done
in_port "$digest" && { echo "the delete did not reach Port" >&2; exit 1; }
echo "deleted in Harbor → gone from Port"
echo "listener log (last lines):"
grep -E 'webhook accepted|port updated' "$work/listener.log" | tail -6 | sed 's/^/  /'

step "terraform plan again (expect: No changes)"
terraform plan -input=false -no-color -detailed-exitcode 2>&1 | grep -E "No changes|Plan:" || true
set +e
terraform plan -input=false -no-color -detailed-exitcode >/dev/null 2>&1
code=$?
set -e
if [ "$code" -ne 0 ]; then echo "second plan was not empty (exit $code)" >&2; exit 1; fi

step "Done: stopping the sandbox"
