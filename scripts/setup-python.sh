#!/usr/bin/env bash
# Installs a pinned Python tool set into its own venv, relative to the repository root:
#   setup-python.sh             .venv from requirements-dev.txt: moto's S3/SQS/DynamoDB server,
#                               cfn-lint and warcio (the integration tests), aiohttp (the benchmarks);
#   setup-python.sh localstack  .venv-localstack from requirements-localstack.txt: LocalStack,
#                               the integration tests' second S3/SQS emulator.
# The integration tests' set-up (test/support/integration-setup.ts) runs both, the bench
# (bench/run.mjs) the first. It does nothing, quietly, when the venv already holds every
# pinned version (checked in about a tenth of a second, writing nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"

case "${1:-dev}" in
  dev) VENV=.venv REQUIREMENTS=requirements-dev.txt WHAT='moto[server], cfn-lint, aiohttp and warcio' ;;
  localstack) VENV=.venv-localstack REQUIREMENTS=requirements-localstack.txt WHAT='LocalStack (S3, SQS)' ;;
  *)
    echo "fanout setup: unknown tool set '$1' (allowed: dev, localstack)" >&2
    exit 2
    ;;
esac

# True when the venv's Python has every `name==version` of the requirements file installed.
satisfied() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "$REQUIREMENTS" >/dev/null 2>&1 <<'PY'
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
  echo "fanout setup: $PYTHON not found; Python 3 is needed for the integration tests (moto, cfn-lint, LocalStack) and the benchmarks" >&2
  exit 1
fi
echo "fanout setup: installing $WHAT into $VENV (once; $REQUIREMENTS)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
echo "fanout setup: $VENV is ready" >&2
