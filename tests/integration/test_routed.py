#!/usr/bin/env python3
"""routed-*: a 3-node ring over the routed transports (tests/integration/
transports.py has the modes: udp4 and udp6 through the router namespace,
udp6 with link-local addresses on one segment, IPv4 and IPv6 multicast on
one segment, and a mixed l2 + udp6 ring). Every node sends 8,000 messages
of 1,024 B at 4,000 msgs/s; the ring must form with every node and every
node must deliver all 24,000 messages in one order (equal counts and
digests, no per-origin gap).

Also checked, from telemetry: every path runs the transport configured,
carries frames both ways, and on a routed path has resolved every next hop
(ARP or Neighbour Discovery answered by the peers' and the router's DPDK or
kernel); no frame failed an IP or UDP checksum. Through the router: the
router's ports forwarded the frames (its interface counters), so the ring
really crossed it. With learning off (udp6-static: the router's MAC a
static neighbour) no MAC is learned, yet every next hop is resolved. With a
multicast group, a node sends about one datagram
per data frame; without one, one per other node (logged, as the fan-out
ratio).

usage: test_routed.py ORDOD MODE"""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, delivery_errors, log, main_test  # noqa: E402
import transports  # noqa: E402

NODES = [1, 2, 3]
SIZE = 1024
RATE = 4000
COUNT = 8000


def router_rx(port):
    """Packets the router received on one of its ports (ordo-rt)."""
    r = subprocess.run(['ip', '-n', 'ordo-rt', '-s', '-j', 'link', 'show', 'dev', port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise Fail(f'ip -n ordo-rt link show {port}: {r.stderr.strip()}')
    return int(json.loads(r.stdout)[0]['stats64']['rx']['packets'])


def test(ordod, args):
    if not args or args[0] not in transports.MODES:
        raise Fail(f'usage: test_routed.py ORDOD {"|".join(transports.MODES)}')
    mode = args[0]
    paths = 2
    kw = transports.cluster_args(mode, nodes=len(NODES), paths=paths)
    with Cluster(ordod, nodes=len(NODES), paths=paths, load={'size': SIZE, 'rate': RATE, 'count': COUNT},
                 **kw) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        errors = delivery_errors(d, NODES, len(NODES) * COUNT)
        for i in NODES:
            p = c.paths_info(i)
            st = c.stats(i)
            for k in range(paths):
                q = p[f'path{k}']
                want = transports.transport_of(mode, k)
                line = (f'n{i} path{k}: {q.get("transport")} rx {q["rx_frames"]} tx {q["tx_frames"]} '
                        f'state {q["state"]}')
                if want != 'l2':
                    line += (f'; next hops {q.get("neigh_resolved")}/{q.get("neigh_total")}, answered '
                             f'{q.get("neigh_answered")}, solicited {q.get("neigh_solicited")}, learned '
                             f'{q.get("neigh_learned")}, tx_unresolved {q.get("tx_unresolved")}')
                    sent = int(st['frames_sent']) + int(st['frames_retransmitted'])
                    line += f'; {int(q["tx_frames"]) / max(1, sent):.2f} datagrams per frame sent'
                log(line)
                if q.get('transport') != want:
                    errors.append(f'n{i} path{k} runs {q.get("transport")!r}, configured {want!r}')
                if int(q['rx_frames']) == 0 or int(q['tx_frames']) == 0:
                    errors.append(f'n{i} path{k} carried nothing (rx {q["rx_frames"]}, tx {q["tx_frames"]})')
                if mode == 'udp6-static' and int(q['neigh_learned']) != 0:
                    errors.append(f'n{i} path{k} learned {q["neigh_learned"]} MACs with learning off')
                if want != 'l2' and (int(q['neigh_resolved']) != int(q['neigh_total'])
                                     or int(q['neigh_total']) == 0):
                    errors.append(f'n{i} path{k}: {q["neigh_resolved"]} of {q["neigh_total"]} next hops '
                                  'resolved')
            drops = c.drops(i)
            bad = {k: v for k, v in drops.items() if k in ('ip_checksum', 'udp_checksum', 'ip_header',
                                                          'udp_length', 'ip_fragment') and int(v)}
            if bad:
                errors.append(f'n{i}: frames refused that ordo sent: {bad}')
        if kw['routed']:
            for k in range(paths):
                if transports.transport_of(mode, k) == 'l2':
                    continue
                for i in NODES:
                    rx = router_rx(f'n{i}p{k}')
                    log(f'router port n{i}p{k}: {rx} packets received from n{i}')
                    if rx < COUNT // 10:
                        errors.append(f'the router received only {rx} packets from n{i} on path {k}')
        c.finish(errors)


if __name__ == '__main__':
    main_test(test, usage='ORDOD ' + '|'.join(transports.MODES))
