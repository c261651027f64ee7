#!/usr/bin/env bash
# Installs the Python tools of requirements-dev.txt into .venv: moto's S3/SQS/DynamoDB server
# and cfn-lint (the integration tests), and the aiohttp bench client (the benchmarks).
# The integration tests' set-up (test/support/integration-setup.ts) and the bench
# (bench/run.mjs) run it. It does nothing, quietly, when .venv already holds every pinned
# version (checked in about a tenth of a second, writing nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"

# True when .venv's Python has every `name==version` of requirements-dev.txt installed.
satisfied() {
  [ -x .venv/bin/python ] || return 1
  .venv/bin/python - requirements-dev.txt >/dev/null 2>&1 <<'PY'
import re, sys
from importlib.metadata import PackageNotFoundError, version
for line in open(sys.argv[1]):
    line = line.split('#')[0].strip()
    if not line:
        continue
    pinned = re.fullmatch(r'([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)', line)
    try:
        if pinned is None or version(pinned.group(1)) != pinned.group(3):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

satisfied && exit 0
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "fanout setup: $PYTHON not found; Python 3 is needed for the integration tests (moto, cfn-lint) and the benchmarks" >&2
  exit 1
fi
echo "fanout setup: installing moto[server], cfn-lint and aiohttp into .venv (once; requirements-dev.txt)" >&2
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "fanout setup: .venv is ready" >&2
