#!/usr/bin/env python3
"""demo_cluster.py — the daemon and client parts of scripts/demo: what the
demo shows and how it says it, on a cluster of real ordod processes run by
the integration harness (tests/harness: ownership.py owns the processes and
the topology, telemetry.py reads the nodes, cluster.py runs them; this file
only the story).

    demo_cluster.py demo ORDOD [--count N]   three nodes, every node sending;
                                             a path cut and restored
    demo_cluster.py demo-clients ORDOD        ordo-sub, ordo-pub and ordo-kv
                                             on the cluster

Python 3 standard library only. Needs root (namespaces, raw sockets).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests',
                                'harness'))
import cluster as oc  # noqa: E402


def demo(ordod, count=30000, size=1024, rate=5000):
    """The daemon part of scripts/demo."""
    with oc.Cluster(ordod, nodes=3, paths=2, prefix='ordo-demo-n', what='scripts/demo',
                 load={'size': size, 'count': count}) as c:
        print(f'\n== phase 1: three ordod on 3 namespaces x 2 paths, every node sends '
              f'{count} messages of {size} B as fast as the ring takes them', flush=True)
        t_start = time.time_ns()
        c.start_all()
        seen = {}

        def watch():
            snap = c.ring_snapshot()
            for i, s in snap.items():
                key = (s['state'], tuple(s['members']))
                if seen.get(i) != key:
                    seen[i] = key
                    oc.log(f'n{i}: {s["state"]:<11} members {s["members"]}')
            return all(s['state'] == 'operational' and sorted(s['members']) == [1, 2, 3]
                       and s['ring_rep'] == snap[1]['ring_rep'] and s['ring_seq'] == snap[1]['ring_seq']
                       for s in snap.values())

        _, dt = c.wait_until(watch, 60, 'the ring to form')
        snap = c.ring_snapshot()
        formed = (snap[1]['last_config_unix_ns'] - t_start) / 1e9
        oc.log(f'ring formed: rep {snap[1]["ring_rep"]} seq {snap[1]["ring_seq"]}, '
            f'{formed:.3f} s after the first start')
        print('   how each node got there (its log):', flush=True)
        for i in c.nodes:
            with open(c.nodes[i].log_path, errors='replace') as f:
                for line in f:
                    if 'configuration' in line:
                        print('     ' + line.rstrip(), flush=True)
        total = 3 * count
        done_at = {}

        def all_done():
            for i in c.nodes:
                if i in done_at:
                    continue
                d = c.delivery(i)
                if d['delivered'] >= total:
                    done_at[i] = time.time_ns()
            return len(done_at) == len(c.nodes)

        c.wait_until(all_done, 300, f'{total} deliveries at every node')
        print(f'\n   node  delivered  digest              msgs/s delivered   MB/s', flush=True)
        digests = set()
        for i in c.nodes:
            d = c.delivery(i)
            s = c.node(i)
            secs = (done_at[i] - s['last_config_unix_ns']) / 1e9
            digests.add(d['digest'])
            print(f'   n{i}    {d["delivered"]:>9}  {d["digest"]:<18}  {d["delivered"] / secs:>12,.0f}'
                  f'   {d["bytes"] / secs / 1e6:7.1f}   (origin gaps {d["origin_gaps"]})', flush=True)
        print(f'   {"the same sequence everywhere" if len(digests) == 1 else "DIGESTS DIFFER"}',
              flush=True)
        if len(digests) != 1:
            raise oc.Fail('digests differ')

        print(f'\n== phase 2: restart with a rate-limited load ({rate} msgs/s per node), '
              'cut path 0 of node 1, restore it', flush=True)
        c.stop_all()
        c.set_load({'size': size, 'rate': rate})
        c.start_all()
        c.wait_ring([1, 2, 3])
        c.wait_flowing(c.nodes, 1000)
        before = c.ring_snapshot()
        for i in c.nodes:
            c.delivery_reset(i)
        c.topo('cut', 1, 0)
        t_cut = time.monotonic()

        def faulty():
            p = c.paths_info(1)
            return p['path0']['state'] in ('faulty', 'excluded')

        _, dt = c.wait_until(faulty, 10, 'n1 to report path 0 faulty')
        oc.log(f'n1 reports path 0 {c.paths_info(1)["path0"]["state"]} after {oc.ms(dt)}')
        time.sleep(max(0, 2 - (time.monotonic() - t_cut)))
        for i in c.nodes:
            p = c.paths_info(i)
            d = c.delivery(i)
            oc.log(f'n{i}: path0 {p["path0"]["state"]:<8} in_use {p["in_use"]:#x} faulty '
                f'{p["faulty"]:#x}; longest delivery gap {d["max_gap_ns"] / 1e6:.1f} ms, '
                f'delivered {d["delivered"]}')
        c.topo('restore', 1, 0)
        t_res = time.monotonic()
        c.wait_until(lambda: all(int(c.paths_info(i)['in_use']) & 1 for i in c.nodes), 30,
                     'path 0 back in use everywhere')
        oc.log(f'path 0 reinstated everywhere {oc.ms(time.monotonic() - t_res)} after the restore')
        after = c.ring_snapshot()
        same = all(oc.ring_key(before[i]) == oc.ring_key(after[i]) for i in c.nodes)
        oc.log(f'no configuration change: ring {after[1]["ring_rep"]}:{after[1]["ring_seq"]} '
            'throughout at every node' if same else 'CONFIGURATION CHANGED during the path cut')
        for i in c.nodes:
            p = c.paths_info(i)['path0']
            oc.log(f'n{i} path 0: {p["state"]}, faults {p["faults"]}, reinstated {p["reinstated"]}')
        c.stop_all()
        if not same:
            raise oc.Fail('configuration changed during a path cut')
    print('== daemons stopped, topology down', flush=True)


def demo_clients(ordod, kv_updates=2000, kv_keys=100):
    """The client part of scripts/demo: ordo-sub at nodes 2 and 3, ordo-pub at
    node 1, then ordo-kv at every node (ordo-pub, ordo-sub, ordo-kv are taken
    from ordod's directory)."""
    bindir = os.path.dirname(os.path.abspath(ordod))
    pub, sub, kv = (os.path.join(bindir, p) for p in ('ordo-pub', 'ordo-sub', 'ordo-kv'))
    for p in (pub, sub, kv):
        if not os.access(p, os.X_OK):
            raise oc.Skip(f'no {p}')
    texts = ['hello from node 1', 'every member sees the same order', 'third', 'and the last one']

    def show(cl, lines, prefix):
        for line in lines:
            print(f'   {prefix} {line}', flush=True)

    with oc.Cluster(ordod, nodes=3, paths=2, prefix='ordo-demo-n', what='scripts/demo clients') as c:
        c.start_all()
        c.wait_ring([1, 2, 3])
        for i in c.nodes:
            c.wait_socket(i)
        print(f'   control sockets: {", ".join(c.socket_path(i) for i in c.nodes)}', flush=True)
        subs = {i: c.client(i, sub, 'demo', name=f'sub-n{i}') for i in (2, 3)}

        def joined():
            # each has seen the view with its own join: both joins are
            # ordered, so whatever is published from now on reaches both
            return all(any(x.startswith('view ') for x in cl.lines()) for cl in subs.values())

        c.wait_until(joined, 20, 'both subscribers in the view')
        for k, text in enumerate(texts):
            p = c.client(1, pub, '-g', 'demo', text, name=f'pub-n1-{k}')
            if p.wait(20) != 0:
                raise oc.Fail(f'ordo-pub: {p.err().strip()}')
        c.wait_until(lambda: all(sum(1 for x in cl.lines() if x.startswith('message ')) >= len(texts)
                                 for cl in subs.values()), 20, 'the messages at both subscribers')
        c.stop_clients(list(subs.values()))
        pos = {}
        print('   (how to read it: "message R:S/F.I" is the message\'s place in the total order, ring R, '
              'sequence S,\n    frame F, index I in the frame; "from N/C" and a view\'s members are node N\'s '
              'client C;\n    +: joined, -: left)', flush=True)
        for i, cl in subs.items():
            print(f'   ordo-sub at node {i}:', flush=True)
            show(cl, cl.lines(), f'n{i}>')
            pos[i] = [x.split(' from ')[0] for x in cl.lines() if x.startswith('message ')]
        print('   ' + ('the same messages at the same order positions (ring:seq/frame.index) at both'
                      if pos[2] == pos[3] else 'ORDER POSITIONS DIFFER'), flush=True)
        if pos[2] != pos[3]:
            raise oc.Fail('order positions differ between node 2 and node 3')

        print(f'\n   ordo-kv on every node: {kv_updates} random SET/DEL updates each over {kv_keys} keys, '
              'every update applied in delivery order (node 1 shows its first 3)', flush=True)
        t = time.monotonic()
        kvs = {i: c.client(i, kv, '-n', kv_updates, '-k', kv_keys, '-m', 3, '-w', 30,
                           *(['-v', 3] if i == 1 else []), name=f'kv-n{i}') for i in c.nodes}
        for cl in kvs.values():
            cl.wait(40)
        secs = time.monotonic() - t
        digests = {}
        for i, cl in kvs.items():
            show(cl, cl.lines(), f'n{i}>')
            for x in cl.lines():
                if x.startswith('kv: applied'):
                    digests[i] = x.rsplit(' ', 1)[1]
            if cl.poll() != 0:
                show(cl, cl.err().splitlines(), f'n{i}!')
        same = len(digests) == 3 and len(set(digests.values())) == 1
        print(f'   {"the same state everywhere" if same else "STATES DIFFER"} '
              f'({secs:.2f} s for the three, start to exit)', flush=True)
        c.stop_all()
        if not same:
            raise oc.Fail(f'kv digests: {digests}')
    print('== clients stopped, daemons stopped, topology down', flush=True)


def main():
    args = sys.argv[1:]
    parts = {'demo': demo, 'demo-clients': demo_clients}
    if len(args) < 2 or args[0] not in parts:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    kw = {'count': int(args[args.index('--count') + 1])} if args[0] == 'demo' and '--count' in args else {}
    try:
        parts[args[0]](args[1], **kw)
    except oc.Skip as e:
        print(f'skipped: {e}')
        sys.exit(oc.EXIT_SKIP)
    except oc.Fail as e:
        print(f'demo FAILED: {e}')
        sys.exit(1)
    sys.exit(0)


if __name__ == '__main__':
    main()
