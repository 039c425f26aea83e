#!/usr/bin/env python3
"""rolling-upgrade: the rolling upgrade of docs/deployment.md on real
processes (protocol versions: docs/protocol.md §11). Three nodes speak
protocol versions [1,1] ([node] protocol_min, protocol_max; protocol_test
lets this build name a version 2, which it runs as its own). One node at a
time, n3, then n2, then n1, is stopped with SIGTERM (a polite leave) while
the ring carries load, restarted with [1,2], and rejoins, still under load.

At every step:
  - the load: `ordo-pub -r RATE` on all three nodes (the one that stops is
    cut off when it leaves), two `ordo-it-recv` receivers on the nodes that
    stay up, joined before the first message;
  - the version the ring runs, at every node (telemetry /ordo/node
    proto_version; proto_min and proto_max say each node's range): 1 while a
    member speaks only 1, 2 from the configuration change at which the last
    [1,1] node left;
  - nothing lost: both receivers got the same messages in the same order
    (position, sender, size and hash of each, line for line), every message
    the publishers on the nodes that stayed up were told was accepted among
    them;
  - no frame refused: the drops version-mismatch and bad-version stay 0 at
    every node; the stopped node exits 0.

usage: test_rolling_upgrade.py ORDOD [ORDO-IT-RECV]  (ordo-pub is taken from
ORDOD's directory; ordo-it-recv from its argument, else from
build/tests/integration)"""
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, Skip, log, main_test, ms  # noqa: E402

NODES = (1, 2, 3)
ORDER = (3, 2, 1)      # the order of the upgrade: the last is the lowest id
OLD = {'protocol_test': 'yes', 'protocol_min': 1, 'protocol_max': 1}
NEW = {'protocol_test': 'yes', 'protocol_min': 1, 'protocol_max': 2}
RATE = 300             # messages per second per publisher
SIZE = 256
GROUP = 'upgrade'
REFUSALS = ('version-mismatch', 'bad-version')
PUBLISHED_RE = re.compile(r'published (\d+) messages')
MESSAGE_RE = re.compile(r'message \S+ from (\d+)/\d+ ')


def versions(c, nodes):
    """{node: (proto_version, proto_min, proto_max)} from telemetry."""
    out = {}
    for i in nodes:
        n = c.node(i)
        out[i] = (int(n['proto_version']), int(n['proto_min']), int(n['proto_max']))
    return out


def check_version(c, nodes, want, errors, when):
    v = versions(c, nodes)
    log(f'{when}: the ring runs ' + ', '.join(f'n{i} version {r} (speaks {lo}..{hi})'
                                            for i, (r, lo, hi) in sorted(v.items())))
    for i, (r, _, _) in v.items():
        if r != want:
            errors.append(f'{when}: n{i} runs protocol version {r}, expected {want}')


def check_refusals(c, nodes, errors, when):
    for i in nodes:
        d = c.drops(i)
        bad = {k: d.get(k, 0) for k in REFUSALS if d.get(k, 0)}
        if bad:
            errors.append(f'{when}: n{i} refused frames for their version: {bad}')


def messages(cl):
    return [ln for ln in cl.lines() if ln.startswith('message ')]


