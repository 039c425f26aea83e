#!/usr/bin/env python3
"""pause: 3 nodes, every node sends 256 B messages at 1,000 msgs/s. Node 3 is
stopped with SIGSTOP for 1x, 3x and 10x the token-loss timeout and continued
with SIGCONT, one pause after the other, the ring of three formed again in
between (what a VM pause, a long page fault or a debugger does;
docs/protocol.md §16). Nodes 1 and 2 stay up and connected throughout, so
no regular configuration either of them installs may leave the other out,
and none may be non-primary (two of three under majority). For each pause it
prints what nodes 1 and 2 saw: the configurations they installed and their
longest delivery gap. At the end nodes 1 and 2 must have delivered the same
messages in the same order (equal counts and digests), every message of every
node (3 x the load, no per-origin gap).

usage: test_pause.py ORDOD [FACTOR ...]   (default factors 1 3 10)"""
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, delivery_errors, log, log_deliveries, main_test, ms  # noqa: E402

SIZE = 256
RATE = 1000
STEADY_S = 1.0   # deliveries flowing before and after each pause
SLACK_S = 1.0    # this shared VM's scheduling, on top of the protocol's bounds
# /ordo/delivery's per-origin fields, logged at the end
BY_ORIGIN = ('origin_delivered', 'origin_gaps_by_node', 'load_sent')


def together(c, configs, errors, what):
    """Every regular configuration of nodes 1 and 2 lists both, and is primary."""
    for i in (1, 2):
        for rep, seq, members, primary in configs[i]:
            if 1 not in members or 2 not in members:
                errors.append(f'{what}: n{i} installed {rep}:{seq} members {members}, which '
                              'separates nodes 1 and 2')
            elif not primary:
                errors.append(f'{what}: n{i} installed {rep}:{seq} members {members} as not primary')


def test(ordod, args):
    factors = [float(a) for a in args] or [1, 3, 10]
    with Cluster(ordod, nodes=3, paths=2) as c:
        loss_s = c.ring_us('token_loss_us') / 1e6
        settle_s = (c.ring_us('token_loss_us') + 2 * c.ring_us('consensus_us')
                    + c.ring_us('merge_us')) / 1e6 + SLACK_S
        run_s = sum(f * loss_s + settle_s + 2 * STEADY_S for f in factors) + 5
        count = int(RATE * run_s)
        c.set_load({'size': SIZE, 'rate': RATE, 'count': count})
        c.start_all()
        c.wait_ring([1, 2, 3], timeout=60)
        c.wait_flowing((1, 2, 3), 0)
        base = {i: len(c.regular_configs(i)) for i in (1, 2)}
        errors = []
        report = []
        for f in factors:
            time.sleep(STEADY_S)
            before = {i: len(c.regular_configs(i)) for i in (1, 2)}
            for i in (1, 2):
                c.delivery_reset(i)
            pid = c.nodes[3].proc.pid
            pause_s = f * loss_s
            t0 = time.monotonic()
            os.kill(pid, signal.SIGSTOP)
            time.sleep(pause_s)
            os.kill(pid, signal.SIGCONT)
            stopped = time.monotonic() - t0
            time.sleep(settle_s)
            c.wait_ring([1, 2, 3], timeout=60, what=f'one ring [1,2,3] after the {f:g}x pause')
            base3 = c.delivery(3)['delivered']
            c.wait_until(lambda: c.delivery(3)['delivered'] > base3, 30,
                         f'n3 delivering again after the {f:g}x pause')
            time.sleep(STEADY_S)
            configs = {i: c.regular_configs(i)[before[i]:] for i in (1, 2)}
            gaps = {i: c.delivery(i)['max_gap_ns'] / 1e6 for i in (1, 2)}
            together(c, configs, errors, f'{f:g}x pause')
            line = (f'pause {f:g} x token loss ({ms(stopped)} stopped): ' + '; '.join(
                f'n{i} installed {len(configs[i])} configuration(s) '
                f'{[m for _, _, m, _ in configs[i]]}, longest delivery gap {gaps[i]:.1f} ms'
                for i in (1, 2)))
            log(line)
            report.append(line)
        d = c.wait_quiet([1, 2], stable_s=1.5, timeout=120)
        d3 = c.delivery(3)
        all_configs = {i: c.regular_configs(i)[base[i]:] for i in (1, 2)}
        together(c, all_configs, errors, 'the whole run')
        errors += delivery_errors(d, (1, 2), 3 * count, BY_ORIGIN)  # every message of every node
        log_deliveries({3: d3}, (3,), BY_ORIGIN)
        for line in report:
            print(f'RESULT {line}', flush=True)
        print(f'RESULT digests: n1 {d[1]["digest"]} n2 {d[2]["digest"]} (n3 {d3["digest"]}), '
              f'delivered n1 {d[1]["delivered"]} n2 {d[2]["delivered"]} of '
              f'{3 * count}', flush=True)
        c.finish(errors)


if __name__ == '__main__':
    main_test(test, usage='ORDOD [FACTOR ...]')
