#!/usr/bin/env python3
"""tidy.py — rules of the tree that the compiler cannot check (as
TigerBeetle's tidy): run as the `tidy` unit test.

1. Function length: no function over 70 lines, except those listed in
   tests/unit/tidy-long-functions.txt with their length today; a listed one
   may not grow past its line (lower the line when it shrinks, delete it
   when it fits: the test says so in a note).
2. Wire offsets: no rp_get/rp_put at a literal offset (`rp_get16(b + 8)`)
   outside ring-proto/rp_wire.h, whose field lists are the only statement of
   the layout, and tests/unit/test_wire.c, which keeps the golden offsets.
3. No allocation in the worker after start: in the files whose code runs
   on the worker, malloc/calloc/realloc/strdup only in the functions listed
   in tests/unit/tidy-worker-alloc.txt (setup and today's known cases).
4. ring-proto/ and client/ use neither DPDK nor a clock.

usage: tidy.py SOURCE_ROOT [--update]   (--update rewrites the two lists
from the tree as it is: review the diff, a list must only shrink)
Exit 0 when every rule holds, 1 with one line per violation."""
import os
import re
import sys

LIMIT = 70
CODE_DIRS = ['ring-proto', 'client', 'engine', 'pmd-glue', 'apps', 'bench', 'tests']
WORKER_FILES = ['engine/eng_worker.c', 'engine/eng_clients.c', 'engine/eng_load.c', 'engine/eng_keys.c',
                'engine/eng_telemetry.c']
WIRE_OWNERS = {'ring-proto/rp_wire.h', 'tests/unit/test_wire.c'}
ALLOC = re.compile(r'\b(malloc|calloc|realloc|strdup|rte_malloc|rte_zmalloc)\s*\(')
WIRE_LITERAL = re.compile(r'\brp_(get|put)(8|16|32|64)\s*\(\s*[A-Za-z_][\w>.-]*\s*\+\s*\d')
NO_DPDK_CLOCK = re.compile(r'#\s*include\s*<rte_|\brte_\w+\s*\(|\bclock_gettime\b|\bgettimeofday\b|'
                           r'\btime\s*\(\s*(NULL|0)?\s*\)|__rdtsc|\brdtsc\b')
FUNC_START = re.compile(r'^(?!static_assert|_Static_assert|typedef|struct\s+\w+\s*\{|enum|union|#)'
                        r'[A-Za-z_][\w\s\*,()\[\]]*?\b(\w+)\s*\([^;]*$')


def c_files(root):
    for d in CODE_DIRS:
        for base, dirs, files in os.walk(os.path.join(root, d)):
            dirs[:] = [x for x in dirs if not x.startswith('.')]
            for f in sorted(files):
                if f.endswith(('.c', '.h', '.cc')):
                    yield os.path.relpath(os.path.join(base, f), root)


def functions(text):
    """(name, first line, length) of each function definition: a line at
    column 0 that names a function, its body from the next '{' at column 0
    (or at the end of that line) to the next '}' at column 0."""
    lines = text.split('\n')
    out = []
    i = 0
    while i < len(lines):
        m = FUNC_START.match(lines[i])
        if m and not lines[i].rstrip().endswith(';'):
            j = i
            while j < len(lines) and not (lines[j].startswith('{') or lines[j].rstrip().endswith('{')):
                if lines[j].rstrip().endswith(';') or (j > i and lines[j] == ''):
                    break
                j += 1
            if j < len(lines) and (lines[j].startswith('{') or lines[j].rstrip().endswith('{')):
                k = j + 1
                while k < len(lines) and not lines[k].startswith('}'):
                    k += 1
                out.append((m.group(1), i + 1, k - i + 1))
                i = k + 1
                continue
        i += 1
    return out


def enclosing(funcs, line):
    for name, first, length in funcs:
        if first <= line < first + length:
            return name
    return None


