#!/usr/bin/env bash
# The sandbox demo behind `make demo`: start the simulators, build the provider,
# apply examples/demo with terraform through a dev_overrides CLI config, show
# what Port now holds, prove a second plan is empty, and stop everything.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
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

step "Starting the sandbox Port"
export PORT_CLIENT_ID=demo-client PORT_CLIENT_SECRET=demo-secret
"$work/sandbox" -addr-file "$work/addrs" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$work/addrs" ] && break; sleep 0.1; done
[ -s "$work/addrs" ] || { cat "$work/sandbox.log"; echo "sandbox did not start" >&2; exit 1; }
set -a; source "$work/addrs"; set +a
echo "Port simulator at $PORT_BASE_URL"

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

step "terraform apply"
terraform apply -auto-approve -input=false -no-color 2>&1 | grep -v "Provider development overrides" | sed '/^╷\|^│\|^╵/d'

step "What Port now holds"
curl -fsS "$PORT_BASE_URL/_sandbox/catalog"

step "terraform plan again (expect: No changes)"
terraform plan -input=false -no-color -detailed-exitcode 2>&1 | grep -E "No changes|Plan:" || true
set +e
terraform plan -input=false -no-color -detailed-exitcode >/dev/null 2>&1
code=$?
set -e
if [ "$code" -ne 0 ]; then echo "second plan was not empty (exit $code)" >&2; exit 1; fi

step "Done: stopping the sandbox"
