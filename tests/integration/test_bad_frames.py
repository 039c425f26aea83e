#!/usr/bin/env python3
"""bad-frames: a ring of 3 nodes under a bounded light load receives, on path
0, a few hundred of each of these frames, sent from a raw socket in node 1's
namespace:
  truncated   EtherType 0x88B5 to the ring's MAC, 10 bytes of payload
  bad-magic   a well-formed DATA frame whose magic is wrong
  foreign     a well-formed DATA frame (header per ring-proto/rp_wire.h) of
              ring 9/77 from node 9, which is not a configured node
  garbage     random bytes (46..1500) that do not start with the magic
  ethertype   a well-formed DATA frame with EtherType 0x88B6 to a node's MAC
Nodes 2 and 3 must count them under drop reasons of the matching family, the
ring must not change, every process must live on and the load must complete
with equal digests everywhere.

usage: test_bad_frames.py ORDOD
       test_bad_frames.py --inject IFACE SPEC_JSON   (inside a namespace)"""
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, delivery_errors, log, main_test, ms, ring_key  # noqa: E402

NODES = [1, 2, 3]
PER_KIND = 300
RING_MAC = '03:4f:52:00:00:01'
SRC_MAC = '02:00:00:6f:72:09'  # locally administered, no node's
ETH_ORDO = 0x88B5
ETH_OTHER = 0x88B6
MAGIC = 0x4F52

# Which drop reasons a kind may be counted under (docs/ordod.md, rp_wire.h).
FAMILIES = {
    'truncated': {'truncated', 'l2-runt'},
    'bad-magic': {'bad-magic'},
    'foreign': {'foreign-ring', 'not-member', 'bad-sender', 'stale', 'bad-ring'},
    'ethertype': {'l2-ethertype', 'l2-dest'},
}


def mac_bytes(mac):
    return bytes(int(b, 16) for b in mac.split(':'))


def ordo_data_frame(sender=9, ring_rep=9, ring_seq=77, magic=MAGIC, payload=b'ordo-bad-frames!'):
    """A DATA frame laid out as rp_wire.h says: 40-byte header, 16-byte DATA
    body header, one 20-byte entry header with the whole message."""
    entry = struct.pack('<IIIIBBBB', len(payload), len(payload), 0, 7, 1, 1, 0x03, 0) + payload
    body = struct.pack('<QHHHH', 1, sender, 1, 16, 0) + entry
    size = 40 + len(body)
    hdr = struct.pack('<HBBHHIHBBQHBBBBHQ',
                      magic, 1, 1, 0, 40, size,       # magic, version, type DATA, flags, hdr_size, frame_size
                      sender, 0, 0,                   # sender, path index, fault mask
                      random.getrandbits(63) | 1,     # incarnation
                      ring_rep, 0x3, 1, 1, 1,         # ring rep, send mask, proto, proto min, max
                      0, ring_seq)                    # tx seq, ring seq
    assert len(hdr) == 40
    return hdr + body


def frames_of(kind, dst):
    if kind == 'truncated':
        return mac_bytes(RING_MAC) + mac_bytes(SRC_MAC) + struct.pack('!H', ETH_ORDO) + \
            struct.pack('<H', MAGIC) + os.urandom(8)
    if kind == 'bad-magic':
        return mac_bytes(RING_MAC) + mac_bytes(SRC_MAC) + struct.pack('!H', ETH_ORDO) + \
            ordo_data_frame(sender=2, ring_rep=1, magic=0xBEEF)
    if kind == 'foreign':
        return mac_bytes(RING_MAC) + mac_bytes(SRC_MAC) + struct.pack('!H', ETH_ORDO) + \
            ordo_data_frame()
    if kind == 'garbage':
        g = bytearray(os.urandom(random.randint(46, 1500)))
        if g[0] == 0x52:
            g[0] = 0x53
        return mac_bytes(RING_MAC) + mac_bytes(SRC_MAC) + struct.pack('!H', ETH_ORDO) + bytes(g)
    if kind == 'ethertype':
        return mac_bytes(dst) + mac_bytes(SRC_MAC) + struct.pack('!H', ETH_OTHER) + \
            ordo_data_frame(sender=2, ring_rep=1)
    raise ValueError(kind)


