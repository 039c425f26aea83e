#!/usr/bin/env python3
"""kill-restart: 3 nodes, every node sends 6,000 messages of 1,024 B at
2,000 msgs/s. About 1 s into the load node 3 is killed with SIGKILL: nodes 1
and 2 must install a regular configuration [1,2] within token_loss + consensus
(docs/ordod.md, profile shared) + 1 s of slack for this shared VM. Node 3 is
restarted with the same config (a new incarnation) and must rejoin: one ring
[1,2,3] everywhere. When the run is quiet, nodes 1 and 2 must have delivered
the same messages in the same order (equal counts and digests) with no
per-origin gap.

usage: test_kill_restart.py ORDOD [TRANSPORT]  (a mode of transports.py: udp4,
udp6, ... on their topology; default the L2 transport, bridged)"""
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, delivery_errors, log, log_deliveries, main_test, ms  # noqa: E402
import transports  # noqa: E402

SIZE = 1024
RATE = 2000
COUNT = 6000
SLACK_S = 1.0


def test(ordod, args):
    kw = transports.cluster_args(args[0]) if args else {}
    with Cluster(ordod, nodes=3, paths=2, load={'size': SIZE, 'rate': RATE, 'count': COUNT}, **kw) as c:
        limit_s = (c.ring_us('token_loss_us') + c.ring_us('consensus_us')) / 1e6 + SLACK_S
        c.start_all()
        snap = c.wait_ring([1, 2, 3], timeout=60)
        formed_ns = max(s['last_config_unix_ns'] for s in snap.values())
        c.wait_flowing((1, 2, 3), 0)
        # kill about 1 s into the load
        wait = 1.0 - (time.time_ns() - formed_ns) / 1e9
        if wait > 0:
            time.sleep(wait)
        inc3 = c.node(3)['incarnation']
        pre = c.ring_snapshot([1, 2])
        d3 = c.delivery(3)
        log(f'before the kill: n3 incarnation {inc3}, delivered {d3["delivered"]}, '
            f'load_sent {d3.get("load_sent")}')
        t_kill = c.kill(3, signal.SIGKILL)
        snap = c.wait_ring([1, 2], timeout=30, what='nodes 1 and 2 in a regular configuration [1,2]')
        errors = []
        for i in (1, 2):
            s = snap[i]
            dt = (s['last_config_unix_ns'] - t_kill) / 1e9
            log(f'n{i}: regular configuration [1,2] (primary {s["primary"]}) installed {ms(dt)} '
                f'after the kill (limit token_loss + consensus + {SLACK_S:.0f} s = {ms(limit_s)}); '
                f'configs_regular {pre[i]["configs_regular"]} -> {s["configs_regular"]}, '
                f'transitional {s.get("configs_transitional")}')
            if dt > limit_s:
                errors.append(f'n{i} took {ms(dt)} to install [1,2] after the kill '
                              f'(limit {ms(limit_s)})')
            if dt < 0:
                errors.append(f'n{i}: last_config_unix_ns is before the kill ({ms(dt)})')
            if int(s['primary']) != 1:
                errors.append(f'n{i}: [1,2] of 3 under majority must be primary, is {s["primary"]}')
        for i in (1, 2):
            g = c.delivery(i)['origin_gaps']
            if g != 0:
                errors.append(f'n{i} origin_gaps {g} after the kill (expected 0)')
        if errors:
            raise Fail('; '.join(errors))

        t_restart = time.time_ns()
        c.start(3)
        snap = c.wait_ring([1, 2, 3], timeout=60, what='node 3 to rejoin: one ring [1,2,3]')
        rejoin = (max(s['last_config_unix_ns'] for s in snap.values()) - t_restart) / 1e9
        inc3b = snap[3]['incarnation']
        log(f'n3 rejoined {rejoin:.3f} s after the restart, incarnation {inc3} -> {inc3b}')
        if not inc3b > inc3:
            errors.append(f'n3 restarted with incarnation {inc3b}, not above {inc3}')

        d = c.wait_quiet([1, 2], stable_s=1.5, timeout=120)
        d3 = c.delivery(3)
        final = c.ring_snapshot()
        # equal at nodes 1 and 2, no gap; node 3 restarted: its own count
        fields = ('fragments_dropped', 'load_sent')

        def ring(i):
            return f'members {final[i]["members"]} configs_regular {final[i]["configs_regular"]}'
        errors += delivery_errors(d, (1, 2), None, fields, ring)
        log_deliveries({3: d3}, (3,), fields, ring)
        n3_first = d[1]['delivered'] - 3 * COUNT
        log(f'messages of n3\'s first incarnation delivered at nodes 1 and 2: {n3_first}')
        if d[1]['delivered'] < 3 * COUNT:
            errors.append(f'n1 delivered {d[1]["delivered"]}, expected at least {3 * COUNT} '
                          f'(two full loads and n3\'s second incarnation)')
        for i in (1, 2, 3):
            if sorted(final[i]['members']) != [1, 2, 3] or final[i]['state'] != 'operational':
                errors.append(f'n{i} ends in {final[i]["state"]} with members {final[i]["members"]}')
        if errors:
            raise Fail('; '.join(errors))
        c.report_drops()
        # and a polite leave: SIGTERM makes node 3 leave the ring (docs/ordod.md)
        pre = c.ring_snapshot([1, 2])
        t_term = time.time_ns()
        rc = c.stop(3)
        snap = c.wait_ring([1, 2], timeout=30, what='nodes 1 and 2 in [1,2] after n3 left')
        for i in (1, 2):
            dt = (snap[i]['last_config_unix_ns'] - t_term) / 1e9
            log(f'n{i}: [1,2] installed {ms(dt)} after SIGTERM to n3 (a polite leave; exit {rc}); '
                f'configs_regular {pre[i]["configs_regular"]} -> {snap[i]["configs_regular"]}')
            if dt > limit_s:
                errors.append(f'n{i} took {ms(dt)} to install [1,2] after n3 left (limit {ms(limit_s)})')
        if rc != 0:
            errors.append(f'n3 exited {rc} after SIGTERM (expected 0)')
        if errors:
            raise Fail('; '.join(errors))
        c.stop_all()


if __name__ == '__main__':
    main_test(test)
