#!/usr/bin/env python3
"""bad-frames-routed: a ring of 3 nodes, path 0 udp4 and path 1 udp6
(link-local), one segment per path, under a bounded light load, receives a
few hundred of each of these frames from a raw socket in node 1's namespace,
addressed to nodes 2 and 3:

  path 0 (udp4)
    arp-malformed  ARP replies claiming node 3's address for a stranger's MAC,
                   each broken one way (hardware size, opcode, a group sender
                   MAC, an Ethernet source not the sender's)
    arp-truncated  an ARP of 20 bytes
    arp-other      well-formed requests for an address no node has
    udp-checksum   a datagram from node 1's address with a wrong UDP checksum
    ip-source      a datagram from an address that is no node's
    udp-port       a datagram from node 1's address to another port
  path 1 (udp6)
    na-malformed   Neighbour Advertisements for node 3's address with a
                   stranger's MAC, hop limit 64 (RFC 4861 wants 255)
    na-checksum    the same with hop limit 255 and a wrong ICMPv6 checksum
    ns-other       well-formed solicitations for an address no node has

Nodes 2 and 3 must count every kind under its drop reason, learn no MAC
(neigh_learned unchanged: nothing poisoned the table), keep the ring, and
every node must deliver the whole load in one order. (IP fragments are
not among them: this kernel's bridge runs IPv4 through netfilter, which
holds a lone fragment for reassembly, so none would arrive;
tests/unit/test_pmdg_net.c checks that the decoder drops them.)

usage: test_bad_frames_routed.py ORDOD
       test_bad_frames_routed.py --inject IFACE SPEC_JSON   (inside a namespace)"""
import json
import os
import random
import socket
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, delivery_errors, main_test, ring_key  # noqa: E402
import transports  # noqa: E402
from test_bad_frames import inject_counted, node_mac, send_paced  # noqa: E402

NODES = [1, 2, 3]
PER_KIND = 200
PORT = 5405
STRANGER = bytes.fromhex('02006f72ee09')
V4 = {i: bytes([10, 79, 0, i]) for i in NODES}
V6 = {i: socket.inet_pton(socket.AF_INET6, f'fe80::4f:{i}') for i in NODES}
FAMILIES = {
    'arp-malformed': {'arp-malformed'}, 'arp-truncated': {'arp-malformed'}, 'arp-other': {'arp-other'},
    'udp-checksum': {'udp-checksum'}, 'ip-source': {'ip-source'},
    'udp-port': {'udp-port'}, 'na-malformed': {'nd-malformed'}, 'na-checksum': {'nd-checksum'},
    'ns-other': {'nd-other'},
}
PATH = {k: 1 if k.startswith('n') else 0 for k in FAMILIES}


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype):
    return dst + src + struct.pack('!H', etype)


def ip4(src, dst, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 17, 0, src, dst)
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload


def udp4(src, dst, data, port=PORT, bad=False):
    u = struct.pack('!HHHH', port, port, 8 + len(data), 0) + data
    c = csum(src + dst + struct.pack('!BBH', 0, 17, len(u)) + u) or 0xFFFF
    return u[:6] + struct.pack('!H', c ^ (0x5A5A if bad else 0)) + u[8:]


def arp(op, sha, spa, tha, tpa, hlen=6):
    return struct.pack('!HHBBH', 1, 0x0800, hlen, 4, op) + sha + spa + tha + tpa


def icmp6(src, dst, body, bad=False):
    ph = src + dst + struct.pack('!I', len(body)) + b'\0\0\0\x3a'
    c = csum(ph + body) ^ (0x5A5A if bad else 0)
    return body[:2] + struct.pack('!H', c) + body[4:]


def ip6(src, dst, payload, hop=255):
    return struct.pack('!IHBB', 0x60000000, len(payload), 58, hop) + src + dst + payload


