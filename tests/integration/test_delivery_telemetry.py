#!/usr/bin/env python3
"""delivery-telemetry: /ordo/delivery counts what was published, and only
that. Nodes 1 and 2 form a ring first, then node 3 joins; no load
generator, no client: nobody publishes anything. Every node must report
delivered 0, bytes 0 and the same digest (docs/ordod.md: `delivered` is
whole messages; two nodes that delivered the same messages in the same
order have the same digest).

The engine's group-state exchange (a SYNC group operation from every node
at each configuration that adds nodes, engine/eng_clients.c queue_sync)
goes through the total order like a message; engine/eng_worker.c perform()
passes every RP_ACT_DELIVER to eng_delivery_on_fragment, so those count.
Nodes 1 and 2 deliver their SYNCs in the two-node ring, which node 3 never
sees: their counts and digests differ from node 3's for good, and every test
that waits for equal counts (ring-forms, bad-frames, path-cut, sometimes
kill-restart, whenever the ring forms in two steps) fails.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, log, main_test  # noqa: E402


def test(ordod, args):
    with Cluster(ordod, nodes=3, paths=2) as c:
        c.start(1)
        c.start(2)
        c.wait_ring([1, 2], nodes=[1, 2], timeout=60)
        c.start(3)
        c.wait_ring([1, 2, 3], timeout=60)
        st = {'key': None, 'since': 0.0}

        def settled():
            d = c.all(c.delivery)
            key = tuple((d[i]['delivered'], d[i]['digest']) for i in c.nodes)
            if key != st['key']:
                st['key'], st['since'] = key, time.monotonic()
                return False
            return d if time.monotonic() - st['since'] >= 1.0 else False

        d, _ = c.wait_until(settled, 30, 'the delivery counters to settle')
        for i in c.nodes:
            s = c.node(i)
            log(f'n{i}: delivered {d[i]["delivered"]} bytes {d[i]["bytes"]} digest {d[i]["digest"]} '
                f'(configs_regular {s["configs_regular"]})')
        errors = []
        for i in c.nodes:
            if d[i]['delivered'] != 0 or d[i]['bytes'] != 0:
                errors.append(f'n{i} reports {d[i]["delivered"]} messages / {d[i]["bytes"]} bytes '
                              'delivered; nothing was published')
        if len({d[i]['digest'] for i in c.nodes}) != 1:
            errors.append('digests differ: ' + ', '.join(f'n{i} {d[i]["digest"]}' for i in c.nodes))
        c.stop_all()
        if errors:
            raise Fail('; '.join(errors) + ' (engine-internal group operations are counted as '
                       'deliveries: engine/eng_worker.c perform(), RP_ACT_DELIVER)')


if __name__ == '__main__':
    main_test(test)
