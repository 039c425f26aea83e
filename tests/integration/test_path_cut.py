#!/usr/bin/env python3
"""path-cut-active / path-cut-passive: 3 nodes, 2 paths, every node sends
40,000 messages of 1,024 B at 5,000 msgs/s. While deliveries flow, node 1's
link on path 0 is cut for 2 s: path 0 must be reported faulty (at least at
node 1) and the ring must not change (same ring id, no new regular
configuration at any node). The longest delivery gap around the cut is
printed per node. After the restore path 0 must be back in use everywhere
within 10 s, and the run must end with every message delivered everywhere in
one order (equal counts and digests, no per-origin gap).

path-cut-idle: the same cut on an idle ring (no load, the token held):
node 1's path 0 is reported down, and nothing else is. No node may show a
peer silent, or name it in a path fault, unless the path is 0 and one of
the two is node 1 (docs/protocol.md §9.6: a node hears its predecessor and
the others' probes, each on one path; neither a quiet peer nor a probe on
the other path is a missing copy), and no peer may show path 1 faulty.
ordoctl status --all may show "down to" only on path 0 (there also to a
node that marked path 0 itself: node 1's successor misses its copies as
node 1 misses its predecessor's, so which of them marks it is a race).

usage: test_path_cut.py ORDOD active|passive|idle [TRANSPORT]  (a mode of
transports.py: udp4, udp6, ... on their topology; default the L2 transport,
bridged)"""
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, Skip, delivery_errors, log, main_test, ms, node_lines, ring_key  # noqa: E402
import transports  # noqa: E402

NODES = [1, 2, 3]
SIZE = 1024
RATE = 5000
COUNT = RATE * 8
HOLD_S = 2.0
REINSTATE_S = 10.0


def path_line(p):
    parts = [f'in_use {int(p["in_use"]):#x} faulty {int(p["faulty"]):#x}']
    for k in range(int(p['count'])):
        q = p.get(f'path{k}', {})
        parts.append(f'path{k} {q.get("state")} rx {q.get("rx_frames")} tx {q.get("tx_frames")} '
                     f'tx_full {q.get("tx_full")} problems {q.get("problems")} faults '
                     f'{q.get("faults")} reinstated {q.get("reinstated")}')
    return '; '.join(parts)


def cut_pair(i, j, p):
    """Whether node 1's cut on path 0 lies between nodes i and j on path p."""
    return p == 0 and 1 in (i, j)


def idle_errors(c, ctl):
    """What a node of the idle ring reports down that the cut does not explain."""
    errors = []
    for i in NODES:
        r = subprocess.run([ctl, '--json', '-s', c.socket_path(i), 'members'], capture_output=True,
                           text=True, timeout=20)
        for pe in json.loads(r.stdout)['peers']:
            for p, q in enumerate(pe['paths']):
                if pe['self'] or q['link'] not in ('silent', 'faulty'):
                    continue
                if (q['link'] == 'silent' and not cut_pair(i, pe['id'], p)) or p != 0:
                    errors.append(f'n{i}: node {pe["id"]} {q["link"]} on path {p}: {pe["paths"]}')
        for ln in node_lines(c, i):
            m = re.search(r'path (\d) faulty here: copies missing from node\(s\) ([\d,]+)', ln)
            if m and any(not cut_pair(i, int(j), int(m.group(1))) for j in m.group(2).split(',')):
                errors.append(f'n{i} blames a node the cut does not explain: {ln}')
    r = subprocess.run([ctl, 'status', '--all'] + [c.socket_path(i) for i in NODES], capture_output=True,
                       text=True, timeout=20)
    log('ordoctl status --all on the idle ring with node 1 cut on path 0:\n' + r.stdout)
    for ln in r.stdout.splitlines():
        m = re.match(r'(\d+)\s+operational', ln)
        for p, down in re.findall(r'(\d):\w+\(down to ([\d,]+)\)', ln) if m else []:
            if p != '0':
                errors.append(f'status --all: node {m.group(1)} path {p} down to {down}')
    return errors


def test_idle(ordod):
    ctl = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordoctl')
    if not os.access(ctl, os.X_OK):
        raise Skip(f'no {ctl}')
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        for i in NODES:
            c.wait_socket(i)
        time.sleep(1.0)
        c.topo('cut', 1, 0)
        c.wait_until(lambda: c.paths_info(1)['path0']['state'] in ('faulty', 'excluded'), 10,
                     'n1 reports path 0 faulty')
        time.sleep(3.0)  # probes and held tokens; far longer than token_loss_us
        c.check_alive()
        c.finish(idle_errors(c, ctl))