def step(c, k, new, pub_prog, recv_prog, errors):
    """Stops node k under load, restarts it with NEW, checks what stayed up."""
    up = [i for i in NODES if i != k]
    rx = {i: c.client(i, recv_prog, GROUP, name=f'recv-n{i}-for-n{k}') for i in up}
    c.wait_until(lambda: all(any(ln.startswith('joined ') for ln in r.lines()) for r in rx.values()), 30,
                 f'receivers on {up} joined {GROUP}')
    pubs = {i: c.client(i, pub_prog, '-g', GROUP, '-n', 10 ** 9, '-z', SIZE, '-r', RATE,
                        name=f'pub-n{i}-for-n{k}') for i in NODES}
    c.wait_until(lambda: all(len(messages(r)) >= RATE for r in rx.values()), 30,
                 'the load reaching both receivers')

    t_stop = time.time_ns()
    rc = c.stop(k)
    want_down = 2 if all(new[i] for i in up) else 1
    snap = c.wait_ring(up, nodes=up, timeout=30, what=f'{up} in a ring after n{k} left')
    dt = max((snap[i]['last_config_unix_ns'] - t_stop) / 1e9 for i in up)
    log(f'n{k} stopped (exit {rc}); {up} installed their ring {ms(dt)} after SIGTERM')
    if rc != 0:
        errors.append(f'n{k} exited {rc} after SIGTERM (expected 0)')
    check_version(c, up, want_down, errors, f'n{k} down')

    new[k] = True
    c.node_conf[k] = {'node': NEW}
    c.write_config(k)
    t_start = time.time_ns()
    c.start(k)
    snap = c.wait_ring(list(NODES), timeout=90, what=f'n{k} to rejoin with protocol versions 1..2')
    log(f'n{k} rejoined {(max(s["last_config_unix_ns"] for s in snap.values()) - t_start) / 1e9:.3f} s '
        f'after its restart, speaking 1..2')
    want_up = 2 if all(new.values()) else 1
    check_version(c, NODES, want_up, errors, f'n{k} back')
    # the load goes on across the rejoin
    seen = {i: len(messages(r)) for i, r in rx.items()}
    c.wait_until(lambda: all(len(messages(r)) > seen[i] + RATE // 2 for i, r in rx.items()), 30,
                 'the load going on after the rejoin')
    for i in up:
        if not pubs[i].running():
            errors.append(f'the publisher on n{i} stopped during the step: {pubs[i].err().strip()[-300:]}')

    # stop the load (SIGINT: ordo-pub says how many it published), then
    # wait until both receivers have everything
    published = {}
    for i in up:
        pubs[i].send_signal(signal.SIGINT)
    for i in up:
        pubs[i].wait(10, f'ordo-pub on n{i} to stop')
        m = [PUBLISHED_RE.search(ln) for ln in pubs[i].lines()]
        m = [x for x in m if x]
        if pubs[i].proc.returncode != 0 or not m:
            raise Fail(f'ordo-pub on n{i}: exit {pubs[i].proc.returncode}: {pubs[i].err().strip()[-300:]}')
        published[i] = int(m[-1].group(1))
    pubs[k].stop()  # attached to the node that restarted: detached when it left
    st = {'key': None, 'since': 0.0}

    def settled():
        key = tuple(len(messages(r)) for r in rx.values())
        if key != st['key']:
            st['key'], st['since'] = key, time.monotonic()
        return len(set(key)) == 1 and time.monotonic() - st['since'] >= 1.0

    c.wait_until(settled, 60, 'both receivers to have the same number of messages, quiet for 1 s')
    c.stop_clients(list(rx.values()))
    lists = {i: messages(r) for i, r in rx.items()}
    a, b = up
    by_node = {i: sum(1 for ln in lists[a] if MESSAGE_RE.match(ln).group(1) == str(i)) for i in NODES}
    log(f'step n{k}: the receivers on n{a} and n{b} got {len(lists[a])} and {len(lists[b])} messages; '
        f'from n1 {by_node[1]}, n2 {by_node[2]}, n3 {by_node[3]}; published at the nodes that stayed up: '
        + ', '.join(f'n{i} {published[i]}' for i in up))
    if lists[a] != lists[b]:
        first = next((x for x, (p, q) in enumerate(zip(lists[a], lists[b])) if p != q), min(len(lists[a]), len(lists[b])))
        errors.append(f'step n{k}: the receivers on n{a} and n{b} differ from message {first}: '
                      f'{lists[a][first:first + 1]} vs {lists[b][first:first + 1]}')
    for i in up:
        if by_node[i] != published[i]:
            errors.append(f'step n{k}: ordo-pub on n{i} published {published[i]} messages, '
                          f'the receivers got {by_node[i]} of them')
    if by_node[k] == 0:
        errors.append(f'step n{k}: nothing from n{k}\'s publisher before it left (the load did not reach it)')
    check_refusals(c, NODES, errors, f'after step n{k}')
    if errors:
        raise Fail('; '.join(errors))


def test(ordod, args):
    bindir = os.path.dirname(os.path.abspath(ordod))
    pub_prog = os.path.join(bindir, 'ordo-pub')
    recv_prog = args[0] if args else os.path.join(bindir, '..', 'tests', 'integration', 'ordo-it-recv')
    for p in (pub_prog, recv_prog):
        if not os.access(p, os.X_OK):
            raise Skip(f'{p} not built')
    errors = []
    with Cluster(ordod, nodes=3, paths=2, sections={'node': OLD}) as c:
        c.start_all()
        c.wait_ring(list(NODES), timeout=60)
        check_version(c, NODES, 1, errors, 'before the upgrade')
        new = {i: False for i in NODES}
        for k in ORDER:
            step(c, k, new, pub_prog, recv_prog, errors)
        v = versions(c, NODES)
        if any(v[i] != (2, 1, 2) for i in NODES):
            raise Fail(f'after the upgrade: {v} (expected version 2, range 1..2, everywhere)')
        c.finish()
        log('rolling upgrade done: every node speaks 1..2, the ring runs version 2, '
            'nothing lost and no frame refused at any step')


if __name__ == '__main__':
    main_test(test, usage='ORDOD [ORDO-IT-RECV]')
