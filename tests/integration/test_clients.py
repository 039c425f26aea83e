#!/usr/bin/env python3
"""clients: client processes on a 3-node, 2-path cluster (no load generator),
attached to their nodes through the control sockets.

  (a) two groups, many clients: on every node one `ordo-sub -q -n 3K` per
      group (A, B: 6 subscribers), then on every node `ordo-pub -g A -n K
      -z 256` and `ordo-pub -g B -n K -z 1024` (6 publishers). Every
      subscriber of A reports 3K messages and the same digest; so does every
      subscriber of B.
  (b) views: one ordo-sub per node on group V; extra members join and go
      (a clean leave, a SIGTERM, a SIGKILL); from the first view holding the
      three, every node's sequence of views of V is identical, line for line
      (members, joined and left with their reasons, ring id).
  (c) the kv demo: ordo-kv on every node (they start at the same view, with
      3 writers); every instance applies 3 x UPDATES updates and prints the
      same state digest.
  (d) a 1 MiB message (ordo-pub -z 1048576 at node 1) reaches a subscriber
      on node 2 (ordo-sub) and one on node 3 (ordo-it-recv, which hashes it
      whole): once, whole, byte for byte.
  (e) publish, then detach at once: ordo-pub -n 5000 exits as soon as its
      messages are in its submit ring; every message it was told was
      accepted must be delivered (include/ordo.h: the bytes are in the ring
      when ordo_publish returns; docs/attach.md: records written before the
      client closed its socket are taken).

Every part runs even when an earlier one failed; the test fails at the end
with every failure. Prints the measured times and counts.

    test_clients.py ORDOD [ORDO-IT-RECV]
ordo-pub, ordo-sub and ordo-kv are taken from ORDOD's directory (build/apps);
ordo-it-recv (tests/integration/it_recv.c) from its argument, else from
build/tests/integration.
"""
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, Skip, log, main_test, ms  # noqa: E402

NODES = [1, 2, 3]

# (a)
K = 10000              # messages per publisher
SIZE_A, SIZE_B = 256, 1024
# messages per second per publisher; 0 = as fast as the submit ring takes
# them (ordo-pub then detaches with most of its messages still in the ring:
# they must all be ordered, part (e))
PUB_RATE = 0

# (c)
KV_UPDATES, KV_KEYS = 3000, 500

# (d)
BIG = 1048576
ENVELOPE_MAX = 34      # the envelope's largest head (kind, group length, 32-byte name); before
                       # 21d41b2 a client's max message was [ring] max_message_size - 34

# (e)
BURST = 5000

VIEW_RE = re.compile(r'^view group (\S+) ring (\d+):(\d+)( \(transitional\))? members((?: \d+/\d+)*)'
                     r'((?: [+-]\d+/\d+\([a-z-]+\))*)$')
SUMMARY_RE = re.compile(r'^delivered (\d+) messages, (\d+) bytes, digest ([0-9a-f]{16})$')
KV_RE = re.compile(r'^kv: applied (\d+) updates, (\d+) keys, state digest ([0-9a-f]{16})$')
PUB_RE = re.compile(r'^published (\d+) messages of (\d+) bytes to (\S+) in ([0-9.]+) s')
RECV_MSG_RE = re.compile(r'^message (\S+) from (\d+)/(\d+) size (\d+) fnv ([0-9a-f]{16})$')
SUB_MSG_RE = re.compile(r'^message (\S+) from (\d+)/(\d+) (AGREED|SAFE) prio \d+ group (\S+) size (\d+): ')


def views(cl, group):
    """(line, members, changes) for each view of group that cl printed."""
    out = []
    for line in cl.lines():
        m = VIEW_RE.match(line)
        if m and m.group(1) == group:
            out.append((line, m.group(5).split(), m.group(6).split()))
    return out


def last_members(cl, group):
    v = views(cl, group)
    return v[-1][1] if v else []


