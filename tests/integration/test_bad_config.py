#!/usr/bin/env python3
"""bad-config: ordod must refuse a broken configuration with exit status 1
and exactly one line on stderr, `ordod: config: <section>.<key> = '<value>':
<why>` (docs/ordod.md), naming the key at fault. Each case is run with and
without --check. A valid base configuration must pass --check (exit 0), so
that each failure is due to its one broken key. Needs neither root nor the
topology (a wrongly accepted config run without --check is stopped after
10 s). Sections in any order load to the same configuration; a section or
a key twice, or a key under the wrong section, is an error naming the
file's lines. As root, setup failures exit 2 with a line saying what to
do: a wrong interface (the one asked for, those that exist, the device
form), a PCI device without a driver, a second copy of a running node
(its file prefix and pid), a second ordod on a running one's state_dir (the
directory and the pid; the first keeps running).

usage: test_bad_config.py ORDOD"""
import copy
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from telemetry import DPDK_RUN  # noqa: E402
from cluster import Fail, device, ini, log, main_test  # noqa: E402

PREFIX = 'ordo-it-badconf'


def base(tmp):
    return {
        'node': {'id': 1, 'state_dir': os.path.join(tmp, 'state'), 'idle': 'backoff',
                 'log_level': 'info'},
        'eal': {'lcores': '0@(0-1)', 'file_prefix': PREFIX},
        'ring': {'id': 1, 'nodes': '1,2,3', 'rrp_mode': 'active', 'quorum': 'majority',
                 'mtu': 9000, 'profile': 'shared'},
        'path0': {'device': device(0)},
        'path1': {'device': device(1)},
        'load': {'size': 1024, 'count': 10},
    }


def set_key(section, key, value):
    def f(c):
        c.setdefault(section, {})[key] = value
    return f


def drop_sections(*names):
    def f(c):
        for n in names:
            c.pop(n, None)
    return f


def add_section(name, kv):
    def f(c):
        c[name] = dict(kv)
    return f


def udp(transport, address, addresses):
    """[path1] on a routed transport."""
    def f(c):
        c['path1'].update({'transport': transport, 'address': address, 'addresses': addresses})
    return f


def compose(*fs):
    def f(c):
        for g in fs:
            g(c)
    return f


# (what, edit, words one of which the stderr line must contain, value it should quote)
CASES = [
    ('unknown key', set_key('node', 'colour', 'blue'), ['node.colour'], 'blue'),
    ('node id not in [ring] nodes', set_key('node', 'id', 7), ['node.id'], '7'),
    ('rrp_mode sideways', set_key('ring', 'rrp_mode', 'sideways'), ['ring.rrp_mode'], 'sideways'),
    ('no [path0] (no path at all)', drop_sections('path0', 'path1'), ['path0'], None),
    ('mtu 12', set_key('ring', 'mtu', 12), ['ring.mtu'], '12'),
    ('mtu 65000 (no Ethernet port takes it: jumbo frames end at 9216)', set_key('ring', 'mtu', 65000),
     ['ring.mtu'], '65000'),
    # more of the rules docs/ordod.md states
    ('ring id 256 (1..255)', set_key('ring', 'id', 256), ['ring.id'], '256'),
    ('idle sometimes', set_key('node', 'idle', 'sometimes'), ['node.idle'], 'sometimes'),
    ('quorum most', set_key('ring', 'quorum', 'most'), ['ring.quorum'], 'most'),
    ('node id 99 in nodes (1..64)', set_key('ring', 'nodes', '1,2,99'), ['ring.nodes'], '1,2,99'),
    ('load size 12 (at least 24)', set_key('load', 'size', 12), ['load.size'], '12'),
    ('unknown section', add_section('paths0', {'device': device(0)}), ['paths0'], None),
    ('paths not contiguous: path0, path2', compose(drop_sections('path1'),
                                                    add_section('path2', {'device': device(1)})),
     ['path1', 'path2'], None),
    ('profile fast', set_key('ring', 'profile', 'fast'), ['ring.profile'], 'fast'),
    ('token_loss_us not a number', set_key('ring', 'token_loss_us', '25O000'),
     ['ring.token_loss_us'], '25O000'),
    # the routed transports (docs/ordod.md, Transports)
    ('udp4 address without a prefix', udp('udp4', '10.1.0.1', '1@10.1.0.1,2@10.1.0.2,3@10.1.0.3'),
     ['path1.address'], '10.1.0.1'),
    ('udp4 with an IPv6 address', udp('udp4', 'fd00:1::1/64', '1@fd00:1::1,2@fd00:1::2,3@fd00:1::3'),
     ['path1.address'], 'fd00:1::1/64'),
    ('udp6 address, bad prefix', udp('udp6', 'fd00:1::1/200', '1@fd00:1::1,2@fd00:1::2,3@fd00:1::3'),
     ['path1.address'], 'fd00:1::1/200'),
    ('a node outside the subnet and no gateway',
     udp('udp6', 'fd00:1::1/64', '1@fd00:1::1,2@fd00:2::1,3@fd00:1::3'),
     ['path1.addresses'], '1@fd00:1::1,2@fd00:2::1,3@fd00:1::3'),
    ('a gateway outside the subnet',
     compose(udp('udp4', '10.1.0.1/24', '1@10.1.0.1,2@10.2.0.1,3@10.1.0.3'),
             set_key('path1', 'gateway', '10.9.0.254')), ['path1.gateway'], '10.9.0.254'),
    ('mtu too small for udp6 headers and the token',
     compose(udp('udp6', 'fe80::1/64', '1@fe80::1,2@fe80::2,3@fe80::3'), set_key('ring', 'mtu', 576),
             set_key('ring', 'rtr_max', 64)), ['ring.mtu'], '576'),
]


