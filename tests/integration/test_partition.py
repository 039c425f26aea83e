#!/usr/bin/env python3
"""partition: 3 nodes under the majority quorum with a light load. The
network is split into {1} and {2,3} (on every path): node 1 must end in a
regular configuration [1] that is not primary, nodes 2 and 3 in [2,3] that is
primary. After the heal all three must merge into one primary ring [1,2,3].
Prints how long each step took.

usage: test_partition.py ORDOD [TRANSPORT]  (a mode of transports.py: udp4,
udp6, ... on their topology; default the L2 transport, bridged)"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, log, main_test, ms  # noqa: E402
import transports  # noqa: E402

NODES = [1, 2, 3]


def test(ordod, args):
    kw = transports.cluster_args(args[0]) if args else {}
    with Cluster(ordod, nodes=3, paths=2, ring={'quorum': 'majority'},
                 load={'size': 256, 'rate': 200}, **kw) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60, primary=1)
        c.wait_flowing(NODES, 0)
        # times count from the start of the topology command: it splits the
        # paths one by one, and the ring may react before it returns
        t_part = time.time_ns()
        c.topo('partition', 1, '2,3')
        log(f'partition command took {ms((time.time_ns() - t_part) / 1e9)}')
        s1 = c.wait_ring([1], timeout=30, primary=0, what='n1 alone: [1], not primary')
        s23 = c.wait_ring([2, 3], timeout=30, primary=1, what='n2, n3: [2,3], primary')
        for i, s in list(s1.items()) + list(s23.items()):
            log(f'n{i}: members {s["members"]} primary {s["primary"]} installed '
                f'{ms((s["last_config_unix_ns"] - t_part) / 1e9)} after the partition command started')
        # the split must hold (no flapping back and forth) for a while
        time.sleep(1.0)
        again = c.ring_snapshot()
        for i, want in ((1, [1]), (2, [2, 3]), (3, [2, 3])):
            if sorted(again[i]['members']) != want:
                raise Fail(f'n{i} left its partition ring: members {again[i]["members"]}')
        t_heal = time.time_ns()
        c.topo('heal')
        log(f'heal command took {ms((time.time_ns() - t_heal) / 1e9)}')
        s = c.wait_ring(NODES, timeout=60, primary=1, what='the merge: one ring [1,2,3], primary')
        for i in NODES:
            log(f'n{i}: merged {ms((s[i]["last_config_unix_ns"] - t_heal) / 1e9)} after the heal command started; '
                f'configs_regular {s[i]["configs_regular"]} transitional '
                f'{s[i].get("configs_transitional")}')
        for i in NODES:
            d = c.delivery(i)
            log(f'n{i}: delivered {d["delivered"]} origin_gaps {d["origin_gaps"]} (gaps are '
                f'expected: each side missed the other\'s messages) fragments_dropped '
                f'{d.get("fragments_dropped")}')
        base = {i: c.delivery(i)['delivered'] for i in NODES}
        _, dt = c.wait_until(lambda: all(c.delivery(i)['delivered'] > base[i] + 300 for i in NODES),
                             20, 'deliveries to go on after the merge')
        log(f'deliveries go on after the merge (300 more at every node in {ms(dt)})')
        c.finish()


if __name__ == '__main__':
    main_test(test)
