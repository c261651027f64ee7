#!/usr/bin/env bash
# Installs the Python test tools (moto's S3/SQS/DynamoDB server, cfn-lint, the aiohttp bench client) into .venv.
# Runs from `npm ci` (postinstall); skips the install when requirements-dev.txt has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
STAMP=.venv/.requirements-dev.sha256
WANT="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x .venv/bin/moto_server ]; then
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "fanout setup: $PYTHON not found; Python 3 is needed for the integration tests (moto) and cfn-lint" >&2
  exit 1
fi
echo "fanout setup: installing moto[server] and cfn-lint into .venv (once)" >&2
"$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "$WANT" > "$STAMP"