def self_id(cl, group):
    """A subscriber's own node/client: the member that joined in its first view."""
    v = views(cl, group)
    if not v:
        return None
    joined = [ch[1:ch.index('(')] for ch in v[0][2] if ch.startswith('+')]
    return joined[0] if len(joined) == 1 else None


def summary(cl):
    for line in reversed(cl.lines()):
        m = SUMMARY_RE.match(line)
        if m:
            return int(m.group(1)), int(m.group(2)), m.group(3)
    return None


def fnv64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def pub_pattern(size):
    """ordo-pub's payload for its first message (counter 0 in the first 8 bytes)."""
    b = bytearray(size)
    for i in range(size):
        b[i] = 97 + i % 26
    if size >= 8:
        b[0:8] = bytes(8)
    return bytes(b)


def describe_exit(cl):
    rc = cl.poll()
    err = cl.err().strip()
    return f'{cl}: exit {rc}' + (f', stderr {err[-300:]!r}' if err else '')


# ---------------------------------------------------------------- (a)

def part_a(c, b):
    log(f'(a) groups A and B: 6 subscribers, then 6 publishers of {K} messages each '
        f'({SIZE_A} B to A, {SIZE_B} B to B, {PUB_RATE or "unlimited"} msgs/s each)')
    errors = []
    total = 3 * K
    # a watcher in both groups tells when every subscriber's join is ordered:
    # a publish after that is ordered after every join, so every subscriber
    # gets every message
    watcher = c.client(1, b['sub'], 'A', 'B', name='a-watch')
    subs = {}
    for i in NODES:
        subs[('A', i)] = c.client(i, b['sub'], '-q', '-n', total, 'A', name=f'a-subA-n{i}')
        subs[('B', i)] = c.client(i, b['sub'], '-q', '-n', total, 'B', name=f'a-subB-n{i}')
    t = time.monotonic()

    def all_joined():
        for cl in subs.values():
            if cl.poll() is not None:
                raise Fail(f'(a) subscriber exited early: {describe_exit(cl)}')
        return len(last_members(watcher, 'A')) == 4 and len(last_members(watcher, 'B')) == 4

    c.wait_until(all_joined, 30, '(a) the watcher to see 3 subscribers + itself in A and in B')
    log(f'(a) every subscriber joined (seen {ms(time.monotonic() - t)} after the starts); views at n1: '
        f'A {" ".join(views(watcher, "A")[-1][1])}, B {" ".join(views(watcher, "B")[-1][1])}')
    watcher.stop()
    pubs = []
    t_pub = time.monotonic()
    rate = ['-r', PUB_RATE] if PUB_RATE else []
    for i in NODES:
        pubs.append(c.client(i, b['pub'], '-g', 'A', '-n', K, '-z', SIZE_A, *rate, name=f'a-pubA-n{i}'))
        pubs.append(c.client(i, b['pub'], '-g', 'B', '-n', K, '-z', SIZE_B, *rate, name=f'a-pubB-n{i}'))
    timeout = 60 + (K / PUB_RATE if PUB_RATE else 0)
    try:
        c.wait_until(lambda: all(cl.poll() is not None for cl in pubs + list(subs.values())), timeout,
                     f'(a) every publisher to finish and every subscriber to deliver {total} messages')
    except Fail as e:
        errors.append(str(e))
        c.stop_clients(list(subs.values()))  # SIGTERM: ordo-sub -q prints its summary
    t_done = time.monotonic()
    for cl in pubs:
        m = next((PUB_RE.match(line) for line in cl.lines() if PUB_RE.match(line)), None)
        if cl.poll() != 0 or m is None or int(m.group(1)) != K:
            errors.append(f'(a) publisher {describe_exit(cl)}; output {cl.lines()}')
        else:
            log(f'(a) {cl.name}: published {m.group(1)} x {m.group(2)} B in {m.group(4)} s')
    for g, size in (('A', SIZE_A), ('B', SIZE_B)):
        got = {}
        for i in NODES:
            cl = subs[(g, i)]
            s = summary(cl)
            if s is None:
                errors.append(f'(a) no summary from {describe_exit(cl)}')
                continue
            got[i] = s
            done = cl.t_exit - t_pub if cl.t_exit else float('nan')
            log(f'(a) group {g} n{i}: delivered {s[0]} messages, {s[1]} bytes, digest {s[2]} '
                f'({done:.3f} s after the publishers started, to 20 ms: {s[0] / done:,.0f} msgs/s)')
            if s[0] != total or s[1] != total * size:
                errors.append(f'(a) group {g} subscriber at n{i}: {s[0]} messages / {s[1]} bytes, '
                              f'expected {total} / {total * size}')
        if len({s[2] for s in got.values()}) > 1:
            errors.append(f'(a) group {g}: digests differ: ' +
                          ', '.join(f'n{i} {s[2]}' for i, s in got.items()))
    log(f'(a) all done {t_done - t_pub:.3f} s after the publishers started; '
        f'{6 * K} messages, {3 * K * (SIZE_A + SIZE_B) / 1e6:.1f} MB published')
    return errors


