#!/usr/bin/env python3
"""ring-forms: 3 nodes, 2 paths, active RRP. Every node sends 20,000 messages
of 1,024 B as fast as the ring takes them; every node must deliver all
60,000, in the same order (equal digests), with no per-origin gap.
Prints the time the ring took to form and the delivered msgs/s per node.

With the argument `block`, the nodes run with `idle = block` (they sleep in
epoll on their af_packet sockets when idle): the same must hold, and every
node must have slept and been woken by frames (its rx descriptor works).

With `small-pool`, each path's mbuf pool has 384 mbufs, so a node may keep
at most 128 received frames in their mbufs (zero-copy receive) and copies
the rest into its store: the same must hold."""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, log, main_test, ms  # noqa: E402

NODES = [1, 2, 3]
SIZE = 1024
COUNT = 20000


def test(ordod, args):
    total = COUNT * len(NODES)
    block = 'block' in args
    sections = {'node': {'idle': 'block'}} if block else {}
    if 'small-pool' in args:
        sections.update({'path0': {'mbufs': 384}, 'path1': {'mbufs': 384}})
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'},
                 load={'size': SIZE, 'count': COUNT}, sections=sections) as c:
        t_start = time.time_ns()
        c.start_all()
        snap = c.wait_ring(NODES, timeout=60)
        formed_ns = max(s['last_config_unix_ns'] for s in snap.values())
        log(f'ring formed {(formed_ns - t_start) / 1e9:.3f} s after the first start')
        done_at = {}

        def all_delivered():
            for i in NODES:
                if i in done_at:
                    continue
                d = c.delivery(i)
                if d['delivered'] > total:
                    raise Fail(f'n{i} delivered {d["delivered"]} messages, more than the '
                               f'{total} sent')
                if d['delivered'] == total and int(d['load_done']) == 1:
                    done_at[i] = time.time_ns()
            return len(done_at) == len(NODES)

        _, dt = c.wait_until(all_delivered, 240, f'delivered == {total} and load_done at every node')
        log(f'all {total} messages delivered at every node ({ms(dt)} after the ring formed was seen)')
        final = c.ring_snapshot()
        ds = c.all(c.delivery)
        since_start = (time.time_ns() - t_start) / 1e9
        for i in NODES:
            up = final[i]['uptime_ns'] / 1e9
            log(f'n{i}: uptime {up:.3f} s (started {since_start:.3f} s ago), incarnation '
                f'{final[i]["incarnation"]}, proto_version {final[i]["proto_version"]}')
            if not 0 < up <= since_start + 0.05:
                log(f'WARNING: n{i} reports uptime_ns {final[i]["uptime_ns"]}, but it was started '
                    f'{since_start:.3f} s ago')
        for i in NODES:
            d, s = ds[i], final[i]
            secs = (done_at[i] - s['last_config_unix_ns']) / 1e9
            log(f'n{i}: delivered {d["delivered"]} bytes {d["bytes"]} digest {d["digest"]} '
                f'origin_gaps {d["origin_gaps"]} fragments_dropped {d.get("fragments_dropped")} '
                f'load_sent {d.get("load_sent")}; {d["delivered"] / secs:,.0f} msgs/s, '
                f'{d["bytes"] * 8 / secs / 1e9:.2f} Gbit/s delivered over {secs:.3f} s')
        st = c.all(c.stats)
        for i in NODES:
            s = st[i]
            log(f'n{i} stats: frames_sent {s.get("frames_sent")} retransmitted '
                f'{s.get("frames_retransmitted")} tokens_received {s.get("tokens_received")} '
                f'token_losses {s.get("token_losses")} rings_installed {s.get("rings_installed")} '
                f'frames_kept {s.get("frames_kept")} frames_lent {s.get("frames_lent")}')
        errors = []
        for i in NODES:
            # zero_copy is on by default: received frames stay in their mbufs
            if not st[i].get('frames_kept'):
                errors.append(f'n{i} frames_kept {st[i].get("frames_kept")} (expected > 0: zero-copy receive)')
            others = sum(st[k].get('frames_sent', 0) for k in NODES if k != i)
            log(f'n{i} kept {st[i].get("frames_kept")} of the {others} data frames the others sent '
                f'(the rest copied into the store)')
        if len({ds[i]['digest'] for i in NODES}) != 1:
            errors.append('digests differ: ' + ', '.join(f'n{i} {ds[i]["digest"]}' for i in NODES))
        for i in NODES:
            if ds[i]['origin_gaps'] != 0:
                errors.append(f'n{i} origin_gaps {ds[i]["origin_gaps"]} (expected 0)')
            if ds[i]['bytes'] != total * SIZE:
                log(f'WARNING: n{i} reports {ds[i]["bytes"]} bytes delivered, '
                    f'{total} x {SIZE} = {total * SIZE} expected')
        for i in NODES:
            if (final[i]['ring_rep'], final[i]['ring_seq']) != (snap[i]['ring_rep'], snap[i]['ring_seq']):
                log(f'WARNING: n{i} changed ring during the run without any fault: '
                    f'{snap[i]["ring_rep"]}/{snap[i]["ring_seq"]} -> '
                    f'{final[i]["ring_rep"]}/{final[i]["ring_seq"]}, configs_regular '
                    f'{final[i]["configs_regular"]}')
        if block:
            for i in NODES:
                s = st[i]
                log(f'n{i} idle block: sleeps {s.get("sleeps")}, woken by frames {s.get("wakes_frames")}, '
                    f'doorbell {s.get("wakes_doorbell")}, timers {s.get("wakes_timer")}')
                if not s.get('sleeps') or not s.get('wakes_frames'):
                    errors.append(f'n{i} idle = block: sleeps {s.get("sleeps")}, woken by frames '
                                  f'{s.get("wakes_frames")} (expected both > 0)')
        c.finish(errors)


if __name__ == '__main__':
    main_test(test)
