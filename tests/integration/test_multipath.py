#!/usr/bin/env python3
"""multipath: networks that reach only some nodes (docs/protocol.md §17), on
real ordod processes. Four nodes; network 0 reaches all of them, network 1
nodes 1 and 2, network 2 nodes 3, 4 and 1. Every node sends 1,024-byte
messages at RATE msgs/s.

1. Each network in turn is cut at every node for HOLD_S while deliveries
   flow, then restored. Every single cut leaves the working graph of the
   four nodes connected (0: 2-1 on network 1, 1-3-4 on network 2; 1 or 2:
   network 0 joins everyone), so the semantics say: no configuration
   change. The test asserts the ring id and the count of regular
   configurations are unchanged at every node, and prints the longest
   delivery gap at each node during each cut (the closing note's number).
   After the load, every node delivered every message, in one order
   (equal counts and digests, no gap per origin).
2. Networks 0 and 1 are cut together: node 2 is on no other network, so
   the working graph falls apart into {2} and {1, 3, 4}: a partition, and
   the right configuration change is a ring {1, 3, 4} and a ring {2}. Then
   both are restored and the four nodes form one ring again.

usage: test_multipath.py ORDOD"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, delivery_errors, log, main_test, ring_key  # noqa: E402

NODES = [1, 2, 3, 4]
NETS = [[1, 2, 3, 4], [1, 2], [1, 3, 4]]
SIZE = 1024
RATE = 2000
HOLD_S = 2.0
SETTLE_S = 1.5
COUNT = int(RATE * (4 + HOLD_S + len(NETS) * (HOLD_S + SETTLE_S + 1.0)))


def test(ordod, args):
    del args
    with Cluster(ordod, nodes=4, nets=NETS,
                 load={'size': SIZE, 'rate': RATE, 'count': COUNT}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, RATE)
        before = c.ring_snapshot()
        errors, gaps = [], {}
        # the same window without a cut, for comparison
        for i in NODES:
            c.delivery_reset(i)
        time.sleep(HOLD_S)
        base = max(c.delivery(i)['max_gap_ns'] / 1e6 for i in NODES)
        log(f'longest delivery gap in {HOLD_S:.0f} s without a cut: {base:.1f} ms')
        for k in range(len(NETS)):
            for i in NODES:
                c.delivery_reset(i)
            time.sleep(0.1)
            c.topo('cut-net', k)
            t = time.monotonic()
            while time.monotonic() - t < HOLD_S:
                c.check_alive()
                time.sleep(0.05)
            during = c.ring_snapshot()
            gaps[k] = {i: c.delivery(i)['max_gap_ns'] / 1e6 for i in NODES}
            log(f'network {k} (nodes {",".join(map(str, NETS[k]))}) cut for {HOLD_S:.0f} s: longest '
                'delivery gap ' + ', '.join(f'n{i} {gaps[k][i]:.1f} ms' for i in NODES))
            for i in NODES:
                if ring_key(during[i]) != ring_key(before[i]):
                    errors.append(f'n{i}: configuration changed while network {k} was cut: '
                                  f'(rep, seq, configs_regular) {ring_key(before[i])} -> '
                                  f'{ring_key(during[i])}')
            c.topo('restore-net', k)
            time.sleep(SETTLE_S)
        if errors:
            raise Fail('; '.join(errors))
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        after = c.ring_snapshot()
        errors = delivery_errors(d, NODES, len(NODES) * COUNT)
        errors += [f'n{i}: configuration changed: {ring_key(before[i])} -> {ring_key(after[i])}'
                   for i in NODES if ring_key(after[i]) != ring_key(before[i])]
        if errors:
            raise Fail('; '.join(errors))
        log(f'closing note, longest delivery gap per cut (without a cut: {base:.1f} ms): ' + '; '.join(
            f'network {k}: max {max(gaps[k].values()):.1f} ms' for k in gaps))

        # 2. a partition: node 2 is on networks 0 and 1 only
        c.topo('cut-net', 0)
        c.topo('cut-net', 1)
        c.wait_ring([1, 3, 4], timeout=30, what='nodes 1, 3, 4 in a ring of their own')
        c.wait_ring([2], timeout=30, what='node 2 alone')
        log('networks 0 and 1 cut: rings {1,3,4} and {2}, as the semantics say')
        c.topo('restore-net', 0)
        c.topo('restore-net', 1)
        c.wait_ring(NODES, timeout=60, what='one ring again after the restore')
        c.finish()


if __name__ == '__main__':
    main_test(test, usage='ORDOD')