SETUP_CASES = [
    ('state_dir cannot be created', compose(
        set_key('node', 'state_dir', '/proc/ordo-it-no-state'), drop_sections('path1', 'load'),
        set_key('path0', 'device', 'net_null0')), ['state_dir']),
    # a wrong interface: the line names the path, the interface asked for,
    # those that exist here and the form of the device string
    ('a device that cannot be probed', compose(
        drop_sections('path1', 'load'),
        set_key('path0', 'device', 'net_af_packet0,iface=ordo-it-no-such-if')),
     ['path0', "no network interface 'ordo-it-no-such-if'", 'interfaces: ', 'lo',
      'device = net_af_packet0,iface=<interface>']),
    ('an af_packet vdev without iface=', compose(
        drop_sections('path1', 'load'), set_key('path0', 'device', 'net_af_packet0')),
     ['path0', 'needs the interface', 'device = net_af_packet0,iface=<interface>']),
    ('a PCI device no driver bound', compose(
        drop_sections('path1', 'load'), set_key('path0', 'device', '0000:99:1f.7')),
     ['path0', 'no DPDK port for PCI device 0000:99:1f.7', 'vfio-pci']),
    ('idle = block on a device that cannot signal frames', compose(
        drop_sections('path1', 'load'), set_key('node', 'idle', 'block'),
        set_key('path0', 'device', 'net_null0')), ['idle = block']),
]


def line_of(text, line):
    """The 1-based number of the first line of text equal to line."""
    return text.splitlines().index(line) + 1


# (what, the base file's text -> a broken text, the words the error line must
# hold): mistakes of the file's shape, each named with its line numbers
def dup_section(t):
    return t + '[node]\nidle = spin\n'


def dup_key(t):
    return t.replace('[ring]\n', '[ring]\nmtu = 1500\n', 1)


def misplaced_key(t):
    return t.replace('[path0]\n', '[path0]\nidle = spin\n', 1)


TEXT_CASES = [
    ('[node] twice', dup_section,
     lambda t: ['[node]: section appears twice', f'lines 1 and {len(t.splitlines()) + 1}']),
    ('a key twice in [ring]', dup_key,
     lambda t: ["ring.mtu = '9000': key appears twice in the section",
                f'lines {line_of(t, "[ring]") + 1} and {line_of(t, "mtu = 9000") + 1}']),
    ('a [node] key under [path0]', misplaced_key,
     lambda t: ["path0.idle = 'spin': not a key of [path0]", f'line {line_of(t, "[path0]") + 1}',
                'it belongs in [node]']),
]


def section_orders(tmp, ordod, errors):
    """Sections may come in any order: [path1] before [path0], [node] last,
    all reversed each load to what the documented order loads to (--check
    prints the configuration in use)."""
    conf = base(tmp)
    want = None
    orders = [list(conf), list(reversed(list(conf))),
              ['path1', 'path0', 'load', 'ring', 'eal', 'node'], ['ring', 'eal', 'load', 'path0', 'path1', 'node']]
    for n, order in enumerate(orders):
        path = os.path.join(tmp, f'order{n}.conf')
        with open(path, 'w') as f:
            f.write(ini({k: conf[k] for k in order}))
        rc, out, err = run_ordod(ordod, path, True)
        log(f'sections in the order {", ".join(order)}: --check exit {rc}, {len(out.splitlines())} lines')
        if rc != 0:
            errors.append(f'sections in the order {order}: exit {rc}: {err.strip()}')
        elif want is None:
            want = out
        elif out != want:
            errors.append(f'sections in the order {order} load to another configuration than {orders[0]}')


