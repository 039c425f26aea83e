#!/usr/bin/env python3
"""group-sync: the group-state exchange after a merge (docs/attach.md §5)
when a node's SYNC is larger than one message. Two nodes, one path,
[ring] max_message_size 2048: node 1 starts alone and an ordo-sub there joins
GROUPS groups (a SYNC of GROUPS entries of 16 bytes, well over 2 KiB); then
node 2 starts, the two form a ring, and each node publishes its SYNC.
ordo-sub at node 2 then joins group S, one of node 1's groups: its view of S
must show node 1's member and itself, and node 1's subscriber must see it
join.

Regression (issue 14): a SYNC went as one message; one larger than
max_message_size was refused by ring-proto (counted as a lost group op),
the exchange never finished, and every group operation after it waited
for the next configuration change: node 2's join of S never got a view,
anywhere. The SYNC now goes in pieces, each within max_message_size.

    test_group_sync.py ORDOD
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, NotYet, log, main_test  # noqa: E402

GROUPS = 400
VIEW_RE = re.compile(r'^view group (\S+) ring (\d+):(\d+)( \(transitional\))? members((?: \d+/\d+)*)')


def members_of(cl, group):
    """The members of the last view of group cl printed (None: no view)."""
    last = None
    for line in cl.lines():
        m = VIEW_RE.match(line)
        if m and m.group(1) == group:
            last = m.group(5).split()
    return last


def test(ordod, args):
    sub = os.path.join(os.path.dirname(os.path.abspath(ordod)), 'ordo-sub')
    groups = [f'grp-{k:04d}' for k in range(GROUPS)]
    # node 1 runs alone first, in a non-primary ring: its subscriber's
    # joins are taken there only with quorum_publish = no (the default,
    # yes, holds group operations until a primary configuration)
    with Cluster(ordod, nodes=2, paths=1, ring={'max_message_size': 2048, 'quorum_publish': 'no'}) as c:
        c.start(1)
        c.wait_ring([1], nodes=[1], timeout=60)
        s1 = c.client(1, sub, *groups)

        def joined_all():
            n = sum(1 for g in groups if members_of(s1, g))
            return True if n == GROUPS else NotYet(f'{n} of {GROUPS} joins have their view at n1')

        c.wait_until(joined_all, 60, f'n1\'s subscriber in {GROUPS} groups')
        c.start(2)
        c.wait_ring([1, 2], timeout=60)
        s2 = c.client(2, sub, groups[7])

        def merged():
            m2, m1 = members_of(s2, groups[7]), members_of(s1, groups[7])
            if m2 is None or len(m2) != 2 or m1 is None or len(m1) != 2:
                return NotYet(f'view of {groups[7]} at n2: {m2}, at n1: {m1}')
            return m2

        try:
            m, dt = c.wait_until(merged, 20, f'n2\'s join of {groups[7]} in both nodes\' views')
        except Fail as e:
            stats = {i: c.stats(i) for i in c.nodes}
            lost = {i: stats[i].get('group_ops_lost') for i in c.nodes}
            raise Fail(f'{e} (group_ops_lost: {lost}: a SYNC of {GROUPS} entries over '
                       'max_message_size 2048 could not be ordered, and the exchange never finished)')
        log(f'after the merge n2 joined {groups[7]} and both nodes show members {" ".join(m)} '
            f'({dt * 1e3:.0f} ms)')
        stats = {i: c.stats(i) for i in c.nodes}
        lost = {i: stats[i].get('group_ops_lost') for i in c.nodes}
        if any(lost.values()):
            raise Fail(f'group ops lost: {lost}')
        # every group of n1 is still n1's at n2: one more join at n2 anywhere
        s3 = c.client(2, sub, groups[-1])
        c.wait_until(lambda: len(members_of(s3, groups[-1]) or []) == 2, 20,
                     f'n2\'s view of {groups[-1]} with n1\'s member')
        c.stop_clients()
        c.stop_all()


if __name__ == '__main__':
    main_test(test)
