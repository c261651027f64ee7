// The two builds of the aiohttp client the bench runs, and how to find out what each is.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The shared-session aiohttp client, from two sources. Debian's python3-aiohttp is the
 * build the reference figures come from (5,800 req/s at 173 µs per request at
 * 0 ms, c=100; Debian's 3.8.4 measured 6,159 at 162 in the full run of 7f3e509); the
 * release from PyPI, in .venv, is faster, so the comparison with it is the stricter one.
 * `role` says which is which in the targets check.
 */
export const AIOHTTP = {
  debian: {
    label: 'Debian',
    name: 'aiohttp (Debian), shared session',
    python: '/usr/bin/python3',
    source: "Debian's python3-aiohttp",
    role: "Debian's: the issue's reference",
  },
  pypi: {
    label: 'PyPI',
    name: 'aiohttp (PyPI), shared session',
    python: fileURLToPath(new URL('../../.venv/bin/python', import.meta.url)),
    source: 'PyPI, in .venv',
    role: 'PyPI: stricter',
  },
};

/** The aiohttp and Python versions under `python`, or null when it cannot import aiohttp. */
export function aiohttpVersions(python) {
  const r = spawnSync(
    python,
    ['-c', 'import aiohttp, platform; print(aiohttp.__version__, platform.python_version())'],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) return null;
  const [aiohttp, pythonVersion] = r.stdout.trim().split(' ');
  return { aiohttp, python: pythonVersion };
}
