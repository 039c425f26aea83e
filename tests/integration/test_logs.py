#!/usr/bin/env python3
"""logs: what ordod's log says about a ring's life (docs/ordod.md "Logs").

3 nodes, 2 paths, active mode, a light load. Checks, reading each node's
log (stderr):
  - every line starts with an ISO-8601 UTC time, `ordod`, the node `n<id>`
    and a severity; DPDK's start-up chatter ("No legacy callbacks") is not
    there at log_level info;
  - node 1's link on path 0 is cut: node 1 logs the path faulty naming the
    peers whose copies are missing (2 and 3), and nodes 2 and 3 each log
    that node 1 marked path 0 faulty; after the restore each says it works
    again;
  - node 3 is killed (SIGKILL): nodes 1 and 2 log a configuration that lost
    node 3, with the cause; node 2 then stops cleanly (SIGTERM): node 1
    logs that node 2 left (announced), and the quorum loss;
  - each stopped node's summary separates harmful drops from harmless ones
    and the harmful count is 0 (the harmless ones are active mode's second
    copies: non-zero on any ring with two paths).

usage: test_logs.py ORDOD"""
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'harness'))
from cluster import Cluster, Fail, log, main_test, node_lines, wait_line  # noqa: E402

NODES = [1, 2, 3]
LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ordod n(\d+) '
                  r'(emerg|alert|crit|error|warning|notice|info|debug): ')


def test(ordod, args):
    with Cluster(ordod, nodes=3, paths=2, ring={'rrp_mode': 'active'},
                 load={'size': 256, 'rate': 500}) as c:
        c.start_all()
        c.wait_ring(NODES, timeout=60)
        time.sleep(0.5)
        for i in NODES:
            for ln in node_lines(c, i):
                m = LINE.match(ln)
                if not m or int(m.group(1)) != i:
                    raise Fail(f'n{i}: a log line without time, ordod, n{i} and severity: {ln!r}')
                if 'No legacy callbacks' in ln:
                    raise Fail(f'n{i}: DPDK start-up chatter at log_level info: {ln!r}')
        log('every line: time, ordod, node, severity; no DPDK chatter')
        wait_line(c, 1, r'regular configuration \S+ members 1,2,3 primary', 5, 'the ring of 1,2,3')

        c.topo('cut', 1, 0)
        wait_line(c, 1, r'warning: path 0 faulty here: copies missing from node\(s\) 2,3', 10,
                  'path 0 faulty, naming 2 and 3')
        for i in (2, 3):
            wait_line(c, i, r'warning: path 0 to node 1: node 1 marked it faulty', 10,
                      'that node 1 marked path 0 faulty')
        c.topo('restore', 1, 0)
        wait_line(c, 1, r'notice: path 0 ok: back in use here', 15, 'path 0 back in use (a notice)')
        for i in (2, 3):
            wait_line(c, i, r'path 0 to node 1: working again', 15, 'path 0 to node 1 working again')

        c.kill(3, signal.SIGKILL)
        for i in (1, 2):
            wait_line(c, i, r'regular configuration \S+ members 1,2 primary.*; lost 3 \(not heard.*cause: ',
                      10, 'node 3 lost')
        c.stop(2)
        wait_line(c, 1, r'regular configuration \S+ members 1 NOT primary.*; left 2 \(announced\).*'
                  r'cause: node 2 announced its leave', 10, 'node 2 left, announced')
        wait_line(c, 1, r'warning: quorum lost: 1 of 3 configured nodes', 5, 'the quorum loss')
        c.stop(1)
        for i in NODES:
            if i == 3:
                continue  # killed: no summary
            line = wait_line(c, i, r'stopped in state .*drops: \d+ harmful', 5, 'its summary')
            m = re.search(r'drops: (\d+) harmful.*; (\d+) harmless \(([^)]*)\)', line)
            if not m:
                raise Fail(f'n{i}: the summary does not separate harmful and harmless drops: {line!r}')
            if int(m.group(1)) != 0:
                raise Fail(f'n{i}: {m.group(1)} harmful drops on a clean ring: {line!r}')
            if 'duplicate' not in m.group(3):
                raise Fail(f'n{i}: active mode\'s second copies are not counted harmless: {line!r}')


if __name__ == '__main__':
    main_test(test)