def text_cases(tmp, ordod, errors):
    text = ini(base(tmp))
    for what, edit, words in TEXT_CASES:
        bad = edit(text)
        path = os.path.join(tmp, 'shape.conf')
        with open(path, 'w') as f:
            f.write(bad)
        want = words(text) + [path]
        for check in (True, False):
            rc, out, err = run_ordod(ordod, path, check)
            lines = [ln for ln in err.splitlines() if ln.strip()]
            label = f'{what}{" (--check)" if check else ""}'
            log(f'{label}: exit {rc}; stderr: {" | ".join(lines) or "(empty)"}')
            if rc != 1 or len(lines) != 1 or not lines[0].startswith('ordod: config:'):
                errors.append(f'{label}: exit {rc}, stderr {lines}: expected exit 1 and one "ordod: config:" line')
            elif not all(w in lines[0] for w in want):
                errors.append(f'{label}: the line does not say all of {want}: {lines[0]}')


def run_ordod(ordod, conf, check):
    cmd = [ordod, '-c', conf] + (['--check'] if check else [])
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=10)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors='replace') if isinstance(e.stderr, bytes) else (e.stderr or '')
        return 'timeout (killed after 10 s)', '', err


def setup_failure(what, rc, err, words, errors):
    """Exit 2 and one "ordod:" line on stderr holding every word."""
    lines = [ln for ln in err.splitlines() if ln.startswith('ordod:')]
    log(f'{what}: exit {rc}; ordod\'s lines: {" | ".join(lines) or "(none)"}')
    if rc != 2:
        errors.append(f'{what}: exit {rc}, expected 2 (a setup failure)')
    elif not any(all(w in ln for w in words) for ln in lines):
        errors.append(f'{what}: no "ordod:" line on stderr says all of {words}: {err.strip()}')