# ---------------------------------------------------------------- (b)

def part_b(c, b):
    log('(b) views of group V: one ordo-sub per node, then 3 extra members join and go')
    errors = []
    base = {}
    for i in NODES:
        base[i] = c.client(i, b['sub'], 'V', name=f'b-sub-n{i}')
    c.wait_until(lambda: all(self_id(cl, 'V') for cl in base.values()), 30,
                 '(b) every base subscriber to see its own join')
    ids = {i: self_id(cl, 'V') for i, cl in base.items()}
    want = sorted(ids.values())

    def start_index(cl):
        for k, (_, members, _) in enumerate(views(cl, 'V')):
            if set(want) <= set(members):
                return k
        return None

    c.wait_until(lambda: all(start_index(cl) is not None for cl in base.values()), 30,
                 f'(b) every base subscriber to see {want}')
    log(f'(b) base members {" ".join(f"n{i}: {ids[i]}" for i in NODES)}')
    extras = [c.client(1, b['sub'], '-q', 'V', name='b-extra-n1'),
              c.client(2, b['sub'], 'V', name='b-extra-n2'),
              c.client(3, b['recv'], 'V', name='b-extra-n3')]
    c.wait_until(lambda: all(len(last_members(cl, 'V')) == 6 for cl in base.values()), 30,
                 '(b) the three extra members in every base subscriber\'s view')
    time.sleep(0.2)
    extras[1].stop(signal.SIGTERM)   # ordo_detach: leave
    extras[2].stop(signal.SIGKILL)   # the socket closes: disconnect
    extras[0].stop(signal.SIGTERM)
    expected_views = 7                # the one with all three, 3 joins, 3 leaves

    def settled():
        for cl in base.values():
            v = views(cl, 'V')
            k = start_index(cl)
            if len(v) - k < expected_views or sorted(v[-1][1]) != want:
                return False
        return True

    try:
        c.wait_until(settled, 30, f'(b) {expected_views} views of V at every base subscriber, ending '
                     f'with {want}')
    except Fail as e:
        errors.append(str(e))
    seqs = {}
    for i, cl in base.items():
        v = views(cl, 'V')
        seqs[i] = [line for line, _, _ in v[start_index(cl):]]
        log(f'(b) n{i}: {len(v)} views of V in all, {len(seqs[i])} from the first with all three')
    ref = seqs[1]
    for line in ref:
        log(f'(b)   {line}')
    for i in NODES[1:]:
        if seqs[i] != ref:
            errors.append(f'(b) n{i}\'s views of V differ from n1\'s:\n    n1: ' + '\n        '.join(ref) +
                          f'\n    n{i}: ' + '\n        '.join(seqs[i]))
    changes = ' '.join(' '.join(ch) for _, _, ch in (views(base[1], 'V')[start_index(base[1]):]))
    for reason in ('(leave)', '(disconnect)'):
        if reason not in changes:
            errors.append(f'(b) no member left with reason {reason}: {changes}')
    others = [line for cl in base.values() for line in cl.lines()
              if not line.startswith('view ') and line.strip()]
    if others:
        log(f'(b) other records the base subscribers printed: {others[:6]}')
    c.stop_clients(list(base.values()))
    return errors


