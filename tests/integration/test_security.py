#!/usr/bin/env python3
"""security: frame security on real ordod processes (docs/security.md).
One scenario per argument:

  wrong-key   nodes 1 and 2 share a key, node 3 has another: 1 and 2 form a
              ring without it, count its frames as refused (unknown key,
              by sender 3), and say why in their log; node 3 never joins.
              Restarted without any key, it stays out too (its frames have
              no trailer: auth_length, logged). Given the right key and
              restarted, node 3 joins.
  attacks     a keyed ring of 3 under a light load; from a raw socket in
              node 1's namespace, frames captured on the wire are replayed,
              replayed with a flipped byte, and frames are forged with the
              ring's current key epoch and a made-up tag. Nodes 2 and 3 drop
              and count every one (auth_replay, auth_bad_tag), the ring does
              not change, the load completes with equal digests. ordod links
              libcrypto (ldd), every frame on the wire carries the trailer
              of the configured suite, and received frames, decrypted in
              place, are kept in their mbufs (zero-copy receive).
  rotation    a keyed ring of 3, all three sending (rate-limited) for ~12 s;
              meanwhile each node's key file is replaced by a new key and
              the node is asked to reload it, one after the other: the
              first waits for the others (no activation while a member
              lacks the key), then every node activates the new key and
              retires the old one. Node 1 is asked with SIGHUP, node 2 with
              `ordoctl key reload` (the operator's tool, which must say it
              installed the new key, and, asked again, that nothing was
              reloaded, exit 1), node 3 with the
              control socket's key reload message. No configuration change,
              nothing refused, every message delivered everywhere with
              equal digests.
  rotation-udp6  the rotation on a ring of UDP over IPv6 through the router
              namespace (tests/harness/transports.py): the trailer
              rides in the datagram, the same must hold. With a key a
              routed path learns no MAC (docs/ordod.md, Transports), so the
              router's MACs are static neighbours (transports' udp6-static).
  attach      who may attach: node 1's control socket has mode 0666 and
              allows group daemon only; a process of user nobody is refused
              with ORDO_EACCES (ordo-pub says why, the node logs it), one
              with group daemon attaches and publishes; a key reload through
              the socket is refused to nobody and accepted from root; node
              2's socket gets socket_mode 0600 and socket_group daemon.

usage: test_security.py ORDOD KEYGEN SCENARIO
       test_security.py --attack IFACE SPEC_JSON   (inside a namespace)"""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, delivery_errors, log, main_test, ms, ring_key  # noqa: E402
import transports  # noqa: E402

NODES = [1, 2, 3]
ETH_ORDO = 0x88B5
RING_MAC = bytes.fromhex('034f52000001')
TRAILER = 28
SUITE_AES_ENCRYPT = 0x91  # bit 7: keys per incarnation (docs/security.md §2)
AUTH_DROPS = ('auth_short', 'auth_length', 'auth_sender', 'auth_suite', 'auth_unknown_key',
              'auth_replay', 'auth_bad_tag')


