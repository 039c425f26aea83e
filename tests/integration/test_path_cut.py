#!/usr/bin/env python3
"""path-cut-active / path-cut-passive: 3 nodes, 2 paths, every node sends
40,000 messages of 1,024 B at 5,000 msgs/s. While deliveries flow, node 1's
link on path 0 is cut for 2 s: path 0 must be reported faulty (at least at
node 1) and the ring must not change (same ring id, no new regular
configuration at any node). The longest delivery gap around the cut is
printed per node. After the restore path 0 must be back in use everywhere
within 10 s, and the run must end with every message delivered everywhere in
one order (equal counts and digests, no per-origin gap). In active mode the
cut is node 1's alone (docs/protocol.md §9.7: faults per (peer, network)):
nodes 2 and 3 must keep path 0 in use, keep sending on it, and show each
other heard on it (ordoctl members, status); before §9.7 node 1's successor
could mark path 0 itself and drop it for node 3 too. Passive mode takes path
0 out of use everywhere by design (a frame on one path must reach all).

path-cut-idle: the same cut on an idle ring (no load, the token held):
node 1's path 0 is reported down, and nothing else is. No node may show a
peer silent, or name it in a path fault, unless the path is 0 and one of
the two is node 1 (docs/protocol.md §9.6: a node hears its predecessor and
the others' probes, each on one path; neither a quiet peer nor a probe on
the other path is a missing copy), and no peer may show path 1 faulty.
ordoctl status --all may show "down to" only on path 0 (there also to a
node that marked path 0 itself: node 1's successor misses its copies as
node 1 misses its predecessor's, so which of them marks it is a race).

path-mute-active: node 1's frames on path 0 are dropped where they enter the
bridge (`scripts/topology mute 1 0`), while it still receives there, under
the same load: nodes 2 and 3 miss node 1's copies on path 0, node 1 misses
nothing. Nodes 2 and 3 must show node 1 silent on path 0 and keep path 0 in
use between themselves (before docs/protocol.md §9.7 both marked path 0
and stopped sending on it, every time); no configuration change, and after
the unmute every message delivered everywhere in one order.

path-cross-active: 4 nodes, 2 paths, active mode, the same load per node;
node 1's link on path 0 is cut, then node 2's on path 1: nodes 1 and 2
share no working network, and each still shares one with nodes 3 and 4 (G
stays connected). docs/protocol.md §9.8: the full topology relays as a
partial one (tokens to node 2 flooded, node 3 the designated relay of both
nodes' frames); no configuration may change during the cuts or after the
restores, and every message must be delivered everywhere in one order
(equal counts and digests). Before §9.8 the token was lost at the hop 1 -> 2
and the ring re-formed. The longest delivery gap during the cuts is printed.

usage: test_path_cut.py ORDOD active|passive|idle|mute|cross [TRANSPORT]  (a mode of
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


def ctl_json(c, ctl, i, *verb):
    r = subprocess.run([ctl, '--json', '-s', c.socket_path(i)] + list(verb), capture_output=True, text=True,
                       timeout=20)
    return json.loads(r.stdout)


def pair_errors(c, ctl):
    """Node 1's link on path 0 is cut: what nodes 2 and 3 show of path 0
    between themselves that says they lost it (docs/protocol.md §9.7)."""
    tx0 = {i: int(c.paths_info(i)['path0']['tx_frames']) for i in (2, 3)}
    time.sleep(0.5)
    errors = []
    for i, j in ((2, 3), (3, 2)):
        p = c.paths_info(i)
        if p['path0']['state'] != 'ok' or not int(p['in_use']) & 1:
            errors.append(f'n{i}: path 0 {p["path0"]["state"]}, in use {int(p["in_use"]):#x}, though only '
                          f'node 1 is cut from it')
        if int(p['path0']['tx_frames']) <= tx0[i]:
            errors.append(f'n{i}: sent nothing on path 0 in 0.5 s of load ({tx0[i]} frames before and after)')
        peer = next(pe for pe in ctl_json(c, ctl, i, 'members')['peers'] if pe['id'] == j)
        q = peer['paths'][0]
        if q['link'] != 'ok' or q['last_heard_ms'] is None or q['last_heard_ms'] > 1000:
            errors.append(f'n{i}: ordoctl members shows node {j} on path 0 as {q}')
        down = ctl_json(c, ctl, i, 'status')['paths'][0]['peers_down']
        if j in down:
            errors.append(f'n{i}: ordoctl status shows path 0 down to node {j} ({down})')
    log('nodes 2 and 3 on path 0 with node 1 cut from it: ' + ('; '.join(errors) or 'in use, sending, '
                                                                'heard by each other'))
    return errors


def ring_errors(before, now, when, nodes=NODES):
    return [f'n{i}: configuration changed {when}: (rep, seq, configs_regular) {ring_key(before[i])} -> '
            f'{ring_key(now[i])}' for i in nodes if ring_key(now[i]) != ring_key(before[i])]


def loaded(c, nodes):
    """Starts the cluster's nodes, waits for their ring and the load; the ring snapshot."""
    c.start_all()
    c.wait_ring(nodes, timeout=60)
    c.wait_flowing(nodes, RATE)
    return c.ring_snapshot()


