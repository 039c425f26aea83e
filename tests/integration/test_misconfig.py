#!/usr/bin/env python3
"""misconfig: the ring catches its own misconfiguration through the
membership messages (docs/protocol.md §8.8), refuses the offender, and
every node logs it naming the node and the key.

  dup-id   a ring of 1, 2, 3 runs; a fourth process (in namespace ordo-n4)
           starts configured with node 2's id. It listens before it sends
           anything, hears node 2, logs that a process with its id runs
           already and exits with status 2, having sent one DUP_NOTICE per
           path from its port's own MAC (docs/protocol.md §8.8 Rule D (0)),
           so the bridges never move node 2's MAC to it. Every node of the
           ring logs the duplicate with node 2's id, the second process's
           incarnation and the MAC of ordo-n4's interface: node 2 that
           another process runs with its id, nodes 1 and 3 that a second
           process configured as node 2 did not start and node 2 keeps its
           place. The ring never changes (same members, primary); every
           node counts the notice as duplicate-id and none holds a new
           incarnation of node 2 (new-incarnation 0): nothing of node 2's
           state changed anywhere.
  dup-id udp4-segment | udp6-ll
           the same on routed paths with neighbour learning, all four
           namespaces on one segment per path (tests/harness/transports.py):
           the fourth process has node 2's id and addresses. Listening, it
           probes for its address (RFC 5227 ARP probes from 0.0.0.0; RFC
           4862 DAD, an NS from ::) and solicits the others anonymously;
           node 2 defends its address, so the fourth process logs `ADDRESS
           IN USE` naming the address and node 2's MAC, tells the ring
           (DUP_NOTICE to nodes 1 and 3 and to node 2's MAC) and exits with
           status 2. Besides the l2 case's checks: nodes 1 and 3 learned no
           neighbour MAC meanwhile (their entry for node 2 stays node 2's),
           node 2 counts the probes it answered (neigh_defended), and the
           ring delivered throughout without a gap of a token loss.
  dup-id idle
           the l2 case on an idle ring (no load; the representative holds
           the token, §12): node 2 sends only tokens, to node 3's MAC, which
           the bridges do not flood, so the fourth process heard nothing of
           it while listening and started (churning the ring; nodes 1 and 3
           adopted its incarnation, leaving node 2 out after it stopped).
           Its ID_PROBE, from its port's MAC, makes node 2 answer to every
           node; the checks are the l2 case's.
  dup-id [idle] keyed
           the l2 case (under load) or the idle case on a ring with a
           cluster key (every node, the fourth process included, has the
           same [ring] key_file; docs/security.md §4.1): node 2 must take the fourth
           process's ID_PROBE, and the fourth process node 2's answer,
           although both carry its own id — not refuse them as its own
           frames reflected — and the fourth process's frames must not
           move node 2's replay windows at nodes 1 and 3. Until 2026-12-07
           both refused them (auth_replay): the fourth process started and
           node 2's frames were refused at the others. Besides the l2
           case's checks: no node counted an auth_* refusal but auth_replay,
           messages node 2 publishes after the duplicate exited reach every
           node, and node 2, killed and restarted, rejoins (its new
           incarnation's replay windows beside the old one's).
  mtu      nodes 1 and 2 (mtu 9000) form a ring; node 3 starts with mtu
           1500. Nodes 1 and 2 log node 3 refused with `mtu = 1500 (here
           9000)`, node 3 logs node 1 refused with `mtu = 9000 (here
           1500)`; the ring of 1, 2 never changes and node 3 stays out.
  window   the same with node 3's window_size half the others'.

usage: test_misconfig.py ORDOD dup-id [udp4-segment|udp6-ll|idle] [keyed]|mtu|window"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, log, main_test, wait_line  # noqa: E402
import transports  # noqa: E402

TMP = tempfile.mkdtemp(prefix='ordo-misconfig-')
INC = r'incarnation \d+, started \d{4}-\d\d-\d\dT[\d:]+Z'


def port_mac(i, k):
    """The MAC of interface p<k> in namespace ordo-n<i>."""
    r = subprocess.run(['ip', 'netns', 'exec', f'ordo-n{i}', 'cat', f'/sys/class/net/p{k}/address'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    return r.stdout.strip()


def ring_id(c, i):
    s = c.node(i)
    return (s['state'], sorted(s['members']), s['ring_rep'], s['ring_seq'], int(s['primary']))


def hold_ring(c, nodes, want, seconds):
    """The ring at nodes keeps its members, primary, for seconds. Its id
    should not change either; on this shared 2-core VM a starved node may
    lose the token and the ring re-form, with the same members: that is
    logged, not failed (the members and the drops are what the
    misconfigured process could change)."""
    end = time.monotonic() + seconds
    ids = {want[2:4]}
    while time.monotonic() < end:
        for i in nodes:
            got = ring_id(c, i)
            if got[0] == 'operational' and (got[1] != want[1] or got[4] != 1):
                raise Fail(f'n{i}: the ring changed while the misconfigured node ran: {got}, was {want}')
            if got[0] == 'operational':
                ids.add(got[2:4])
        time.sleep(0.1)
    if len(ids) > 1:
        log(f'the ring re-formed with the same members meanwhile (ids {sorted(ids)}): a token loss on the busy VM?')


class DupConf:
    """Routed paths for nodes 1, 2, 3; namespace ordo-n4 gets node 2's id and
    addresses."""

    def __init__(self, mode, paths):
        self.lazy = transports.LazyNodeConf(mode, 3, paths)

    def get(self, i, default=None):
        conf = dict(self.lazy.get(2 if i == 4 else i, {}))
        if i == 4:
            conf['node'] = {'id': 2}
        return conf


def neigh(c, i):
    """Per path: (neigh_learned, neigh_defended) at node i."""
    p = c.paths_info(i)
    return [(int(p[f'path{k}']['neigh_learned']), int(p[f'path{k}']['neigh_defended'])) for k in range(2)]


def dup_routed(c, bad, mode, before, gap_limit_ms):
    """The routed case's own checks, after the duplicate exited."""
    for i in (1, 3):
        after = neigh(c, i)
        if [a[0] for a in after] != [b[0] for b in before[i]]:
            raise Fail(f'n{i} learned neighbour MACs while the duplicate ran: {before[i]} -> {after}')
    log('nodes 1 and 3 learned no neighbour MAC meanwhile: their entry for node 2 is node 2\'s')
    after = neigh(c, 2)
    if not any(a[1] > b[1] for a, b in zip(after, before[2])):
        raise Fail(f'n2 answered no probe for its address: (learned, defended) {before[2]} -> {after}')
    log(f'node 2 defended its address (neigh_defended {[b[1] for b in before[2]]} -> {[a[1] for a in after]})')
    for i in (1, 2, 3):
        gap = c.delivery(i)['max_gap_ns'] / 1e6
        if gap > gap_limit_ms:
            raise Fail(f'n{i}: deliveries stopped for {gap:.0f} ms while the duplicate ran (limit {gap_limit_ms} ms)')
        log(f'n{i}: longest delivery gap {gap:.1f} ms (limit {gap_limit_ms} ms)')


