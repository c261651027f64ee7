#!/usr/bin/env bash
# Installs the Python tools of requirements-dev.txt into .venv: moto's S3/SQS/DynamoDB server
# and cfn-lint (the integration tests), and the aiohttp bench client (the benchmarks).
# The integration tests' set-up (test/support/integration-setup.ts) and the bench
# (bench/run.mjs) run it; it does nothing, quietly, while requirements-dev.txt is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
STAMP=.venv/.requirements-dev.sha256
WANT="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x .venv/bin/moto_server ]; then
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "fanout setup: $PYTHON not found; Python 3 is needed for the integration tests (moto, cfn-lint) and the benchmarks" >&2
  exit 1
fi
echo "fanout setup: installing moto[server], cfn-lint and aiohttp into .venv (once; requirements-dev.txt)" >&2
"$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "$WANT" > "$STAMP"
echo "fanout setup: .venv is ready" >&2
