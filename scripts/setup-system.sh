#!/usr/bin/env bash
# Installs the Debian tools some tests and benchmarks use: Chromium (the report is checked in a
# headless browser), wrk (the benchmarks' throughput ceiling) and python3-aiohttp (the aiohttp
# build the benchmark targets were set against, run with Debian's /usr/bin/python3). Runs from
# `npm ci` (postinstall).
# Needs root and apt-get; without them it says what is missing and leaves the install to you.
set -euo pipefail

want=()
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v wrk >/dev/null 2>&1 || want+=(wrk)
/usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 || want+=(python3-aiohttp)
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "fanout setup: ${want[*]} not installed and apt-get is not usable here; install them" \
    "yourself (the report test and the benchmarks need them; in CI they are required)" >&2
  exit 0
fi
echo "fanout setup: installing ${want[*]} with apt-get (once)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