def test_mute(ordod, ctl):
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'},
                 load={'size': SIZE, 'rate': RATE, 'count': COUNT}) as c:
        before = loaded(c, NODES)
        c.topo('mute', 1, 0)
        time.sleep(HOLD_S)
        c.check_alive()
        errors = pair_errors(c, ctl)
        for i in (2, 3):
            q = next(pe for pe in ctl_json(c, ctl, i, 'members')['peers'] if pe['id'] == 1)['paths'][0]
            if q['link'] != 'silent':
                errors.append(f'n{i}: node 1 muted on path 0 shows as {q} there (expected silent)')
        for i in NODES:
            log(f'n{i} after {HOLD_S:.0f} s of node 1 muted on path 0: {path_line(c.paths_info(i))}')
        errors += ring_errors(before, c.ring_snapshot(), 'while node 1 was muted on path 0')
        c.topo('unmute', 1)
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        errors += ring_errors(before, c.ring_snapshot(), 'after the unmute')
        errors += delivery_errors(d, NODES, 3 * COUNT, more=lambda i: path_line(c.paths_info(i)))
        c.finish(errors)


def test_cross(ordod):
    nodes = [1, 2, 3, 4]
    with Cluster(ordod, nodes=4, paths=2, ring={'rrp_mode': 'active'},
                 load={'size': SIZE, 'rate': RATE, 'count': COUNT}) as c:
        before = loaded(c, nodes)
        for i in nodes:
            c.delivery_reset(i)
        c.topo('cut', 1, 0)
        time.sleep(HOLD_S / 2)
        c.topo('cut', 2, 1)
        time.sleep(HOLD_S)
        c.check_alive()
        errors = []
        for i in nodes:
            log(f'n{i} with node 1 cut from path 0 and node 2 from path 1: {path_line(c.paths_info(i))}; '
                f'longest delivery gap since the first cut {c.delivery(i)["max_gap_ns"] / 1e6:.1f} ms')
        errors += ring_errors(before, c.ring_snapshot(), 'during the cuts', nodes)
        c.topo('restore', 2, 1)
        c.topo('restore', 1, 0)
        d = c.wait_quiet(nodes, stable_s=1.0, timeout=120)
        errors += ring_errors(before, c.ring_snapshot(), 'after the restores', nodes)
        errors += delivery_errors(d, nodes, 4 * COUNT, more=lambda i: path_line(c.paths_info(i)))
        c.finish(errors)


def idle_errors(c, ctl):
    """What a node of the idle ring reports down that the cut does not explain."""
    errors = []
    for i in NODES:
        for pe in ctl_json(c, ctl, i, 'members')['peers']:
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
    if mode == 'cross':
        return test_cross(ordod)
    if mode not in ('active', 'passive', 'mute'):
        raise Fail(f'mode must be active, passive, idle, mute or cross, not {mode!r}')
    kw = transports.cluster_args(args[1]) if len(args) > 1 else {}
    ctl = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordoctl')
    if not os.access(ctl, os.X_OK):
        raise Fail(f'no {ctl}')
    if mode == 'mute':
        return test_mute(ordod, ctl)
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
        errors = pair_errors(c, ctl) if mode == 'active' else []
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
        errors += ring_errors(before, during, 'during the cut')
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
        errors += ring_errors(before, after, 'after the restore')
        errors += delivery_errors(d, NODES, 3 * COUNT, more=lambda i: f'longest gap since the cut '
                                  f'{d[i]["max_gap_ns"] / 1e6:.1f} ms; {path_line(c.paths_info(i))}')
        c.finish(errors)


if __name__ == '__main__':
    main_test(test, usage='ORDOD active|passive|idle|mute|cross')
