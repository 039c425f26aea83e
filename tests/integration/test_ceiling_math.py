#!/usr/bin/env python3
"""The arithmetic of the transport's ceiling (tests/harness/ceiling.py), on
made-up blaster results and ordo runs: what reached every other node, the
loss, the medians, ordo's data frames per second from its counters, and
the percentages bench-compare prints. No root, no topology: runs in the
unit suite. (tests/integration/test_blast.py runs the blaster itself.)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
import ceiling  # noqa: E402
import cluster as oc  # noqa: E402


def node(i, sending, tx, rx, window=2.0, mtu=9000):
    return {'node': i, 'sending': sending, 'window_s': window, 'cpu_s': 0.5, 'late_ms': 0.0, 'warmup_s': 0.5,
            'tx_frames': tx, 'tx_attempted': tx + 10 * sending, 'tx_frames_per_s': tx / window,
            'rx_frames': rx, 'rx_frames_per_s': rx / window, 'rx_mb_per_s': rx * mtu / window / 1e6}


def run(mode, nodes, mtu=9000, paths=1):
    r = {'mode': mode, 'mtu': mtu, 'paths': paths, 'nodes': nodes, 'errors': [], 'contaminated': False,
         'other_cpus': 0.1}
    ceiling.reduce(r, len(nodes))
    return r


def near(a, b, what):
    if a is None or abs(a - b) > 1e-6 * max(1.0, abs(b)):
        raise oc.Fail(f'{what}: {a}, expected {b}')


def check_reduce():
    # node 1 sends 6,000 frames in 2 s; nodes 2 and 3 receive 5,800 and 5,600
    one = run('one', {1: node(1, True, 6000, 0), 2: node(2, False, 0, 5800), 3: node(3, False, 0, 5600)})
    near(one['frames_per_s'], (5800 + 5600) / 2 / 2, 'one: frames/s reaching every other node')
    near(one['mb_per_s'], 2850 * 9000 / 1e6, 'one: MB/s')
    near(one['lost'], 1 - 11400 / 12000, 'one: lost')
    near(one['rx_frames_per_s_min'], 2800, 'one: slowest receiver')
    near(one['refused'], 10, 'one: refused by the port')
    # all three send 3,000 and each receives 4,000 of the others' 6,000
    a = {i: node(i, True, 3000, 4000) for i in (1, 2, 3)}
    al = run('all', a)
    near(al['frames_per_s'], 3 * 4000 / 2 / 2, 'all: frames/s reaching every other node')
    near(al['sent_frames_per_s'], 9000 / 2, 'all: sent')
    near(al['lost'], 1 - 12000 / (2 * 9000), 'all: lost')
    # two paths: every frame arrives once per path
    two = run('all', {i: node(i, True, 6000, 8000) for i in (1, 2, 3)}, paths=2)
    near(two['frames_per_s'], 3000, 'all, 2 paths: frames/s')
    if not (one['ok'] and al['ok']):
        raise oc.Fail('runs that started in time and received frames are not ok')
    if late_run()['ok']:
        raise oc.Fail('a run whose node started after its warm-up is ok')
    return one, al


def check_versus(one, al):
    runs = [dict(one, mtu=9000), dict(al, mtu=9000), dict(al, mtu=9000, frames_per_s=al['frames_per_s'] * 3),
            dict(late_run(), mtu=9000)]
    summary = ceiling.summarize(runs)
    by = {d['mode']: d for d in summary}
    if sorted(by) != ['all', 'one'] or by['one']['runs'] != 1 or by['all']['runs'] != 2:
        raise oc.Fail(f'summary: {summary}')
    near(by['all']['frames_per_s'], al['frames_per_s'] * 2, 'median of two all -> all runs')
    # ordo: 8,000 msgs/s per node of 1 KiB; 3,000 frames sent by the ring, 24,000 delivered at each node
    stats = {i: {'frames_sent': 1000, 'messages_delivered': 24000} for i in (1, 2, 3)}
    raw = [{'system': 'ordo', 'mtu': 9000, 'kind': 'tput', 'size': 1024, 'msgs_per_s': 8000.0,
            'ordod_stats_delta': stats}]
    rows = [{'mtu': 9000, 'kind': 'tput', 'size': 1024,
             'systems': {'ordo': {'msgs_per_s': 8000.0, 'mb_per_s': 8.192}}},
            {'mtu': 9000, 'kind': 'lat', 'size': 1024, 'systems': {'ordo': {'msgs_per_s': 1000.0, 'mb_per_s': None}}}]
    vs = ceiling.versus(summary, rows, raw)
    if len(vs) != 1:
        raise oc.Fail(f'one flood row expected: {vs}')
    v = vs[0]
    near(v['frames_per_s'], 1000.0, 'ordo data frames/s')
    near(v['msgs_per_frame'], 8.0, 'ordo msgs per frame')
    near(v['mb_pct_one'], 100 * 8.192 / by['one']['mb_per_s'], '% of 1 -> others MB/s')
    near(v['frames_pct_all'], 100 * 1000 / by['all']['frames_per_s'], '% of all -> all frames/s')
    near(v['packing_pct'], 100 * 8 * 1024 / 9000, 'message bytes per frame of the MTU')
    text = '\n'.join(ceiling.report(summary, vs, 3, 2.0))
    for needle in ('1 -> others', 'all -> all', '% all MB/s', 'packing %', f'{v["mb_pct_all"]:.1f}'):
        if needle not in text:
            raise oc.Fail(f'the report lacks {needle!r}:\n{text}')
    oc.log(text)


def late_run():
    return run('one', {1: dict(node(1, True, 6000, 0), late_ms=900.0), 2: node(2, False, 0, 5800),
                       3: node(3, False, 0, 5600)})


def main():
    one, al = check_reduce()
    check_versus(one, al)
    print('PASS test_ceiling_math.py')


if __name__ == '__main__':
    try:
        main()
    except oc.Fail as e:
        print(f'FAIL test_ceiling_math.py: {e}')
        sys.exit(1)