def read_list(path):
    entries = {}
    if os.path.exists(path):
        with open(path) as f:
            for ln in f:
                ln = ln.split('#', 1)[0].strip()
                if ln:
                    parts = ln.split()
                    entries[(parts[0], parts[1])] = int(parts[2]) if len(parts) > 2 else 0
    return entries


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = sys.argv[1]
    update = '--update' in sys.argv
    long_path = os.path.join(root, 'tests', 'unit', 'tidy-long-functions.txt')
    alloc_path = os.path.join(root, 'tests', 'unit', 'tidy-worker-alloc.txt')
    allowed_long = read_list(long_path)
    allowed_alloc = read_list(alloc_path)
    bad = []
    long_now, alloc_now = {}, {}
    for rel in c_files(root):
        with open(os.path.join(root, rel), errors='replace') as f:
            text = f.read()
        funcs = functions(text) if rel.endswith(('.c', '.cc')) else []
        for name, first, length in funcs:
            if length > LIMIT:
                long_now[(rel, name)] = length
                was = allowed_long.get((rel, name))
                if was is None:
                    bad.append(f'{rel}:{first}: {name}() is {length} lines (at most {LIMIT}): split it')
                elif length > was:
                    bad.append(f'{rel}:{first}: {name}() grew to {length} lines (listed at {was}): '
                               'listed functions may only shrink')
        lines = text.split('\n')
        for n, ln in enumerate(lines, 1):
            code = ln.split('//', 1)[0]
            if rel not in WIRE_OWNERS and WIRE_LITERAL.search(code):
                bad.append(f'{rel}:{n}: a literal wire offset: use the RP_<PART>_<FIELD> constants or the '
                           'decoders of ring-proto/rp_wire.h')
            if rel.startswith(('ring-proto/', 'client/')) and NO_DPDK_CLOCK.search(code) and \
                    not code.lstrip().startswith(('*', '/*')):
                bad.append(f'{rel}:{n}: DPDK or a clock in {rel.split("/")[0]}/ (libc only, time comes '
                           'from the driver)')
            if rel in WORKER_FILES and ALLOC.search(code) and not code.lstrip().startswith(('*', '/*')):
                fn = enclosing(funcs, n) or '?'
                alloc_now[(rel, fn)] = 0
                if (rel, fn) not in allowed_alloc:
                    bad.append(f'{rel}:{n}: allocation in {fn}(), which runs on the worker: allocate at '
                               'start (or list it in tests/unit/tidy-worker-alloc.txt, with a reason)')
    notes = []
    for key, was in sorted(allowed_long.items()):
        if key not in long_now:
            notes.append(f'{key[0]}: {key[1]}() fits now (listed at {was}): delete its line from '
                         'tests/unit/tidy-long-functions.txt')
        elif long_now[key] < was:
            notes.append(f'{key[0]}: {key[1]}() shrank from {was} to {long_now[key]} lines: lower its '
                         'line in tests/unit/tidy-long-functions.txt')
    for key in sorted(allowed_alloc):
        if key not in alloc_now:
            notes.append(f'{key[0]}: {key[1]}() no longer allocates: delete its line from '
                         'tests/unit/tidy-worker-alloc.txt')
    if update:
        with open(long_path, 'w') as f:
            f.write('# Functions over 70 lines today (tests/unit/tidy.py): path, function, lines.\n'
                    '# They may only shrink; a new function over 70 lines fails the tidy test.\n')
            for (rel, name), n in sorted(long_now.items()):
                f.write(f'{rel} {name} {n}\n')
        with open(alloc_path, 'w') as f:
            f.write('# Functions of the worker\'s files that allocate (tests/unit/tidy.py): setup,\n'
                    '# and today\'s known cases on the worker. No new one: allocate at start.\n')
            for rel, name in sorted(alloc_now):
                f.write(f'{rel} {name}\n')
        print(f'tidy: wrote {len(long_now)} long functions and {len(alloc_now)} allocating functions')
        return 0
    for n in notes:
        print(f'tidy: note: {n}')
    for b in bad:
        print(f'tidy: {b}')
    print(f'tidy: {len(long_now)} functions over {LIMIT} lines (listed), '
          f'{len(alloc_now)} allocating worker functions (listed): {len(bad)} problems')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
