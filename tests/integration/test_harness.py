#!/usr/bin/env python3
"""The harness's own waits (tests/harness/cluster.py), on a cluster whose telemetry is
faked: no root, no topology, no ordod. Runs in the unit suite.

Regression (issue 14): Cluster.wait_quiet() spun its whole timeout when the
nodes' delivered counts differed for good, and then said only
"last: False". It must say which node has what (delivered, digest,
load_done, state), and give up as soon as the nodes are quiet in one ring
with different counts instead of spinning the rest of its timeout.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
import cluster as oc  # noqa: E402


class FakeCluster(oc.Cluster):
    """Telemetry answers from dicts the test sets; every node is alive."""

    def __init__(self, nodes):
        super().__init__('/bin/true', nodes=nodes, what='harness-selftest')
        self.dlv = {}
        self.nd = {i: {'state': 'operational', 'ring_rep': 1, 'ring_seq': 8, 'members': list(self.nodes)}
                   for i in self.nodes}

    def alive(self, i):
        return True

    def delivery(self, i):
        return dict(self.dlv[i])

    def node(self, i):
        return dict(self.nd[i])


def dlv(delivered, digest, done=1):
    return {'delivered': delivered, 'digest': digest, 'load_done': done}


def expect_fail(fn, within_s, *needles):
    t0 = time.monotonic()
    try:
        fn()
    except oc.Fail as e:
        dt = time.monotonic() - t0
        msg = str(e)
        oc.log(f'failed after {dt:.1f} s: {msg}')
        missing = [n for n in needles if n not in msg]
        if missing:
            raise oc.Fail(f'the failure does not say {missing}: {msg}')
        if dt > within_s:
            raise oc.Fail(f'gave up after {dt:.1f} s, not within {within_s} s')
        return
    raise oc.Fail('wait_quiet returned, expected a failure')


def main():
    c = FakeCluster(3)
    # equal and quiet: returns the deliveries
    c.dlv = {i: dlv(500, 'aaaa') for i in (1, 2, 3)}
    d = c.wait_quiet([1, 2, 3], stable_s=0.2, timeout=10)
    assert d[1]['delivered'] == 500, d

    # counts that differ for good, every node quiet in one ring: the failure
    # names each node's count and comes long before the 60 s timeout
    c.dlv = {1: dlv(1200, '1111'), 2: dlv(1180, '2222'), 3: dlv(1200, '1111')}
    expect_fail(lambda: c.wait_quiet([1, 2, 3], stable_s=0.2, timeout=60, settle_s=2), 6,
                'n1 delivered 1200', 'n2 delivered 1180', '2222')

    # a node whose load generator is not done: the timeout says which
    c.dlv = {1: dlv(70, 'cccc'), 2: dlv(70, 'cccc', done=0), 3: dlv(70, 'cccc')}
    expect_fail(lambda: c.wait_quiet([1, 2, 3], stable_s=0.2, timeout=2), 5, 'load_done 0 at n2')

    # different counts while a node is not in the others' ring: not final
    # (it may still recover): waits the whole timeout, and says so
    c.dlv = {1: dlv(10, 'dddd'), 2: dlv(9, 'eeee'), 3: dlv(10, 'dddd')}
    c.nd[2] = {'state': 'gather', 'ring_rep': 1, 'ring_seq': 8, 'members': [1, 2, 3]}
    t0 = time.monotonic()
    expect_fail(lambda: c.wait_quiet([1, 2, 3], stable_s=0.2, timeout=3, settle_s=1), 6,
                'n2 delivered 9', 'n2 gather')
    if time.monotonic() - t0 < 2.9:
        raise oc.Fail('gave up before its timeout while a node was not operational')
    oc.log('wait_quiet says why it waits, and stops waiting for counts that cannot converge')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except oc.Fail as e:
        print(f'FAIL: {e}', flush=True)
        sys.exit(1)