def make_key(keygen, path, force=False):
    r = subprocess.run([keygen, '-o', path] + (['-f'] if force else []), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise Fail(f'ordo-keygen failed: {r.stdout}')
    return r.stdout.split('fingerprint ')[1].split(',')[0]


def copy_key(src, dst):
    """dst gets src's bytes, mode 0400, atomically (what an operator's copy does)."""
    tmp = dst + '.new'
    with open(src, 'rb') as f:
        data = f.read()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    os.chmod(tmp, 0o400)
    os.replace(tmp, dst)


def security(c, i):
    return c.tel(i, '/ordo/security')


def log_has(c, i, text):
    with open(c.nodes[i].log_path, errors='replace') as f:
        return text in f.read()


def log_lines(c, i, text):
    with open(c.nodes[i].log_path, errors='replace') as f:
        return [ln.rstrip() for ln in f if text in ln]


NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']


def control_reload(path, as_nobody=False):
    """Sends ATT_KEY_RELOAD (a struct att_hello of type 4) on a control
    socket; returns the reply's (type, err)."""
    code = ('import socket,struct,sys\n'
            's=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\n'
            's.connect(sys.argv[1])\n'
            's.send(struct.pack("<IIII32s",4,0,0,0,b"reload"))\n'
            't,e,_=struct.unpack("<IiQ",s.recv(64)[:16])\n'
            'print(t,e)\n')
    r = subprocess.run((NOBODY if as_nobody else []) + [sys.executable, '-c', code, path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    if r.returncode != 0:
        raise Fail(f'control socket reload: {r.stdout}')
    t, e = r.stdout.split()
    return int(t), int(e)


def pid_of(c, i):
    # `ip netns exec` execs ordod in the same process
    return c.nodes[i].proc.pid


# ---------------------------------------------------------------- in the namespace

def attack(iface, spec):
    """Captures ordo multicast frames from other nodes, then sends: each
    captured frame again (replay), each with one body byte flipped
    (tamper), and forged frames (a DATA header of sender 2 or 3, the
    ring's suite and epoch, a counter far ahead, a random tag). Prints
    what it sent as JSON."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_ORDO))
    s.bind((iface, ETH_ORDO))
    s.settimeout(10.0)
    captured = []
    deadline = time.monotonic() + 10
    while len(captured) < spec['capture'] and time.monotonic() < deadline:
        f = s.recv(65535)
        if len(f) < 14 + 40 + TRAILER or f[0:6] != RING_MAC:
            continue
        sender = struct.unpack_from('<H', f, 14 + 12)[0]
        if sender in (2, 3):
            captured.append(f)
    time.sleep(0.3)
    sent = {'replay': 0, 'tamper': 0, 'forged': 0, 'trailer_ok': 0, 'captured': len(captured)}
    for f in captured:
        size = struct.unpack_from('<I', f, 14 + 8)[0]
        if len(f) >= 14 + size + TRAILER and f[14 + size] == spec['suite'] and \
                struct.unpack_from('<H', f, 14 + size + 2)[0] == spec['epoch']:
            sent['trailer_ok'] += 1
    for f in captured:
        s.send(f)
        sent['replay'] += 1
        time.sleep(0.001)
    for f in captured:
        g = bytearray(f)
        size = struct.unpack_from('<I', g, 14 + 8)[0]
        k = random.randrange(14 + 40, 14 + size) if size > 40 else 14 + size + TRAILER - 1
        g[k] ^= 0x40
        # a counter beyond anything seen, so the window does not stop it first
        struct.pack_into('<Q', g, 14 + size + 4, (1 << 63) + random.getrandbits(40))
        s.send(bytes(g))
        sent['tamper'] += 1
        time.sleep(0.001)
    for n in range(spec['forged']):
        sender = 2 + n % 2
        body = struct.pack('<QHHHH', 1, sender, 1, 16, 0) + \
            struct.pack('<IIIIBBBB', 16, 16, 0, 7, 1, 1, 0x03, 0) + os.urandom(16)
        size = 40 + len(body)
        hdr = struct.pack('<HBBHHIHBBQHBBBBHQ', 0x4F52, 1, 1, 0, 40, size, sender, 0, 0,
                          random.getrandbits(62) | 1, 1, 0x3, 1, 1, 1, 0, 9)
        trailer = struct.pack('<BBHQ', spec['suite'], 0, spec['epoch'],
                              (1 << 63) + random.getrandbits(40)) + os.urandom(16)
        s.send(RING_MAC + bytes.fromhex('02000000aa09') + struct.pack('!H', ETH_ORDO) +
               hdr + body + trailer)
        sent['forged'] += 1
        time.sleep(0.001)
    print(json.dumps(sent))


# ---------------------------------------------------------------- scenarios

def ring_sections(key):
    return {'ring': {'key_file': key}}


def check_ldd(ordod):
    r = subprocess.run(['ldd', ordod], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = [ln.strip() for ln in r.stdout.splitlines() if 'libcrypto' in ln]
    if not line:
        raise Fail(f'ldd {ordod} shows no libcrypto:\n{r.stdout}')
    log(f'ldd ordod: {line[0]}')


def baseline(c):
    """Before the attack or the rotation: each node's ring, and the counters
    that say a node was descheduled (check_ring_and_load)."""
    return {'ring': c.ring_snapshot(), 'stats': c.all(c.stats, NODES)}


def check_ring_and_load(c, base, count, what, errors):
    """After the load is quiet: the ring of `base` unchanged at every node,
    every message delivered everywhere without a gap, equal digests. A
    changed configuration is reported with each node's pauses and token
    losses since `base`: a node the machine did not run for half the token
    loss timeout (pauses) explains it without the attack, but it still fails
    the test, since the property was not shown."""
    def changed():
        now = c.ring_snapshot()
        out = []
        for i in NODES:
            k0, k1 = ring_key(base['ring'][i]), ring_key(now[i])
            if k0 != k1:
                st = c.stats(i)
                why = ', '.join(f'{k} +{st[k] - base["stats"][i][k]}' for k in ('pauses', 'token_losses', 'gathers'))
                out.append(f'n{i}: the configuration changed during {what}: {k0} -> {k1} ({why})')
        return out
    try:
        d = c.wait_quiet(NODES, stable_s=1.0, timeout=120)
    except Fail as e:
        raise Fail('; '.join(errors + changed() + [str(e)])) from None
    errors.extend(changed())
    errors += delivery_errors(d, NODES, 3 * count)


def scenario_wrong_key(ordod, keygen, tmp):
    good, bad = os.path.join(tmp, 'good.key'), os.path.join(tmp, 'bad.key')
    fp_good, fp_bad = make_key(keygen, good), make_key(keygen, bad)
    log(f'key of nodes 1, 2: {fp_good}; key of node 3: {fp_bad}')
    node_conf = {i: {'ring': {'key_file': good if i != 3 else bad}} for i in NODES}
    with Cluster(ordod, nodes=3, paths=2, node_conf=node_conf) as c:
        c.start_all()
        c.wait_ring([1, 2], nodes=[1, 2], timeout=60)
        t0 = time.monotonic()

        def refused():
            return all(security(c, i)['unknown_key_from'].get('n3', 0) >= 20 for i in (1, 2))
        c.wait_until(refused, 20, 'nodes 1 and 2 to refuse node 3\'s frames')
        time.sleep(max(0.0, 3.0 - (time.monotonic() - t0)))  # room for a wrong join
        snap = c.ring_snapshot()
        errors = []
        for i in (1, 2):
            if snap[i]['members'] != [1, 2]:
                errors.append(f'n{i} is in ring {snap[i]["members"]}, expected [1, 2]')
        if 1 in snap[3]['members'] or 2 in snap[3]['members']:
            errors.append(f'n3 is in ring {snap[3]["members"]} with the others')
        for i in (1, 2):
            s = security(c, i)
            log(f'n{i}: refused from n3: unknown key {s["unknown_key_from"].get("n3", 0)}, bad tag '
                f'{s["bad_tag_from"].get("n3", 0)}; auth_unknown_key {s["auth_unknown_key"]}')
            why = log_lines(c, i, 'from node 3 were refused')
            if not why or 'another key' not in why[0]:
                errors.append(f'n{i}\'s log does not say why node 3 is refused')
            else:
                log(f'n{i} log: {why[0][:220]}')
        s3 = security(c, 3)
        log(f'n3: refused from n1 {s3["unknown_key_from"].get("n1", 0)}, n2 '
            f'{s3["unknown_key_from"].get("n2", 0)}')
        if s3['unknown_key_from'].get('n1', 0) == 0 and s3['unknown_key_from'].get('n2', 0) == 0:
            errors.append('n3 counted no refused frame from n1 or n2')
        if errors:
            raise Fail('; '.join(errors))
        # no key at all: its frames carry no trailer
        c.stop(3)
        conf = c.config(3)
        conf['ring'].pop('key_file')
        c.write_config(3, conf)
        before = {i: security(c, i)['auth_length'] for i in (1, 2)}
        c.start(3)

        def untrailered():
            return all(security(c, i)['auth_length'] - before[i] >= 20 for i in (1, 2))
        c.wait_until(untrailered, 20, 'nodes 1 and 2 to refuse node 3\'s frames without a trailer')
        try:  # the refusals are logged at most once a second
            c.wait_until(lambda: all(log_has(c, i, 'no valid security trailer') for i in (1, 2)), 5,
                         'nodes 1 and 2 to log the frames without a trailer')
        except Fail as e:
            errors.append(str(e))
        for i in (1, 2):
            if c.node(i)['members'] != [1, 2]:
                errors.append(f'n{i} let node 3 (no key) into ring {c.node(i)["members"]}')
        if not log_has(c, 3, 'NO FRAME SECURITY'):
            errors.append('n3 without a key did not warn NO FRAME SECURITY')
        log('without a key, node 3 stays out: ' + ', '.join(
            f'n{i} auth_length +{security(c, i)["auth_length"] - before[i]}' for i in (1, 2)))
        if errors:
            raise Fail('; '.join(errors))
        # the right key: node 3 joins
        c.stop(3)
        copy_key(good, bad)
        c.write_config(3)
        c.start(3)
        c.wait_ring(NODES, timeout=60, what='node 3 to join with the right key')
        c.stop_all()


def scenario_attacks(ordod, keygen, tmp):
    check_ldd(ordod)
    key = os.path.join(tmp, 'k')
    make_key(keygen, key)
    count = 12000
    with Cluster(ordod, nodes=3, paths=2, sections=ring_sections(key),
                 load={'size': 512, 'rate': 1000, 'count': count}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, 500)
        first = baseline(c)
        sec0 = c.all(lambda i: security(c, i), NODES)
        epoch = sec0[1]['epoch']
        spec = {'capture': 300, 'forged': 300, 'suite': SUITE_AES_ENCRYPT, 'epoch': epoch}
        r = subprocess.run(['ip', 'netns', 'exec', 'ordo-n1', sys.executable,
                            os.path.abspath(__file__), '--attack', 'p0', json.dumps(spec)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        if r.returncode != 0:
            raise Fail(f'attacker failed: {r.stdout}')
        sent = json.loads(r.stdout.strip().splitlines()[-1])
        log(f'attacker: {sent}')
        errors = []
        if sent['captured'] < 100:
            errors.append(f'captured only {sent["captured"]} frames')
        if sent['trailer_ok'] != sent['captured']:
            errors.append(f'{sent["captured"] - sent["trailer_ok"]} captured frames lack the trailer '
                          f'(suite {SUITE_AES_ENCRYPT:#x}, epoch {epoch:04x})')
        # every attack frame reaches nodes 2 and 3: each must refuse it
        want = sent['replay'] + sent['tamper'] + sent['forged']
        last = {}

        def counted():
            for i in (2, 3):
                s = security(c, i)
                last[i] = {k: s[k] - sec0[i][k] for k in AUTH_DROPS}
            return all(sum(last[i].values()) >= want for i in (2, 3))
        try:
            c.wait_until(counted, 15, 'nodes 2 and 3 to count every attack frame')
        except Fail:
            pass  # reported with the numbers
        for i in (2, 3):
            log(f'n{i}: refusals during the attack: {last[i]}')
            got = sum(last[i].values())
            if got < want:
                errors.append(f'n{i} refused {got} frames, {want} were sent')
            if last[i]['auth_replay'] < sent['replay']:
                errors.append(f'n{i} counted {last[i]["auth_replay"]} replays of {sent["replay"]}')
            if last[i]['auth_bad_tag'] + last[i]['auth_replay'] < want:
                errors.append(f'n{i}: replays and bad tags {last[i]}, {want} sent')
        # the refusals are logged at most once a second (eng_keys.c): the
        # line about the last ones may come up to a second after the counters
        for i in (2, 3):
            try:
                c.wait_until(lambda: log_has(c, i, 'failed authentication'), 5,
                             f'n{i} to log the frames that failed authentication')
            except Fail as e:
                errors.append(str(e))
        c.check_alive()
        check_ring_and_load(c, first, count, 'the attack', errors)
        # zero-copy receive still works: frames decrypted in place stay in their mbufs
        for i in NODES:
            kept = c.stats(i)['frames_kept']
            log(f'n{i}: frames_kept {kept} (decrypted in place, kept in their mbufs)')
            if kept == 0:
                errors.append(f'n{i} kept no received frame in its mbuf (zero-copy receive with a key)')
        if errors:
            raise Fail('; '.join(errors))
        c.stop_all()


class MergedNodeConf:
    """Cluster(node_conf=...): a transport's per-node sections, and ours."""

    def __init__(self, *confs):
        self.confs = confs

    def get(self, i, default=None):
        out = {}
        for conf in self.confs:
            for sec, kv in (conf.get(i) or {}).items():
                out.setdefault(sec, {}).update(kv)
        return out or default


def scenario_rotation(ordod, keygen, tmp, transport=None):
    keys = {i: os.path.join(tmp, f'n{i}.key') for i in NODES}
    old = os.path.join(tmp, 'old.key')
    new = os.path.join(tmp, 'new.key')
    fp_old = make_key(keygen, old)
    for i in NODES:
        copy_key(old, keys[i])
    count, rate = 24000, 2000  # per node: ~12 s
    node_conf = {i: {'ring': {'key_file': keys[i]}} for i in NODES}
    kw = {'node_conf': node_conf}
    if transport is not None:
        kw = transports.cluster_args(transport, 3, 2)
        kw['node_conf'] = MergedNodeConf(kw['node_conf'], node_conf)
    with Cluster(ordod, nodes=3, paths=2, load={'size': 1024, 'rate': rate, 'count': count}, **kw) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        c.wait_flowing(NODES, 3000)
        first = baseline(c)
        sec0 = c.all(lambda i: security(c, i), NODES)
        fp_new = make_key(keygen, new)
        log(f'rotation {fp_old} -> {fp_new} under load')
        errors = []
        t0 = time.monotonic()
        copy_key(new, keys[1])
        os.kill(pid_of(c, 1), signal.SIGHUP)
        c.wait_until(lambda: security(c, 1)['next_key'] == fp_new, 10, 'n1 to install the new key')
        c.wait_until(lambda: log_has(c, 1, 'waiting for node(s) 2,3'), 10, 'n1 to wait for 2 and 3')
        time.sleep(1.0)
        s1 = security(c, 1)
        if s1['key'] != fp_old or s1['activations'] != 0:
            errors.append(f'n1 activated before every member had the key: {s1}')
        copy_key(new, keys[2])
        ctl = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordoctl')
        r = subprocess.run([ctl, '-s', c.socket_path(2), 'key', 'reload'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        log(f'ordoctl key reload at n2: exit {r.returncode}: {r.stdout.strip()[:200]}')
        if r.returncode != 0 or f'installed key {fp_new}' not in r.stdout:
            errors.append(f'ordoctl key reload at n2: exit {r.returncode}: {r.stdout.strip()!r}')
        # the same key again: nothing reloaded, and ordoctl says so (exit 1)
        r = subprocess.run([ctl, '-s', c.socket_path(2), 'key', 'reload'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        log(f'ordoctl key reload at n2 again: exit {r.returncode}: {r.stdout.strip()[:200]}')
        if r.returncode != 1 or 'nothing reloaded' not in r.stdout:
            errors.append(f'a second key reload at n2 (no new key): exit {r.returncode}: {r.stdout.strip()!r}')
        time.sleep(0.5)
        copy_key(new, keys[3])
        reply = control_reload(c.socket_path(3))
        if reply != (2, 0):
            errors.append(f'n3 answered the key reload on its control socket with {reply}, not (2, 0)')

        def rotated():
            return all(security(c, i)['key'] == fp_new and security(c, i)['previous_key'] == '0' * 16
                       for i in NODES)
        _, dt = c.wait_until(rotated, 20, 'every node to activate the new key and retire the old')
        log(f'rotation done {time.monotonic() - t0:.2f} s after the first install ({ms(dt)} after the '
            f'last reload was asked)')
        for i in NODES:
            for line in log_lines(c, i, 'is current from here on') + log_lines(c, i, 'retired'):
                log(f'n{i} log: {line[:200]}')
        check_ring_and_load(c, first, count, 'the rotation', errors)
        for i in NODES:
            s = security(c, i)
            refused = {k: s[k] - sec0[i][k] for k in AUTH_DROPS if s[k] != sec0[i][k]}
            log(f'n{i}: key {s["key"]} activations {s["activations"]} retirements {s["retirements"]} '
                f'sealed {s["sealed"]} opened {s["opened"]} refused during the rotation {refused or "none"}')
            if s['activations'] != 1 or s['retirements'] != 1:
                errors.append(f'n{i}: {s["activations"]} activations, {s["retirements"]} retirements')
            if refused:
                errors.append(f'n{i} refused frames during the rotation: {refused}')
        if errors:
            raise Fail('; '.join(errors))
        c.stop_all()


def scenario_attach(ordod, keygen, tmp):
    pub = os.path.join(os.path.dirname(ordod), 'ordo-pub')
    node_conf = {1: {'node': {'socket_mode': '0666', 'allow_groups': 'daemon'}},
                 2: {'node': {'socket_mode': '0600', 'socket_group': 'daemon'}}}
    with Cluster(ordod, nodes=3, paths=1, node_conf=node_conf) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        s1, s2 = c.wait_socket(1), c.wait_socket(2)
        errors = []
        st1, st2 = os.stat(s1), os.stat(s2)
        log(f'n1 socket mode {st1.st_mode & 0o777:04o}; n2 socket mode {st2.st_mode & 0o777:04o}, gid '
            f'{st2.st_gid}')
        if st1.st_mode & 0o777 != 0o666:
            errors.append(f'n1 socket mode {st1.st_mode & 0o777:04o}, configured 0666')
        if st2.st_mode & 0o777 != 0o600 or st2.st_gid != 1:
            errors.append(f'n2 socket mode {st2.st_mode & 0o777:04o} gid {st2.st_gid}, configured 0600 daemon')

        def run_pub(prefix):
            return subprocess.run(prefix + [pub, '-s', s1, '-g', 'sec', '-n', '3', 'hello'],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        r = run_pub(NOBODY)
        log(f'ordo-pub as nobody: exit {r.returncode}: {r.stdout.strip()}')
        if r.returncode == 0 or 'does not allow this user' not in r.stdout:
            errors.append(f'nobody was not refused with ORDO_EACCES: exit {r.returncode}, {r.stdout.strip()!r}')
        why = log_lines(c, 1, 'control socket: refused an attach')
        if not why or 'uid 65534' not in why[0]:
            errors.append('n1\'s log does not report the refused attach of uid 65534')
        else:
            log(f'n1 log: {why[0][:200]}')
        r = run_pub(['setpriv', '--reuid=65534', '--regid=1', '--clear-groups'])
        log(f'ordo-pub as uid 65534, group daemon: exit {r.returncode}: {r.stdout.strip()[:160]}')
        if r.returncode != 0:
            errors.append(f'a process of group daemon was not let attach: {r.stdout.strip()!r}')
        reply = control_reload(s1, as_nobody=True)
        log(f'key reload on the socket as nobody: reply {reply}')
        if reply != (3, -1005):
            errors.append(f'a key reload from nobody was answered {reply}, not a refusal (3, -1005)')
        reply = control_reload(s1)
        log(f'key reload on the socket as root: reply {reply}')
        if reply != (2, 0) or not c.wait_until(lambda: log_has(c, 1, 'key reload asked'), 10,
                                                'n1 to log the reload')[0]:
            errors.append(f'a key reload from root was answered {reply}')
        if errors:
            raise Fail('; '.join(errors))
        c.stop_all()


SCENARIOS = {'wrong-key': scenario_wrong_key, 'attacks': scenario_attacks,
             'rotation': scenario_rotation, 'attach': scenario_attach,
             'rotation-udp6': lambda o, k, t: scenario_rotation(o, k, t, transport='udp6-static')}


def test(ordod, args):
    if len(args) != 2 or args[1] not in SCENARIOS:
        raise Fail(f'usage: test_security.py ORDOD KEYGEN {"|".join(SCENARIOS)}')
    keygen = os.path.abspath(args[0])
    tmp = tempfile.mkdtemp(prefix='ordo-sec-')
    try:
        SCENARIOS[args[1]](ordod, keygen, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--attack':
        attack(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main_test(test, usage='ORDOD KEYGEN SCENARIO')
