#!/usr/bin/env python3
"""runner.py — what every harness user shares: the log line, the two ways a
test ends early (Fail, Skip), 'not yet' for waits, and main_test, which turns
a test function into meson's exit statuses (0 pass, 1 fail, 77 skip).

Python 3 standard library only.
"""

import os
import subprocess
import sys
import time

EXIT_SKIP = 77  # meson: test skipped

T0 = time.monotonic()


class Fail(Exception):
    """A test failure: the message says what was expected and what was seen."""


class Skip(Exception):
    """The test cannot run here (not root, no binary)."""


class NotYet(str):
    """What a wait_until predicate returns for 'not yet': false, and its text
    says why (wait_until's timeout message shows the last one)."""

    def __bool__(self):
        return False


def log(msg):
    print(f'[{time.monotonic() - T0:8.3f}] {msg}', flush=True)


def ms(seconds):
    return f'{seconds * 1e3:.1f} ms'


def run(cmd, check=True, quiet=False, timeout=60):
    """Runs cmd to its end; logs its output (unless quiet); Fail on a
    non-zero exit when check."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    out = r.stdout.strip()
    if not quiet and out:
        for line in out.splitlines():
            log(f'  {line}')
    if check and r.returncode != 0:
        raise Fail(f'{" ".join(cmd)} exited {r.returncode}: {out}')
    return r


def main_test(fn, argv=None, usage='ORDOD'):
    """Runs fn(ordod, args) as a test: exit 0, 1 (Fail, with the reason) or 77 (skip)."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(f'usage: {os.path.basename(sys.argv[0])} {usage}', file=sys.stderr)
        sys.exit(2)
    name = os.path.basename(sys.argv[0])
    try:
        fn(argv[0], argv[1:])
    except Skip as e:
        print(f'SKIP {name}: {e}', flush=True)
        sys.exit(EXIT_SKIP)
    except Fail as e:
        print(f'FAIL {name}: {e}', flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f'FAIL {name}: interrupted', flush=True)
        sys.exit(130)
    except Exception:
        import traceback
        traceback.print_exc(file=sys.stdout)
        print(f'FAIL {name}: an error in the test itself (traceback above)', flush=True)
        sys.exit(1)
    print(f'PASS {name}', flush=True)
    sys.exit(0)