def beside_first(ordod, tmp, what, edit, words, errors):
    """Starts a first ordod on net_null0, then a second one with the same
    configuration changed by edit: the second is to exit 2 with a line
    holding every word (the first's pid among them), the first to keep
    running."""
    conf = base(tmp)
    for e in (drop_sections('path1', 'load'), set_key('path0', 'device', 'net_null0'),
              set_key('ring', 'nodes', '1')):
        e(conf)
    first = os.path.join(tmp, 'first.conf')
    with open(first, 'w') as f:
        f.write(ini(conf))
    edit(conf)
    second = os.path.join(tmp, 'second.conf')
    with open(second, 'w') as f:
        f.write(ini(conf))
    p = subprocess.Popen([ordod, '-c', first], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        lock = os.path.join(DPDK_RUN, PREFIX, 'config')
        end = time.monotonic() + 20
        while time.monotonic() < end and p.poll() is None and not os.path.exists(lock):
            time.sleep(0.1)
        time.sleep(0.5)  # the EAL locks its config file once it wrote it
        if p.poll() is not None:
            errors.append(f'{what}: the first ordod ended ({p.returncode}): {p.stderr.read().strip()}')
            return
        rc, out, err = run_ordod(ordod, second, False)
        setup_failure(what, rc, err, [w.format(pid=p.pid) for w in words], errors)
        if p.poll() is not None:
            errors.append(f'{what}: the first ordod ended meanwhile ({p.returncode})')
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stderr.close()


def second_copy(ordod, tmp, errors):
    """A second ordod with a running one's [eal] file_prefix: exit 2 and a
    line naming the prefix, the running process's pid and the way out
    (before: "EAL initialisation failed: Success")."""
    beside_first(ordod, tmp, 'a second copy with the same file_prefix',
                 set_key('node', 'state_dir', os.path.join(tmp, 'state-second')),
                 [f"file prefix '{PREFIX}' is in use by process {{pid}}", 'runs already',
                  '[eal] file_prefix'], errors)


def shared_state_dir(ordod, tmp, errors):
    """A second ordod with its own file_prefix but a running one's state_dir:
    exit 2 and a line naming the directory, the running process's pid and
    the way out; the first keeps running (before: it started, with the
    first's stored incarnation, counter reservation and ring ids)."""
    beside_first(ordod, tmp, 'a second ordod on the same state_dir',
                 set_key('eal', 'file_prefix', PREFIX + '-2'),
                 [f"state_dir {os.path.join(tmp, 'state')} is in use by process {{pid}}",
                  'its own [node] state_dir'], errors)


def test(ordod, args):
    if not os.access(ordod, os.X_OK):
        raise Fail(f'no ordod binary at {ordod}')
    tmp = tempfile.mkdtemp(prefix='ordo-it-badconf-')
    errors = []
    warnings = []
    try:
        good = os.path.join(tmp, 'good.conf')
        with open(good, 'w') as f:
            f.write(ini(base(tmp)))
        rc, out, err = run_ordod(ordod, good, True)
        log(f'base config --check: exit {rc}, {len(out.splitlines())} lines on stdout')
        if rc != 0:
            raise Fail(f'the valid base config fails --check (exit {rc}): {err.strip()}')
        # valid files must pass: comments (';' and '#', whole-line and after a
        # value) and the example configuration of docs/ordod.md itself
        commented = os.path.join(tmp, 'comments-semicolon.conf')
        with open(commented, 'w') as f:
            f.write('; a comment\n' + ini(base(tmp)).replace('[ring]\n', '[ring]   ; trailing\n; a line\n')
                    .replace('rrp_mode = active', 'rrp_mode = active   ; inline comment'))
        hash_lines = os.path.join(tmp, 'comments-hash.conf')
        with open(hash_lines, 'w') as f:
            f.write('# a comment\n' + ini(base(tmp)).replace('[load]\n', '[load]\n  # an indented one\n'))
        hashed = os.path.join(tmp, 'hash-inline.conf')
        with open(hashed, 'w') as f:
            f.write(ini(base(tmp)).replace('quorum = majority', 'quorum = majority   # inline'))
        doc = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           'docs', 'ordod.md')
        examples = [("';' comments", commented), ("whole-line '#' comments", hash_lines)]
        try:
            with open(doc) as f:
                text = f.read()
            block = text.split('```ini\n', 1)[1].split('```', 1)[0]
            example = os.path.join(tmp, 'doc-example.conf')
            with open(example, 'w') as f:
                f.write(block)
            examples.append(('the example of docs/ordod.md', example))
        except (OSError, IndexError):
            log('WARNING: no ```ini example found in docs/ordod.md')
        for what, path in examples:
            rc, out, err = run_ordod(ordod, path, True)
            log(f'{what} --check: exit {rc}')
            if rc != 0:
                errors.append(f'{what}: a valid file fails --check (exit {rc}): {err.strip()}')
        # docs/ordod.md: "';' and '#' start comments"; whether '#' does so
        # after a value too is not said: a warning only
        rc, out, err = run_ordod(ordod, hashed, True)
        log(f'a \'#\' comment after a value --check: exit {rc}')
        if rc != 0:
            warnings.append(f"a '#' comment after a value is not a comment: {err.strip()}")
        section_orders(tmp, ordod, errors)
        text_cases(tmp, ordod, errors)
        for n, (what, edit, keys, value) in enumerate(CASES):
            conf = copy.deepcopy(base(tmp))
            edit(conf)
            path = os.path.join(tmp, f'bad{n}.conf')
            with open(path, 'w') as f:
                f.write(ini(conf))
            for check in (True, False):
                rc, out, err = run_ordod(ordod, path, check)
                lines = [ln for ln in err.splitlines() if ln.strip()]
                ours = [ln for ln in lines if ln.startswith('ordod: config:')]
                label = f'{what}{" (--check)" if check else ""}'
                log(f'{label}: exit {rc}; stderr: {" | ".join(lines) or "(empty)"}')
                if rc != 1:
                    errors.append(f'{label}: exit {rc}, expected 1')
                if len(ours) != 1:
                    errors.append(f'{label}: {len(ours)} stderr lines start with '
                                  f'"ordod: config:", expected exactly one')
                elif not any(k in ours[0] for k in keys):
                    errors.append(f'{label}: the line does not name {" or ".join(keys)}: {ours[0]}')
                elif value is not None and f"'{value}'" not in ours[0]:
                    warnings.append(f'{label}: the line does not quote the value \'{value}\': {ours[0]}')
                if len(lines) != len(ours):
                    errors.append(f'{label}: other lines on stderr besides the config error: '
                                  f'{[ln for ln in lines if ln not in ours]}')
        # setup failures: exit 2 and a line saying which (root: EAL runs).
        # net_null sends nowhere, so nothing leaves this machine's root
        # namespace even if ordod wrongly went on.
        if os.geteuid() == 0:
            for what, edit, words in SETUP_CASES:
                conf = copy.deepcopy(base(tmp))
                edit(conf)
                path = os.path.join(tmp, 'setup.conf')
                with open(path, 'w') as f:
                    f.write(ini(conf))
                rc, out, err = run_ordod(ordod, path, False)
                setup_failure(what, rc, err, words, errors)
            second_copy(ordod, tmp, errors)
            shared_state_dir(ordod, tmp, errors)
        else:
            log('not root: the setup-failure cases (exit 2) are skipped')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(os.path.join(DPDK_RUN, PREFIX), ignore_errors=True)
        shutil.rmtree(os.path.join(DPDK_RUN, PREFIX + '-2'), ignore_errors=True)
    for w in warnings:
        log(f'WARNING: {w}')
    log(f'{len(CASES)} broken configs, each with and without --check: {len(errors)} problems')
    if errors:
        raise Fail('\n  ' + '\n  '.join(errors))


if __name__ == '__main__':
    main_test(test)