def send_paced(iface, spec, frame):
    """In the namespace: for each [kind, count, args...] of spec, count
    frames frame(kind, *args), all of them shuffled and paced, from a raw
    socket on iface; prints how many of each kind it sent (JSON)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = {}
    plan = []
    for kind, count, *args in spec:
        plan += [(kind, args)] * count
    random.shuffle(plan)
    for kind, args in plan:
        s.send(frame(kind, *args))
        sent[kind] = sent.get(kind, 0) + 1
        time.sleep(0.0005)  # pace: a receiver's af_packet ring holds 512 frames
    print(json.dumps(sent))


def inject(iface, spec):
    """In the namespace: sends spec = [[kind, count, dst_mac], ...], paced."""
    send_paced(iface, spec, frames_of)


def inject_counted(c, script, iface, kind, spec, reasons, per_kind):
    """Runs `script --inject iface spec` in node 1's namespace, then waits
    until nodes 2 and 3 each count per_kind of the frames under the drop
    reasons given; logs what each counted. Returns what is wrong, and when
    the injector was done (monotonic)."""
    d0 = c.all(c.drops, [2, 3])
    t = time.monotonic()
    r = subprocess.run(['ip', 'netns', 'exec', 'ordo-n1', sys.executable, script, '--inject', iface,
                        json.dumps(spec)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    if r.returncode != 0:
        raise Fail(f'injector failed: {r.stdout}')
    sent = json.loads(r.stdout.strip().splitlines()[-1])
    t_sent = time.monotonic()
    log(f'{kind}: sent {sent[kind]} frames from ordo-n1 {iface} in {ms(t_sent - t)}')
    last = dict(d0)  # until a read succeeds

    def counted():
        for i in (2, 3):
            last[i] = c.drops(i)
        return all(sum(delta(d0[i], last[i]).get(x, 0) for x in reasons) >= per_kind for i in (2, 3))

    try:
        c.wait_until(counted, 10, f'nodes 2 and 3 to count the {kind} frames')
    except Fail:
        pass  # reported below, with the numbers
    errors = []
    for i in (2, 3):
        dd = delta(d0[i], last[i])
        got = sum(dd.get(x, 0) for x in reasons)
        log(f'n{i}: {kind}: counted {got} of {per_kind} under {sorted(reasons)}; '
            f'all counters grew by {dict(sorted(dd.items()))}')
        if got < per_kind:
            errors.append(f'n{i} counted {got} of {per_kind} {kind} frames under '
                          f'{sorted(reasons)} (counters grew by {dd})')
    return errors, t_sent


def node_mac(i, iface='p0'):
    r = subprocess.run(['ip', '-n', f'ordo-n{i}', '-j', 'link', 'show', iface],
                       stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(r.stdout)[0]['address']


def delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)}


def test(ordod, args):
    count = 15000
    with Cluster(ordod, nodes=3, paths=2, load={'size': 512, 'rate': 1000, 'count': count}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, 500)
        base0 = c.all(c.drops, [2, 3])
        time.sleep(1.0)
        base1 = c.all(c.drops, [2, 3])
        for i in (2, 3):
            log(f'n{i}: drops during 1 s of normal traffic: {delta(base0[i], base1[i]) or "none"}')
        errors = []
        first = c.ring_snapshot()
        macs = {i: node_mac(i) for i in (2, 3)}
        # one kind at a time, so that a counter or ring change is pinned on it
        for kind in ('truncated', 'bad-magic', 'garbage', 'ethertype', 'foreign'):
            spec = ([[kind, PER_KIND, macs[2]], [kind, PER_KIND, macs[3]]] if kind == 'ethertype'
                    else [[kind, PER_KIND, RING_MAC]])
            fam = 'bad-magic' if kind == 'garbage' else kind
            before = c.ring_snapshot()
            errs, t_sent = inject_counted(c, os.path.abspath(__file__), 'p0', kind, spec, FAMILIES[fam],
                                          PER_KIND)
            errors += errs
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t_sent)))  # room for a ring change
            c.check_alive()
            after = c.ring_snapshot()
            for i in NODES:
                k0, k1 = ring_key(before[i]), ring_key(after[i])
                if k0 != k1 or after[i]['state'] != 'operational':
                    errors.append(f'n{i}: the {kind} frames changed the ring: (rep, seq, '
                                  f'configs_regular) {k0} -> {k1}, state {after[i]["state"]}')
            if any(e.startswith(f'n{i}: the {kind}') for e in errors for i in NODES):
                log(f'{kind}: THE RING CHANGED')
                c.wait_ring(NODES, timeout=30, what='the ring to settle again')
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
        errors += delivery_errors(d, NODES, 3 * count)
        final = c.ring_snapshot()
        for i in NODES:
            if final[i]['configs_regular'] != first[i]['configs_regular']:
                log(f'n{i}: configs_regular {first[i]["configs_regular"]} -> '
                    f'{final[i]["configs_regular"]} over the test')
        c.finish(errors)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--inject':
        inject(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main_test(test)