def test(ordod, args):
    mode = args[0] if args else 'active'
    if mode == 'idle':
        return test_idle(ordod)
    if mode not in ('active', 'passive'):
        raise Fail(f'mode must be active, passive or idle, not {mode!r}')
    kw = transports.cluster_args(args[1]) if len(args) > 1 else {}
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': mode}, **kw,
                 load={'size': SIZE, 'rate': RATE, 'count': COUNT}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, RATE)
        before = c.ring_snapshot()
        for i in NODES:
            log(f'n{i} before the cut: {path_line(c.paths_info(i))}')
        pre_gap = {i: c.delivery(i)['max_gap_ns'] / 1e6 for i in NODES}
        for i in NODES:
            r = c.delivery_reset(i)
            if int(r.get('reset', 0)) != 1:
                raise Fail(f'n{i}: /ordo/delivery_reset replied {r}')
        time.sleep(0.1)
        log('longest delivery gap before the reset, and 100 ms after it: ' +
            ', '.join(f'n{i} {pre_gap[i]:.1f} -> {c.delivery(i)["max_gap_ns"] / 1e6:.1f} ms'
                      for i in NODES))
        t_cut = time.monotonic()  # times count from the start of the command
        c.topo('cut', 1, 0)
        seen = {}
        while time.monotonic() - t_cut < HOLD_S:
            c.check_alive()
            for i in NODES:
                if i not in seen:
                    try:
                        st = c.paths_info(i)['path0']['state']
                    except Exception:
                        continue
                    if st in ('faulty', 'excluded'):
                        seen[i] = time.monotonic() - t_cut
                        log(f'n{i} reports path 0 {st} {ms(seen[i])} after the cut')
            time.sleep(0.02)
        errors = []
        during = c.ring_snapshot()
        gaps = {}
        for i in NODES:
            p = c.paths_info(i)
            d = c.delivery(i)
            gaps[i] = d['max_gap_ns'] / 1e6
            log(f'n{i} after {HOLD_S:.0f} s of cut: {path_line(p)}')
            log(f'n{i}: longest delivery gap since the cut: {gaps[i]:.1f} ms; delivered '
                f'{d["delivered"]}')
            if i == 1 and p['path0']['state'] not in ('faulty', 'excluded'):
                errors.append(f'n1 reports path 0 {p["path0"]["state"]!r} after {HOLD_S:.0f} s '
                              'of cut (expected faulty or excluded)')
            if ring_key(during[i]) != ring_key(before[i]):
                errors.append(f'n{i}: configuration changed during the cut: (rep, seq, '
                              f'configs_regular) {ring_key(before[i])} -> {ring_key(during[i])}')
        log('longest delivery gap per node during the cut: '
            + ', '.join(f'n{i} {gaps[i]:.1f} ms' for i in NODES))
        t_res = time.monotonic()
        c.topo('restore', 1, 0)
        back = {}

        def reinstated():
            for i in NODES:
                if i not in back and int(c.paths_info(i)['in_use']) & 1:
                    back[i] = time.monotonic() - t_res
            return len(back) == len(NODES)

        try:
            c.wait_until(reinstated, REINSTATE_S, 'path 0 back in use (in_use bit 0) everywhere')
            log('path 0 back in use ' + ', '.join(f'n{i} after {ms(back[i])}' for i in NODES))
        except Fail as e:
            errors.append(str(e) + ' ; '.join(f'n{i}: {path_line(c.paths_info(i))}' for i in NODES))
        if errors:
            raise Fail('; '.join(errors))

        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        after = c.ring_snapshot()
        errors += [f'n{i}: configuration changed after the restore: {ring_key(before[i])} -> '
                   f'{ring_key(after[i])}' for i in NODES if ring_key(after[i]) != ring_key(before[i])]
        errors += delivery_errors(d, NODES, 3 * COUNT, more=lambda i: f'longest gap since the cut '
                                  f'{d[i]["max_gap_ns"] / 1e6:.1f} ms; {path_line(c.paths_info(i))}')
        c.finish(errors)


if __name__ == '__main__':
    main_test(test, usage='ORDOD active|passive|idle')
