#!/usr/bin/env bash
# Fails when a comment, doc, template or script cites a document that is not in the
# repository, a section name its heading list lacks, a section by number, or ../shared.
# Offline and fast (a Go program, scripts/docrefs; its tests plant bad references).
# Run by `make lint` and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/docrefs "$@"