# ---------------------------------------------------------------- (c)

def part_c(c, b):
    log(f'(c) ordo-kv on every node: {KV_UPDATES} updates each over {KV_KEYS} keys')
    errors = []
    t = time.monotonic()
    kvs = {i: c.client(i, b['kv'], '-g', 'kv', '-n', KV_UPDATES, '-k', KV_KEYS, '-m', 3, '-w', 90,
                       name=f'c-kv-n{i}') for i in NODES}
    try:
        c.wait_until(lambda: all(cl.poll() is not None for cl in kvs.values()), 120,
                     '(c) every ordo-kv to finish')
    except Fail as e:
        errors.append(str(e))
        c.stop_clients(list(kvs.values()))
    got = {}
    for i, cl in kvs.items():
        for line in cl.lines():
            log(f'(c) n{i} {line}')
        m = next((KV_RE.match(line) for line in cl.lines() if KV_RE.match(line)), None)
        if cl.poll() != 0 or m is None:
            errors.append(f'(c) {describe_exit(cl)}; output {cl.lines()}')
            continue
        got[i] = (int(m.group(1)), int(m.group(2)), m.group(3))
        if got[i][0] != 3 * KV_UPDATES:
            errors.append(f'(c) n{i} applied {got[i][0]} updates, expected {3 * KV_UPDATES}')
    if len({g[2] for g in got.values()}) > 1:
        errors.append('(c) kv state digests differ: ' + ', '.join(f'n{i} {g[2]} ({g[1]} keys)'
                                                                  for i, g in got.items()))
    log(f'(c) done in {time.monotonic() - t:.3f} s (start to the last exit)')
    return errors


# ---------------------------------------------------------------- (d)

