#!/usr/bin/env python3
"""Fallback for `/usr/bin/time -f '%e %M %U %S' -o OUT CMD...` when GNU time is absent.

    python3 bench/measure.py OUT CMD [ARGS...]

Runs CMD, writes "<wall seconds> <peak RSS KiB> <user seconds> <system seconds>"
to OUT (same format scan.sh asks GNU time for) and exits with CMD's exit status.
Peak RSS and CPU times come from wait4()'s rusage: the child's (and those of any
descendants it waited for).
"""
import os
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print("measure.py: %s: %s" % (cmd[0], e), file=sys.stderr)
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    with open(out, "w") as f:
        f.write("%.3f %d %.2f %.2f\n" % (wall, ru.ru_maxrss, ru.ru_utime, ru.ru_stime))  # Linux: ru_maxrss is in KiB
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)


if __name__ == "__main__":
    main()
