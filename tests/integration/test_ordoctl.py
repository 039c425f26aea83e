#!/usr/bin/env python3
"""ordoctl: every verb on a 3-node, 2-path ring, in text and in JSON, and
its exit statuses (docs/ordoctl.md): 0 fine, 1 refused or failed, 2 not in
a primary operational ring, 3 unreachable, 4 views differ, 64 usage.

  - status --all over the three sockets: every node operational in one
    ring, primary, protocol 1, both paths ok (exit 0); a socket that does
    not exist makes it exit 3; without sockets it shows every node whose
    socket is in /run/ordo, and status without a node asks which (64);
    one node's socket alone: the others are named as configured but not
    listed;
  - status, members, quorum, stats, drops at each node, their JSON checked
    against what the ring is (members, quorum needed 2, links ok, tokens
    counted, no harmful drop and active mode's harmless duplicates);
  - node 1's link on path 0 cut: status --all shows path 0 faulty at node 1
    with no link to 2 and 3, and at nodes 2 and 3 no link to node 1 on path
    0; members at node 2 says node 1 marked path 0 faulty; reinstate 0 at
    node 1 is taken (exit 0) and, once restored, refused (exit 1: not
    faulty);
  - reload: a changed log_level is applied, a changed window_size reported
    as needing a restart;
  - key reload on this ring without a key file: refused (exit 1), saying
    frame security is off — not "requested" with nothing done;
  - leave at node 3: its status exits 2 (left), status --all exits 2 and
    names node 3 as out of the primary ring; nodes
    1 and 2 stay primary; shutdown at node 2: it exits 0, node 1 alone is
    not primary (quorum exits 2);
  - usage errors exit 64;
  - on an idle ring (no load) some peer is "quiet" (heard on no path
    lately: a node hears only the node that passes it the token), and the
    text members says under its table that this is normal.

usage: test_ordoctl.py ORDOD"""
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, Skip, ini, log, main_test  # noqa: E402

NODES = [1, 2, 3]