def part_d(c, b):
    log(f'(d) one message of {BIG} bytes from n1 to a subscriber at n2 and one at n3')
    errors = []
    sub = c.client(2, b['sub'], 'L', name='d-sub-n2')
    rcv = c.client(3, b['recv'], 'L', name='d-recv-n3')
    c.wait_until(lambda: self_id(sub, 'L') and any(x.startswith('joined') for x in rcv.lines()), 30,
                 '(d) both receivers joined L')
    sizes = [BIG]
    t = time.monotonic()
    pub = c.client(1, b['pub'], '-g', 'L', '-n', 1, '-z', BIG, name='d-pub-n1')
    rc = pub.wait(30)
    if rc != 0:
        err = pub.err().strip()
        errors.append(f'(d) ordo-pub -z {BIG} failed at the default [ring] max_message_size '
                      f'(1048576): {err!r}. include/ordo.h: ORDO_E2BIG means "larger than the node\'s '
                      f'max_message_size"; applications get the whole configured size (the ring carries '
                      f'the envelope on top: 21d41b2; before it, max_message_size - {ENVELOPE_MAX})')
        smaller = BIG - ENVELOPE_MAX
        log(f'(d) ordo-pub -z {BIG}: {err}; the path of a large message is checked with '
            f'{smaller} bytes, the largest accepted')
        sizes = [smaller]
        t = time.monotonic()
        pub = c.client(1, b['pub'], '-g', 'L', '-n', 1, '-z', smaller, name='d-pub2-n1')
        if pub.wait(30) != 0:
            errors.append(f'(d) {describe_exit(pub)}')
            c.stop_clients([sub, rcv])
            return errors
    log(f'(d) {pub.lines()[-1] if pub.lines() else "(no output)"}')
    arrived = {}

    def both():
        now = time.monotonic()
        if 'n2' not in arrived and any(SUB_MSG_RE.match(x) for x in sub.lines()):
            arrived['n2'] = now - t
        if 'n3' not in arrived and any(RECV_MSG_RE.match(x) for x in rcv.lines()):
            arrived['n3'] = now - t
        return len(arrived) == 2

    try:
        c.wait_until(both, 30, '(d) the message at n2 and n3')
    except Fail as e:
        errors.append(str(e))
    log('(d) arrived ' + ', '.join(f'at {k} {ms(v)} after ordo-pub started' for k, v in sorted(arrived.items())))
    time.sleep(1.0)  # a duplicate would come within this
    c.stop_clients([sub, rcv])
    want = fnv64(pub_pattern(sizes[0]))
    smsgs = [SUB_MSG_RE.match(x) for x in sub.lines() if SUB_MSG_RE.match(x)]
    rmsgs = [RECV_MSG_RE.match(x) for x in rcv.lines() if RECV_MSG_RE.match(x)]
    log(f'(d) n2 ordo-sub: {len(smsgs)} message(s), sizes {[int(m.group(6)) for m in smsgs]}; '
        f'n3 ordo-it-recv: {len(rmsgs)} message(s), sizes {[int(m.group(4)) for m in rmsgs]}, '
        f'fnv {[m.group(5) for m in rmsgs]} (expected {want:016x})')
    if len(smsgs) != 1 or int(smsgs[0].group(6)) != sizes[0]:
        errors.append(f'(d) n2 delivered {len(smsgs)} messages ({[m.group(0)[:80] for m in smsgs]}), '
                      f'expected one of {sizes[0]} bytes')
    if len(rmsgs) != 1 or int(rmsgs[0].group(4)) != sizes[0] or int(rmsgs[0].group(5), 16) != want:
        errors.append(f'(d) n3 delivered {[m.group(0) for m in rmsgs]}, expected one of {sizes[0]} '
                      f'bytes with fnv {want:016x}')
    elif smsgs and smsgs[0].group(1) != rmsgs[0].group(1):
        errors.append(f'(d) the message has position {smsgs[0].group(1)} at n2, '
                      f'{rmsgs[0].group(1)} at n3')
    return errors


# ---------------------------------------------------------------- (e)

def part_e(c, b):
    log(f'(e) ordo-pub -n {BURST} (as fast as the ring takes them), then it detaches at once')
    errors = []
    rcv = c.client(2, b['recv'], 'E', name='e-recv-n2')
    c.wait_until(lambda: any(x.startswith('joined') for x in rcv.lines()), 30, '(e) receiver joined')
    t = time.monotonic()
    pub = c.client(1, b['pub'], '-g', 'E', '-n', BURST, '-z', 64, name='e-pub-n1')
    rc = pub.wait(30)
    log(f'(e) ordo-pub exit {rc}: {pub.lines()[-1] if pub.lines() else pub.err()}')
    st = {'n': -1, 'since': time.monotonic()}

    def settled():
        n = sum(1 for x in rcv.lines() if x.startswith('message '))
        if n != st['n']:
            st['n'], st['since'] = n, time.monotonic()
        return n >= BURST or time.monotonic() - st['since'] > 3.0

    c.wait_until(settled, 60, '(e) deliveries to stop')
    n = st['n']
    log(f'(e) n2 received {n} of the {BURST} messages ordo-pub published '
        f'(last one {ms(st["since"] - t)} after ordo-pub started)')
    c.stop_clients([rcv])
    if rc == 0 and n != BURST:
        errors.append(f'(e) ordo-pub published {BURST} messages (every ordo_publish returned a sequence '
                      f'number) and detached; only {n} were delivered: the node dropped what was still '
                      f'in the submit ring when it saw the socket close (docs/attach.md §1: it must drain '
                      f'the ring to its end first; engine/eng_clients.c eng_clients_poll, fixed in '
                      f'1cc18c2)')
    elif rc != 0:
        errors.append(f'(e) {describe_exit(pub)}')
    return errors


