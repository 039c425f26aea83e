#!/usr/bin/env python3
"""metrics: a real Prometheus server (Debian's `prometheus`) scrapes a
3-node ring's /metrics ([node] metrics_listen, docs/ordod.md "Metrics").

Each node serves GET /metrics on its path-1 address (10.77.1.<id>:9464,
inside its namespace); Prometheus runs in node 1's namespace and scrapes
the three every second. Checks, through Prometheus's HTTP API: every
target up; ordo_ring_members is 3 and ordo_ring_primary 1 at every node;
the per-path (rx frames), per-peer (link up) and drop-by-reason series are
there for every node, path and peer; no harmful drop and some harmless
ones (active mode's second copies). Also: the text passes `promtool check
metrics`, and a URL other than /metrics is a 404.

usage: test_metrics.py ORDOD"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Client, Cluster, Fail, Skip, log, main_test  # noqa: E402

NODES = [1, 2, 3]
PORT = 9464
PROM = '127.0.0.1:19090'

FETCH = ('import sys, urllib.request, urllib.error\n'
         'try:\n'
         '    r = urllib.request.urlopen(sys.argv[1], timeout=5)\n'
         '    sys.stdout.write(r.read().decode())\n'
         'except urllib.error.HTTPError as e:\n'
         '    sys.stdout.write("HTTP %d" % e.code)\n')


def fetch(url, ns='ordo-n1'):
    """GET url from inside namespace ns (the addresses live there)."""
    r = subprocess.run(['ip', 'netns', 'exec', ns, sys.executable, '-c', FETCH, url],
                       capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise Fail(f'GET {url} in {ns}: {r.stderr.strip()[-300:]}')
    return r.stdout


def query(q):
    import urllib.parse
    out = fetch(f'http://{PROM}/api/v1/query?' + urllib.parse.urlencode({'query': q}))
    try:
        j = json.loads(out)
    except ValueError:
        raise Fail(f'Prometheus query {q!r}: not JSON: {out[:300]!r}') from None
    if j.get('status') != 'success':
        raise Fail(f'Prometheus query {q!r}: {j}')
    return j['data']['result']


def test(ordod, args):
    prom = shutil.which('prometheus')
    promtool = shutil.which('promtool')
    if prom is None:
        raise Skip('no prometheus (Debian package prometheus)')
    node_conf = {i: {'node': {'metrics_listen': f'10.77.1.{i}:{PORT}'}} for i in NODES}
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'}, node_conf=node_conf,
                 load={'size': 256, 'rate': 200}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        for i in NODES:
            text = c.wait_until(lambda: (lambda t: t if 'ordo_ring_members' in t else None)(
                fetch(f'http://10.77.1.{i}:{PORT}/metrics')), 10, f'n{i} /metrics')[0]
            for want in (f'ordo_ring_members{{node="{i}"}} 3', f'ordo_ring_primary{{node="{i}"}} 1',
                         f'ordo_path_rx_frames_total{{node="{i}",path="1"}}',
                         f'ordo_drops_total{{node="{i}",reason="duplicate",kind="harmless"}}',
                         'ordo_peer_link_up{', '# TYPE ordo_tokens_received_total counter'):
                if want not in text:
                    raise Fail(f'n{i} /metrics lacks {want!r}')
            if promtool:
                r = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True, text=True)
                if r.returncode != 0:
                    raise Fail(f'n{i} /metrics: promtool check metrics: {r.stdout}{r.stderr}')
        nf = fetch(f'http://10.77.1.1:{PORT}/')
        if not nf.startswith('HTTP 404'):
            raise Fail(f'GET / answered {nf[:80]!r}, not 404')
        log(f'/metrics at every node ({len(text.splitlines())} lines at n3)'
            f'{", promtool check metrics passes" if promtool else ""}; GET / is a 404')

        cfg = os.path.join(c.tmp, 'prometheus.yml')
        with open(cfg, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n'
                    'scrape_configs:\n  - job_name: ordo\n    static_configs:\n      - targets: [' +
                    ', '.join(f"'10.77.1.{i}:{PORT}'" for i in NODES) + ']\n')
        data = os.path.join(c.tmp, 'prometheus-data')
        p = Client(c, 1, ['ip', 'netns', 'exec', 'ordo-n1', prom, f'--config.file={cfg}',
                          f'--storage.tsdb.path={data}', f'--web.listen-address={PROM}'], 'prometheus')
        c.clients.append(p)
        c._record_children()

        def scraped():
            if p.poll() is not None:
                raise Fail(f'prometheus exited {p.poll()}: {p.err()[-500:]}')
            try:
                up = query('up{job="ordo"}')
            except Fail:
                return False
            return up if len(up) == 3 and all(r['value'][1] == '1' for r in up) else False
        up, dt = c.wait_until(scraped, 60, 'Prometheus to scrape the three nodes')
        log(f'Prometheus scraped the three nodes ({dt:.1f} s): ' +
            ', '.join(r['metric']['instance'] for r in up))
        time.sleep(2)

        def series(q, n, value=None):
            r = query(q)
            if len(r) != n or (value is not None and any(float(x['value'][1]) != value for x in r)):
                raise Fail(f'{q}: {len(r)} series (want {n}'
                           f'{f" of value {value}" if value is not None else ""}): {r[:4]}')
            return r
        series('ordo_ring_members', 3, 3)
        series('ordo_ring_primary', 3, 1)
        series('ordo_path_rx_frames_total', 6)
        series('ordo_path_up', 6, 1)
        series('ordo_peer_link_up', 12, 1)
        series('ordo_tokens_received_total', 3)
        series('ordo_frames_retransmitted_total', 3)
        # a stable ring drops nothing harmful; on this shared 2-core VM a
        # starved node can lose the token, and the reconfiguration may drop
        # a frame or two: then each harmful drop is named, and allowed only
        # at a node whose ordo_token_losses_total shows the token was lost
        harmful = query('ordo_drops_total{kind="harmful"} > 0')
        if harmful:
            losses = {r['metric']['node']: float(r['value'][1]) for r in query('ordo_token_losses_total')}
            named = ', '.join(f"n{r['metric']['node']} {r['metric']['reason']} {r['value'][1]}" for r in harmful)
            if any(losses.get(r['metric']['node'], 0) == 0 for r in harmful):
                raise Fail(f'harmful drops on a ring that never lost the token: {named}')
            log(f'the token was lost under load ({losses}); harmful drops then: {named}')
        harmless = series('sum by (node) (ordo_drops_total{kind="harmless"})', 3)
        if any(float(x['value'][1]) == 0 for x in harmless):
            raise Fail(f'no harmless drops on an active two-path ring: {harmless}')
        rate = series('sum(rate(ordo_messages_delivered_total[5s]))', 1)
        log(f'series: ring, paths, peers, drops by reason at every node; '
            f'delivered {float(rate[0]["value"][1]):.0f} msgs/s summed over the nodes')


if __name__ == '__main__':
    main_test(test)
