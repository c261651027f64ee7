"""Runs a command and reports what it cost, as one JSON line on fd 3 (or stderr).

    python3 bench/rusage.py CMD [ARG...]

Reported: wall seconds from spawn to exit, user and system CPU seconds and peak RSS
of that process (os.wait4, the kernel's own accounting), and its exit code. The
command's stdout and stderr pass through untouched.
"""

import json
import os
import subprocess
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    if not argv:
        print("usage: rusage.py CMD [ARG...]", file=sys.stderr)
        return 2
    started = time.monotonic()
    child = subprocess.Popen(argv)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    report = {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        # ru_maxrss is in KiB on Linux.
        "maxRssBytes": usage.ru_maxrss * 1024,
        "exitCode": os.waitstatus_to_exitcode(status),
    }
    line = json.dumps(report) + "\n"
    try:
        os.write(3, line.encode())
    except OSError:
        sys.stderr.write(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