def test(ordod, args):
    ctl = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordoctl')
    if not os.access(ctl, os.X_OK):
        raise Skip(f'no {ctl}')

    def run(*argv, expect=None, js=False):
        cmd = [ctl] + (['--json'] if js else []) + [str(a) for a in argv]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if expect is not None and r.returncode != expect:
            raise Fail(f'{" ".join(cmd[1:])}: exit {r.returncode}, expected {expect}; '
                       f'stdout {r.stdout[-800:]!r} stderr {r.stderr[-400:]!r}')
        if js:
            try:
                return r.returncode, json.loads(r.stdout)
            except ValueError:
                raise Fail(f'{" ".join(cmd[1:])}: not JSON: {r.stdout[-400:]!r}') from None
        return r.returncode, r.stdout

    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'},
                 load={'size': 256, 'rate': 300}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        for i in NODES:
            c.wait_socket(i)
        socks = [c.socket_path(i) for i in NODES]
        sock = dict(zip(NODES, socks))
        time.sleep(0.5)

        rc, out = run('status', '--all', *socks, expect=0)
        log('ordoctl status --all:\n' + out)
        if out.count('operational') != 3 or 'every node sees the same ring' not in out:
            raise Fail(f'status --all does not show three operational nodes agreeing: {out!r}')
        rc, j = run('status', '--all', *socks, expect=0, js=True)
        if not j['agree'] or j['exit'] != 0 or len(j['nodes']) != 3:
            raise Fail(f'status --all --json: {j}')
        rings = {(n['ring']['rep'], n['ring']['seq']) for n in j['nodes'].values()}
        if len(rings) != 1:
            raise Fail(f'status --all --json: rings differ: {rings}')
        run('status', '--all', socks[0], '/run/ordo/no-such-node.sock', expect=3)
        _, out = run('status', '--all', socks[0], expect=0)
        if 'configured but not listed: 2,3' not in out:
            raise Fail(f'status --all of node 1 alone does not name the configured nodes it did not list: {out!r}')
        # no sockets given: every node whose socket is in /run/ordo (other
        # sockets there, left by killed runs, may be unreachable: not checked)
        _, j = run('status', '--all', js=True)
        here = {s: j['nodes'].get(s, {}) for s in socks}
        if any(n.get('state') != 'operational' for n in here.values()):
            raise Fail(f'status --all without sockets does not show the three nodes of /run/ordo: {j}')
        rc, _ = run('status', expect=64)
        log('status --all without sockets lists the three nodes of /run/ordo; status without a node, '
            'with several here, asks which (exit 64)')
        run('-s', '/run/ordo/no-such-node.sock', 'status', expect=3)

        for i in NODES:
            _, s = run('-s', sock[i], 'status', expect=0, js=True)
            if (s['node'] != i or s['state'] != 'operational' or s['members'] != NODES or not s['primary']
                    or s['proto_version'] != 1 or s['quorum']['needed'] != 2 or len(s['paths']) != 2
                    or any(p['state'] != 'ok' or p['peers_down'] for p in s['paths'])):
                raise Fail(f'n{i} status --json: {s}')
            _, q = run('-s', sock[i], 'quorum', expect=0, js=True)
            if not q['quorum']['primary'] or q['quorum']['configured'] != 3:
                raise Fail(f'n{i} quorum --json: {q}')
            _, m = run('-s', sock[i], 'members', expect=0, js=True)
            peers = {p['id']: p for p in m['peers']}
            if sorted(peers) != NODES or not peers[i]['self']:
                raise Fail(f'n{i} members --json: {m}')
            for k in NODES:
                if k == i:
                    continue
                for p in peers[k]['paths']:
                    if p['link'] != 'ok' or p['last_heard_ms'] is None or p['last_heard_ms'] > 1000:
                        raise Fail(f'n{i} members: node {k} path {p["path"]}: {p}')
            _, st = run('-s', sock[i], 'stats', expect=0, js=True)
            if st['counters']['tokens_received'] == 0 or len(st['paths']) != 2 or \
                    st['paths'][0]['rx_frames'] == 0:
                raise Fail(f'n{i} stats --json: {st}')
            _, d = run('-s', sock[i], 'drops', expect=0, js=True)
            if d['harmful_total'] != 0 or d['harmless']['duplicate'] == 0:
                raise Fail(f'n{i} drops --json: harmful {d["harmful_total"]}, harmless {d["harmless"]}')
        _, out = run('-s', sock[2], 'members', expect=0)
        log('ordoctl members at n2:\n' + out)
        _, out = run('-s', sock[1], 'drops', expect=0)
        log('ordoctl drops at n1:\n' + out)
        for verb in ('quorum', 'stats'):
            run('-s', sock[1], verb, expect=0)
        log('status, members, quorum, stats, drops: text and JSON as the ring is')

        c.topo('cut', 1, 0)

        def cut_seen():
            _, j = run('status', '--all', *socks, js=True)
            n = {v['node']: v for v in j['nodes'].values() if 'node' in v}
            if len(n) != 3:
                return False
            return (n[1]['paths'][0]['state'] == 'faulty' and n[1]['paths'][0]['peers_down'] == [2, 3]
                    and n[2]['paths'][0]['peers_down'] == [1] and n[3]['paths'][0]['peers_down'] == [1]
                    and j['exit'] == 0)
        c.wait_until(cut_seen, 15, 'status --all to show the cut at every node, naming the peers')
        _, out = run('status', '--all', *socks, expect=0)
        log('ordoctl status --all with path 0 of node 1 cut:\n' + out)
        _, m = run('-s', sock[2], 'members', expect=0, js=True)
        p1 = next(p for p in m['peers'] if p['id'] == 1)
        if p1['paths'][0]['link'] != 'faulty' or p1['paths'][1]['link'] != 'ok':
            raise Fail(f'n2 members: node 1 paths {p1["paths"]}')
        _, out = run('-s', sock[2], 'members', expect=0)
        if 'faulty: it marked this path faulty itself' not in out or 'quiet:' in out:
            raise Fail(f'n2 members does not say under its table what faulty means (and only that): {out!r}')
        _, r = run('-s', sock[1], 'reinstate', 0, expect=0, js=True)
        log(f'reinstate 0 at n1 while cut: {r}')
        c.wait_until(lambda: c.paths_info(1)['path0']['reinstated'] >= 1, 5, 'the reinstatement at n1')
        c.topo('restore', 1, 0)
        c.wait_until(lambda: all(run('-s', sock[i], 'status', js=True)[1]['paths'][0]['state'] == 'ok'
                                 and not run('-s', sock[i], 'status', js=True)[1]['paths'][0]['peers_down']
                                 for i in NODES), 20, 'path 0 ok everywhere after the restore')
        rc, r = run('-s', sock[1], 'reinstate', 0, expect=1, js=True)
        if 'not marked faulty' not in r.get('error', ''):
            raise Fail(f'reinstate of a working path: {r}')
        run('-s', sock[1], 'reinstate', 7, expect=1)
        log('a path cut seen and named at every node; reinstate taken, and refused for a working path')

        conf = c.config(1)
        conf['node']['log_level'] = 'debug'
        conf['ring']['window_size'] = 128
        with open(c.nodes[1].conf_path, 'w') as f:
            f.write(ini(conf))
        _, r = run('-s', sock[1], 'reload', expect=0, js=True)
        if r['applied'] != ['node.log_level'] or r['restart_needed'] != ['ring.window_size']:
            raise Fail(f'reload: {r}')
        c.write_config(1)
        log(f'reload: {r}')
        cmd = [ctl, '-s', sock[1], 'key', 'reload']
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if r.returncode != 1 or 'frame security is off' not in r.stderr or 'requested' in r.stdout:
            raise Fail(f'key reload without a key file: exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}')
        log(f'key reload without a key file: exit 1: {r.stderr.strip()}')

        run('-s', sock[3], 'leave', expect=0)
        c.wait_until(lambda: run('-s', sock[3], 'status', js=True)[1].get('state') == 'left', 10,
                     'n3 to leave')
        run('-s', sock[3], 'status', expect=2)
        c.wait_ring([1, 2], timeout=20)
        run('-s', sock[1], 'status', expect=0)
        rc, out = run('status', '--all', *socks, expect=2)
        log('ordoctl status --all after n3 left:\n' + out)
        if 'not operational in a primary ring: 3 (left)' not in out:
            raise Fail(f'status --all after n3 left does not name it as out of the primary ring: {out!r}')
        c.nodes[3].killed = True  # it exits when stopped; the harness stops it

        run('-s', sock[2], 'shutdown', expect=0)
        c.nodes[2].killed = True
        c.wait_until(lambda: c.nodes[2].proc.poll() is not None, 10, 'n2 to exit after shutdown')
        if c.nodes[2].proc.returncode != 0:
            raise Fail(f'n2 exited {c.nodes[2].proc.returncode} after ordoctl shutdown')
        c.wait_until(lambda: run('-s', sock[1], 'quorum', js=True)[1].get('quorum', {}).get('primary') is False,
                     10, 'n1 alone, not primary')
        run('-s', sock[1], 'quorum', expect=2)
        run('-s', sock[2], 'status', expect=3)

        run('bogus', expect=64)
        run('-s', sock[1], 'status', 'extra', expect=64)
        run('-s', sock[1], 'watch', 'leave', expect=64)
        rc, out = run('-s', sock[1], 'watch', 'quorum', '-n', 2, '-i', 0.1, expect=2)
        if out.count('NOT primary') != 2:
            raise Fail(f'watch -n 2: {out!r}')
        log('leave, shutdown, watch and usage: exit statuses as documented')

    # an idle ring: a node hears only the node that passes it the token
    # (and the representative's announcements), so some peer is quiet, and
    # the text says that this is normal
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        for i in NODES:
            c.wait_socket(i)
        time.sleep(1.0)  # longer than token_loss_us (250 ms)
        quiet = []
        for i in NODES:
            _, m = run('-s', c.socket_path(i), 'members', expect=0, js=True)
            for pe in m['peers']:
                links = {p['link'] for p in pe['paths']}
                if not links <= {'ok', 'quiet'} and not pe['self']:
                    raise Fail(f'n{i} members on an idle ring: node {pe["id"]}: {pe["paths"]}')
                if links == {'quiet'}:
                    quiet.append(i)
        if not quiet:
            raise Fail('no node of an idle ring shows a quiet peer: every node heard every other')
        _, out = run('-s', c.socket_path(quiet[0]), 'members', expect=0)
        log(f'ordoctl members at n{quiet[0]} on an idle ring:\n' + out)
        if 'quiet: not heard on this path lately, and none of its frames sent on it came on another: normal on an idle ring' not in out or 'unknown' in out:
            raise Fail(f'members on an idle ring does not explain quiet: {out!r}')


if __name__ == '__main__':
    main_test(test)
