#!/usr/bin/env python3
"""bad-config: ordod must refuse a broken configuration with exit status 1
and exactly one line on stderr, `ordod: config: <section>.<key> = '<value>':
<why>` (docs/ordod.md), naming the key at fault. Each case is run with and
without --check. A valid base configuration must pass --check (exit 0), so
that each failure is due to its one broken key. Needs neither root nor the
topology (a wrongly accepted config run without --check is stopped after
10 s).

usage: test_bad_config.py ORDOD"""
import copy
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ordo_cluster import DPDK_RUN, Fail, device, ini, log, main_test  # noqa: E402

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
        set_key('path0', 'device', 'net_null0')), 'state_dir'),
    ('a device that cannot be probed', compose(
        drop_sections('path1', 'load'),
        set_key('path0', 'device', 'net_af_packet0,iface=ordo-it-no-such-if')), 'path0'),
    ('idle = block on a device that cannot signal frames', compose(
        drop_sections('path1', 'load'), set_key('node', 'idle', 'block'),
        set_key('path0', 'device', 'net_null0')), 'idle = block'),
]


def run_ordod(ordod, conf, check):
    cmd = [ordod, '-c', conf] + (['--check'] if check else [])
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=10)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors='replace') if isinstance(e.stderr, bytes) else (e.stderr or '')
        return 'timeout (killed after 10 s)', '', err


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
            for what, edit, word in SETUP_CASES:
                conf = copy.deepcopy(base(tmp))
                edit(conf)
                path = os.path.join(tmp, 'setup.conf')
                with open(path, 'w') as f:
                    f.write(ini(conf))
                rc, out, err = run_ordod(ordod, path, False)
                lines = [ln for ln in err.splitlines() if ln.startswith('ordod:')]
                log(f'{what}: exit {rc}; ordod\'s lines: {" | ".join(lines) or "(none)"}')
                if rc != 2:
                    errors.append(f'{what}: exit {rc}, expected 2 (a setup failure)')
                elif not any(word in ln for ln in lines):
                    errors.append(f'{what}: no "ordod:" line on stderr names {word!r}: {err.strip()}')
        else:
            log('not root: the setup-failure cases (exit 2) are skipped')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(os.path.join(DPDK_RUN, PREFIX), ignore_errors=True)
    for w in warnings:
        log(f'WARNING: {w}')
    log(f'{len(CASES)} broken configs, each with and without --check: {len(errors)} problems')
    if errors:
        raise Fail('\n  ' + '\n  '.join(errors))


if __name__ == '__main__':
    main_test(test)