# ---------------------------------------------------------------- main

def deliveries_settled(c, base, stable_s=0.5, timeout=20):
    """The nodes' /ordo/delivery once nothing has changed for stable_s and
    (with a base) every node has delivered as many since the base."""
    st = {'key': None, 'since': 0.0}

    def pred():
        d = c.all(c.delivery)
        key = tuple(d[i]['delivered'] for i in NODES)
        if key != st['key']:
            st['key'], st['since'] = key, time.monotonic()
            return False
        if base is not None and len({d[i]['delivered'] - base[i]['delivered'] for i in NODES}) != 1:
            return False
        return d if time.monotonic() - st['since'] >= stable_s else False

    d, _ = c.wait_until(pred, timeout, 'deliveries to settle' +
                        (', the same number at every node since the baseline' if base else ''))
    return d


def test(ordod, args):
    bindir = os.path.dirname(os.path.abspath(ordod))
    b = {'pub': os.path.join(bindir, 'ordo-pub'), 'sub': os.path.join(bindir, 'ordo-sub'),
         'kv': os.path.join(bindir, 'ordo-kv'),
         'recv': os.path.abspath(args[0]) if args else
         os.path.join(os.path.dirname(bindir), 'tests', 'integration', 'ordo-it-recv')}
    for name, path in b.items():
        if not os.access(path, os.X_OK):
            raise Skip(f'no {name} binary at {path}')
    errors = []
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'}) as c:
        t0 = time.time_ns()
        c.start_all()
        snap = c.wait_ring(NODES, timeout=60)
        log(f'ring formed {(max(s["last_config_unix_ns"] for s in snap.values()) - t0) / 1e9:.3f} s '
            'after the first start')
        for i in NODES:
            log(f'n{i} control socket {c.wait_socket(i)}')
        base = deliveries_settled(c, None)
        log('baseline deliveries (group-state exchange at ring formation): ' +
            ', '.join(f'n{i} {base[i]["delivered"]}' for i in NODES))
        for part in (part_a, part_b, part_c, part_d, part_e):
            t = time.monotonic()
            try:
                errs = part(c, b)
            except Fail as e:
                errs = [f'{part.__name__}: {e}']
            live = [cl for cl in c.clients if cl.poll() is None]
            if live:
                c.stop_clients(live)
            log(f'{part.__name__}: {"ok" if not errs else "FAILED"} ({time.monotonic() - t:.1f} s)')
            for e in errs:
                log(f'  FAILURE: {e}')
            errors += errs
        final = c.ring_snapshot()
        for i in NODES:
            if (final[i]['ring_rep'], final[i]['ring_seq']) != (snap[i]['ring_rep'], snap[i]['ring_seq']):
                log(f'WARNING: n{i} changed ring during the test without any fault')
        # every message of every part, and every group operation, went through
        # one total order: every node delivered as many since the baseline
        # (the digests differ by what n1 and n2 delivered in a ring of two
        # before n3 came: telemetry has no digest from a given point)
        try:
            ds = deliveries_settled(c, base)
            log('node deliveries since the baseline (every client message and group operation): ' +
                ', '.join(f'n{i} {ds[i]["delivered"] - base[i]["delivered"]}' for i in NODES))
        except Fail as e:
            ds = c.all(c.delivery)
            errors.append(f'node deliveries: {e}; since the baseline: ' +
                          ', '.join(f'n{i} {ds[i]["delivered"] - base[i]["delivered"]}' for i in NODES))
        c.report_drops()
        c.stop_all()
    if errors:
        raise Fail(f'{len(errors)} failure(s):\n  - ' + '\n  - '.join(errors))


if __name__ == '__main__':
    main_test(test, usage='ORDOD [ORDO-IT-RECV]')