def key_file(tmp):
    """A cluster key as ordo-keygen writes one: 64 random bytes, mode 0400."""
    path = os.path.join(tmp, 'authkey')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    os.write(fd, os.urandom(64))
    os.close(fd)
    return path


AUTH_OTHER = ('auth_short', 'auth_length', 'auth_sender', 'auth_suite', 'auth_unknown_key', 'auth_bad_tag')


def dup_keyed(c, ordod, ring, before):
    """The keyed case's own checks, after the duplicate exited: frame security
    refused nothing but replays meanwhile, and messages node 2 publishes are
    delivered at every node (nodes 1 and 3 still open node 2's frames: the
    duplicate's frames did not move node 2's replay windows there)."""
    for i in ring:
        s = c.tel(i, '/ordo/security')
        bad = {k: s[k] - before[i][k] for k in AUTH_OTHER if s[k] != before[i][k]}
        if bad:
            raise Fail(f'n{i}: frame security refused frames meanwhile: {bad}')
        log(f'n{i}: auth_replay {before[i]["auth_replay"]} -> {s["auth_replay"]}, no other auth_* refusal')
    got = {i: int(c.delivery(i)['delivered']) for i in ring}
    n = 20
    pub = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordo-pub')
    r = subprocess.run([pub, '-s', c.socket_path(2), '-g', 'dup', '-n', str(n), 'after'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    if r.returncode != 0:
        raise Fail(f'ordo-pub at node 2 failed (exit {r.returncode}): {r.stdout.strip()}')
    c.wait_until(lambda: all(int(c.delivery(i)['delivered']) >= got[i] + n for i in ring), 20,
                 f'every node to deliver node 2\'s {n} messages')
    log(f'every node delivered the {n} messages node 2 published after the duplicate exited')
    # node 2 killed and restarted: its new incarnation gets a window at nodes
    # 1 and 3 beside the one ring-proto holds there, is adopted, and rejoins
    c.kill(2)
    c.wait_ring([1, 3], timeout=30, primary=1)
    c.start(2)
    c.wait_ring(ring, timeout=60, primary=1)
    log('node 2, killed and restarted, rejoined the keyed ring')


def test(ordod, args):
    what = args[0] if args else 'dup-id'
    keyed = args[-1:] == ['keyed'] and what == 'dup-id'
    rest = args[1:len(args) - keyed]
    mode = rest[0] if rest else None
    if (mode is not None and (what != 'dup-id' or mode not in ('udp4-segment', 'udp6-ll', 'idle'))) or \
            len(rest) > 1 or (keyed and mode not in (None, 'idle')):
        raise Fail(f'usage: {__doc__.splitlines()[-1]}')
    idle = mode == 'idle'
    mode = None if idle else mode
    if what == 'dup-id':
        ring = [1, 2, 3]
        # namespace ordo-n4 runs a second process configured as node 2
        node_conf = DupConf(mode, 2) if mode else {4: {'node': {'id': 2}}}
        c = Cluster(ordod, nodes=4, paths=2, ring={'rrp_mode': 'active', 'nodes': '1,2,3'},
                    node_conf=node_conf, load=None if idle else {'size': 256, 'rate': 200},
                    routed=transports.topology_kinds(mode, 2) if mode else None,
                    sections={'ring': {'key_file': key_file(TMP)}} if keyed else None)
        bad = 4
    elif what in ('mtu', 'window'):
        ring = [1, 2]
        c = Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'}, load={'size': 256, 'rate': 200})
        bad = 3
    else:
        raise Fail(f'unknown case {what!r}')
    with c:
        if what == 'mtu':
            c.node_conf = {3: {'ring': {'mtu': 1500}}}
            key, theirs, ours = 'mtu', '1500', '9000'
        elif what == 'window':
            w = int(c.effective_config(1)['ring']['window_size'])
            c.node_conf = {3: {'ring': {'window_size': w // 2}}}
            key, theirs, ours = 'window_size', str(w // 2), str(w)
        for i in c.nodes:
            c.write_config(i)
        for i in ring:
            c.start(i)
        c.wait_ring(ring, timeout=60, primary=1)
        time.sleep(1.0)
        want = ring_id(c, ring[0])
        if mode:
            before = {i: neigh(c, i) for i in ring}
            for i in ring:
                c.delivery_reset(i)
        if keyed:
            before = {i: c.tel(i, '/ordo/security') for i in ring}
        c.start(bad)
        if what == 'dup-id':
            c.nodes[bad].killed = True  # it is to exit by itself
            if mode:
                macs2 = [port_mac(2, k) for k in range(2)]
                addr = r'10\.79\.\d\.2' if mode == 'udp4-segment' else r'fe80::4f:2'
                wait_line(c, bad, rf"error: ADDRESS IN USE: path \d: this node's address {addr} is held by MAC "
                          rf"({'|'.join(macs2)}) \(it answered or probed for it; RFC "
                          rf"{'5227' if mode == 'udp4-segment' else '4862'}\).*not starting", 10,
                          'that node 2 holds the address')
                log(f'the duplicate found its address held by node 2 ({" or ".join(macs2)})')
            wait_line(c, bad, r"error: DUPLICATE NODE ID: a process with this node's id 2 runs already .*"
                      r"not starting", 10, 'that node 2 runs already')
            rc = c.nodes[bad].proc.wait(timeout=10)
            if rc != 2:
                raise Fail(f'the duplicate exited {rc}, not 2')
            log('the duplicate exited with status 2')
            macs = [port_mac(bad, k) for k in range(2)]
            mac = '(' + '|'.join(macs) + ')'
            inc, src = INC, rf'MAC {mac}(, address \S+)?'
            running = INC if not mode else r'incarnation unknown: its address was found in use'
            wait_line(c, 2, rf"error: DUPLICATE NODE ID: another process runs with this node's id 2 \({inc}; "
                      rf"it sent from {src} on path \d; this one is {inc}\): its frames are refused", 10,
                      'node 2 names the second process and its MAC')
            for i in (1, 3):
                wait_line(c, i, rf"error: DUPLICATE NODE ID: a second process configured as node 2 \({inc}; "
                          rf"it sent from {src} on path \d\) found node 2 running \({running}\) and did not "
                          rf"start; node 2 keeps its place", 10, f'n{i} names the duplicate of node 2 and its MAC')
            log(f'every node of the ring logged the duplicate of node 2, from MAC {" or ".join(macs)}')
            hold_ring(c, ring, want, 2.0)
            log(f'the ring {want[1]} kept its members, primary (2 s)')
            for i in ring:
                d = c.drops(i)
                if not d.get('duplicate-id', 0) or d.get('new-incarnation', 0):
                    raise Fail(f'n{i}: want duplicate-id drops (the notice) and no new-incarnation: {d}')
            log('every node counted the notice as duplicate-id; none held a new incarnation of node 2')
            c.wait_ring(ring, timeout=10, primary=1)
            log('the ring of 1, 2, 3 is primary after the duplicate is gone')
            if mode:
                dup_routed(c, bad, mode, before, c.ring_us('token_loss_us') / 1e3)
            if keyed:
                dup_keyed(c, ordod, ring, before)
            return
        else:
            for i in ring:
                wait_line(c, i, rf'error: node 3 \(incarnation \d+\) refused: its ring configuration differs '
                          rf'from this node\'s: .*\b{key} = {theirs} \(here {ours}\)', 10, f'node 3 refused for {key}')
            wait_line(c, 3, rf'error: node [12] \(incarnation \d+\) refused: its ring configuration differs '
                      rf'from this node\'s: .*\b{key} = {ours} \(here {theirs}\)', 10, f'the ring refused for {key}')
        hold_ring(c, ring, want, 3.0)
        log(f'the ring {want[1]} kept its members, primary, while the misconfigured node ran (3 s)')
        reason = 'duplicate-id' if what == 'dup-id' else 'config-mismatch'
        for i in ring:
            n = c.drops(i).get(reason, 0)
            if what == 'dup-id' and i == 2:
                continue
            if not n:
                raise Fail(f'n{i}: no {reason} drops counted: {c.drops(i)}')
        s = c.node(bad)
        if s.get('primary') and int(s['primary']) == 1:
            raise Fail(f'the misconfigured process is in a primary ring: {s}')
        log(f'{reason} drops at every node of the ring; the misconfigured process is alone, not primary')
        if what != 'dup-id':
            # ordoctl status at the refused node says why it is alone: its harmful drops
            ctl = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordoctl')
            r = subprocess.run([ctl, '-s', c.socket_path(bad), 'status'], capture_output=True, text=True, timeout=20)
            log(f'ordoctl status at n{bad} (exit {r.returncode}):\n{r.stdout}')
            if r.returncode != 2 or 'harmful drops: ' not in r.stdout or 'config_mismatch' not in r.stdout:
                raise Fail(f'ordoctl status at the refused node does not say config_mismatch (exit {r.returncode}): '
                           f'{r.stdout!r}')
        c.stop(bad)
        hold_ring(c, ring, want, 0.5)


def test_cleaned(ordod, args):
    try:
        test(ordod, args)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == '__main__':
    main_test(test_cleaned)
