#!/usr/bin/env python3
"""perf-control: ordo-perf --control (apps/perf_control.h) on a 3-node,
1-path cluster, the rounds scripts/bench-compare --control measures
(scripts/lib/control.py), cut short — correctness only, never speed:

  (a) join: a watcher on every node, a joiner on node 1 joining and leaving
      the control group 3 times: every watcher delivers each of the
      joiner's views (the view with it joined, then the one with it gone),
      and every watcher's JSON has the same digest;
  (b) churn: 2 clients per node join and leave groups of their own for
      1 s: every watcher (a member of every churn group) counts the same
      number of views, has the same digest, and the churners report
      completed joins and leaves;
  (c) the JSON: the fields control.py reads, of the right types, each
      watcher complete, on its own node, its barrier before its last END.

    test_perf_control.py ORDOD [ORDO-PERF]
ordo-perf is taken from ORDOD's directory (build/apps) unless given.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'harness'))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'lib'))
from cluster import Cluster, Fail, log, main_test  # noqa: E402
import control  # noqa: E402


class Cfg:
    control_cycles = 3
    control_churners = 2
    control_duration = 1.0


def check_json(ws, what):
    """Every watcher's JSON has what control.py reads, consistently."""
    for i, w in ws.items():
        for k, t in (('barrier_ns', int), ('done_ns', int), ('digest', str), ('views', list),
                     ('churn_views', int), ('complete', bool), ('node', int), ('id', int)):
            if not isinstance(w.get(k), t):
                raise Fail(f'{what}: watcher n{i}: {k} is {w.get(k)!r}, not {t.__name__}')
        if not w['complete'] or not 0 < w['barrier_ns'] <= w['done_ns']:
            raise Fail(f'{what}: watcher n{i}: incomplete or times out of order: {w["barrier_ns"]}, {w["done_ns"]}')
        if w['node'] != i:
            raise Fail(f'{what}: watcher n{i} says it is on node {w["node"]}')


def test(ordod, args):
    perf = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordo-perf')
    with Cluster(ordod, nodes=3, paths=1) as c:
        c.start_all()
        c.wait_ring([1, 2, 3])
        for i in c.nodes:
            c.wait_socket(i)
        side = control.OrdoSide({}, c, perf, c.tmp)
        keep = {}

        def keep_results(orig):
            def f(ws, tag):
                res = orig(ws, tag)
                keep[tag] = res
                return res
            return f
        control.finish = keep_results(control.finish)

        r = control.round_join(side, Cfg, 'it-j0')
        log(f'join: {r["cycles"]} cycles, join {[round(x / 1e6, 2) for x in r["join_ns"]]} ms')
        if r['cycles'] != Cfg.control_cycles or len(r['join_ns']) != Cfg.control_cycles:
            raise Fail(f'join: {r["cycles"]} cycles of {Cfg.control_cycles}')
        if not r['digests_equal']:
            raise Fail('join: the watchers\' digests differ')
        check_json(keep['it-j0'], 'join')

        r = control.round_churn(side, Cfg, 'it-c0')
        log(f'churn: views per watcher {r["views"]}, {r["ops"]} joins+leaves')
        if not r['digests_equal']:
            raise Fail(f'churn: the watchers disagree: views {r["views"]}')
        if r['ops'] < 2 * 3 * Cfg.control_churners or min(r['views']) < r['ops']:
            raise Fail(f'churn: {r["ops"]} joins+leaves, views per watcher {r["views"]}')
        check_json(keep['it-c0'], 'churn')
        c.stop_all()


if __name__ == '__main__':
    main_test(test)