def frames_of(kind, dst, dst_id):
    """One frame of kind to the node with MAC dst (bytes) and id dst_id."""
    data = b'ordo' + os.urandom(60)
    if kind == 'arp-malformed':
        variant = random.randrange(4)
        body = arp(2, STRANGER, V4[3], dst, V4[dst_id], hlen=8 if variant == 0 else 6)
        if variant == 1:
            body = body[:6] + struct.pack('!H', 7) + body[8:]
        if variant == 2:
            body = body[:8] + b'\x01' + body[9:]
        src = bytes.fromhex('02006f72ee0a') if variant == 3 else STRANGER
        return eth(dst, src, 0x0806) + body
    if kind == 'arp-truncated':
        return eth(dst, STRANGER, 0x0806) + arp(1, STRANGER, V4[1], b'\0' * 6, V4[dst_id])[:20]
    if kind == 'arp-other':
        return eth(b'\xff' * 6, STRANGER, 0x0806) + arp(1, STRANGER, bytes([10, 79, 0, 200]), b'\0' * 6,
                                                         bytes([10, 79, 0, 99]))
    if kind == 'udp-checksum':
        return eth(dst, STRANGER, 0x0800) + ip4(V4[1], V4[dst_id], udp4(V4[1], V4[dst_id], data, bad=True))
    if kind == 'ip-source':
        s = bytes([10, 79, 0, 99])
        return eth(dst, STRANGER, 0x0800) + ip4(s, V4[dst_id], udp4(s, V4[dst_id], data))
    if kind == 'udp-port':
        return eth(dst, STRANGER, 0x0800) + ip4(V4[1], V4[dst_id], udp4(V4[1], V4[dst_id], data, port=5406))
    if kind in ('na-malformed', 'na-checksum'):
        body = bytes([136, 0, 0, 0, 0x20, 0, 0, 0]) + V6[3] + bytes([2, 1]) + STRANGER
        pkt = icmp6(V6[3], V6[dst_id], body, bad=kind == 'na-checksum')
        return eth(dst, STRANGER, 0x86DD) + ip6(V6[3], V6[dst_id], pkt, hop=64 if kind == 'na-malformed' else 255)
    if kind == 'ns-other':
        target = socket.inet_pton(socket.AF_INET6, 'fe80::4f:99')
        snm = socket.inet_pton(socket.AF_INET6, 'ff02::1:ff4f:99')
        src = socket.inet_pton(socket.AF_INET6, 'fe80::ee09')
        body = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + target + bytes([1, 1]) + STRANGER
        return eth(bytes.fromhex('333300000001'), STRANGER, 0x86DD) + ip6(src, snm, icmp6(src, snm, body))
    raise ValueError(kind)


def inject(iface, spec):
    """In the namespace: sends spec = [[kind, count, dst_mac_hex, dst_id], ...], paced."""
    send_paced(iface, spec, lambda kind, dst, dst_id: frames_of(kind, bytes.fromhex(dst), dst_id))


def learned(c, i):
    p = c.paths_info(i)
    return tuple(int(p[f'path{k}']['neigh_learned']) for k in (0, 1))


def test(ordod, args):
    count = 12000
    node_conf = {i: {'path0': transports._path('udp4-segment', 0, i, 3),
                     'path1': transports._path('udp6-ll', 1, i, 3)} for i in NODES}
    with Cluster(ordod, nodes=3, paths=2, load={'size': 512, 'rate': 1000, 'count': count},
                 node_conf=node_conf) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, 500)
        c.wait_until(lambda: all(int(c.paths_info(i)[f'path{k}']['neigh_resolved'])
                                 == int(c.paths_info(i)[f'path{k}']['neigh_total'])
                                 for i in NODES for k in (0, 1)), 10, 'every next hop resolved')
        errors = []
        first = c.ring_snapshot()
        learned0 = {i: learned(c, i) for i in (2, 3)}
        for kind in FAMILIES:
            iface = f'p{PATH[kind]}'
            spec = [[kind, PER_KIND, node_mac(i, iface).replace(':', ''), i] for i in (2, 3)]
            if kind in ('arp-other', 'ns-other'):  # to a group: both nodes see each frame
                spec = [[kind, PER_KIND, spec[0][2], 2]]
            before = c.ring_snapshot()
            errs, _ = inject_counted(c, os.path.abspath(__file__), iface, kind, spec, FAMILIES[kind], PER_KIND)
            errors += errs
            c.check_alive()
            after = c.ring_snapshot()
            for i in (2, 3):
                if learned(c, i) != learned0[i]:
                    errors.append(f'n{i}: {kind} changed the neighbour table: learned '
                                  f'{learned0[i]} -> {learned(c, i)}')
            for i in NODES:
                k0, k1 = ring_key(before[i]), ring_key(after[i])
                if k0 != k1 or after[i]['state'] != 'operational':
                    errors.append(f'n{i}: the {kind} frames changed the ring: {k0} -> {k1}')
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        errors += delivery_errors(d, NODES, 3 * count, gaps=False)
        final = c.ring_snapshot()
        for i in NODES:
            if final[i]['configs_regular'] != first[i]['configs_regular']:
                errors.append(f'n{i}: configs_regular {first[i]["configs_regular"]} -> '
                              f'{final[i]["configs_regular"]}')
        c.finish(errors)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--inject':
        inject(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main_test(test)
