#!/usr/bin/env python3
"""ordo-blast (bench/ordo_blast.c), the transport's ceiling that
scripts/bench-compare measures, works on a 3-node topology: for one second
in each mode (node 1 to the others; all to all) every receiver gets frames
from every sender, its JSON is whole and agrees with itself, and the
harness's reduction (tests/harness/ceiling.py) yields a ceiling. No speed
is asserted.

usage: test_blast.py ORDO_BLAST
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
import ceiling  # noqa: E402
import cluster as oc  # noqa: E402

KEYS = ('node', 'mode', 'sending', 'mtu', 'frame_bytes', 'window_s', 'cpu_s', 'tx_frames', 'tx_attempted',
        'tx_frames_per_s', 'tx_mb_per_s', 'rx_frames', 'rx_bytes', 'rx_lost', 'rx_frames_per_s', 'rx_mb_per_s',
        'rx_from')


def check_node(run, i, j):
    missing = [k for k in KEYS if k not in j]
    if missing:
        raise oc.Fail(f'{run["mode"]}: n{i}\'s JSON lacks {missing}: {j}')
    if j['node'] != i or j['mtu'] != run['mtu'] or j['frame_bytes'] != run['mtu']:
        raise oc.Fail(f'{run["mode"]}: n{i}\'s JSON names node {j["node"]}, MTU {j["mtu"]}, '
                      f'frames of {j["frame_bytes"]} B')
    if not 0.9 <= j['window_s'] <= 2.0:
        raise oc.Fail(f'{run["mode"]}: n{i} measured {j["window_s"]} s, not the 1 s asked')
    senders = [k for k in (1, 2, 3) if k != i and (run['mode'] == 'all' or k == 1)]
    for k in senders:
        got = j['rx_from'].get(str(k), {}).get('frames', 0)
        if got == 0:
            raise oc.Fail(f'{run["mode"]}: n{i} received nothing from n{k}: {j["rx_from"]}')
    if j['rx_bytes'] != j['rx_frames'] * run['mtu']:
        raise oc.Fail(f'{run["mode"]}: n{i} counted {j["rx_bytes"]} B in {j["rx_frames"]} frames of {run["mtu"]} B')
    if j['sending'] != (run['mode'] == 'all' or i == 1) or (j['sending'] and j['tx_frames'] == 0):
        raise oc.Fail(f'{run["mode"]}: n{i} sending {j["sending"]}, sent {j["tx_frames"]} frames')
    if not j['sending'] and j['tx_attempted'] != 0:
        raise oc.Fail(f'{run["mode"]}: n{i} only receives but tried to send {j["tx_attempted"]} frames')


def test(blast_exe, args):
    if not os.access(blast_exe, os.X_OK):
        raise oc.Skip(f'no ordo-blast at {blast_exe}')
    # the topology only: no ordod (paths 1, MTU 9000 as bench-compare's)
    with oc.Cluster('/bin/true', nodes=3, paths=1, mtu=9000, prefix='ordo-it-blast-n') as c:
        runs = ceiling.measure(c, os.path.abspath(blast_exe), duration=1.0)
    for run in runs:
        if run['errors']:
            raise oc.Fail(f'{run["mode"]}: ' + '; '.join(run['errors']))
        if sorted(run['nodes']) != [1, 2, 3]:
            raise oc.Fail(f'{run["mode"]}: results from nodes {sorted(run["nodes"])}')
        for i, j in run['nodes'].items():
            check_node(run, i, j)
        if not run['ok'] or not run['frames_per_s'] > 0 or not run['mb_per_s'] > 0:
            raise oc.Fail(f'{run["mode"]}: no ceiling: {ceiling.describe(run)}')
    summary = ceiling.summarize(runs)
    if [d['mode'] for d in summary] != ['one', 'all']:
        raise oc.Fail(f'summary has modes {[d["mode"] for d in summary]}')
    for line in ceiling.report(summary, [], 1, 1.0):
        oc.log(line)


if __name__ == '__main__':
    oc.main_test(test, usage='ORDO_BLAST')
