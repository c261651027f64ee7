#!/usr/bin/env bash
# Installs the Debian packages named as arguments, those not installed yet:
#   chromium         the report test checks the HTML report in headless Chromium
#   wrk              the benchmarks' throughput ceiling
#   python3-aiohttp  the aiohttp build the benchmark targets were set against (Debian's python3)
# The integration tests' set-up asks for chromium, the bench for wrk and python3-aiohttp.
# It does nothing, quietly, when they are installed. It needs root and apt-get; without
# them it says what is missing and leaves the install to you (the tests that need a
# missing package then fail, saying so).
set -euo pipefail

installed() {
  case "$1" in
    chromium) command -v chromium >/dev/null 2>&1 ;;
    wrk) command -v wrk >/dev/null 2>&1 ;;
    python3-aiohttp) /usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 ;;
    *)
      echo "fanout setup: unknown package '$1' (known: chromium, wrk, python3-aiohttp)" >&2
      exit 2
      ;;
  esac
}

want=()
for package in "$@"; do
  installed "$package" || want+=("$package")
done
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "fanout setup: ${want[*]} not installed and apt-get is not usable here (it needs root);" \
    "install them yourself" >&2
  exit 0
fi
echo "fanout setup: installing ${want[*]} with apt-get (once)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
echo "fanout setup: installed ${want[*]}" >&2
