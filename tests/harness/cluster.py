#!/usr/bin/env python3
"""cluster.py — runs real ordod processes on the local topology.

The integration tests (tests/integration/test_*.py), scripts/demo (through
scripts/demo_cluster.py, the demo's story) and scripts/bench-compare use it:

    with Cluster(ordod, nodes=3, paths=2, load={'size': 1024, 'count': 20000}) as c:
        c.start_all()
        c.wait_ring([1, 2, 3])
        print(c.delivery(1)['digest'])

What it does (docs/ordod.md is the daemon's interface, scripts/topology the
network's):
  - the topology and everything else the cluster owns through ownership.py
    (`scripts/topology up N P 9000` under the owner file, one temp dir;
    teardown always, only by the PIDs it started: clients first, then the
    daemons; a SIGTERM hands the cleanup to a detached process);
  - one config file per node in the temp dir (state_dir inside it,
    file_prefix <prefix><i>, lcores 0@(0-1), idle adaptive, profile shared,
    af_packet devices on p0..pP-1), each node as
    `ip netns exec ordo-n<i> <ordod> -c <conf>`, its stdout and stderr in
    <tmp>/n<i>.log;
  - each node's telemetry through telemetry.py;
  - wait_until(predicate, timeout) polling every 20 ms, and helpers built on
    it (one ring of given members, quiescent delivery);
  - client processes (ordo-sub, ordo-pub, ordo-kv, ...: Cluster.client) in
    the root namespace, attached to a node through its control socket (a
    path, /run/ordo/<file_prefix>.sock: Unix sockets are filesystem objects,
    reachable from any namespace); their stdout and stderr in
    <tmp>/c-<name>.out and .err, read back with Client.lines().

Python 3 standard library only. Needs root (namespaces, raw sockets).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

from ownership import Owned, spawn, stop_procs, topology
# the test runner's names, for the tests' one import line
from runner import EXIT_SKIP, Fail, NotYet, Skip, log, main_test, ms  # noqa: F401
from telemetry import Telemetry, TelemetryError, flat_counts, runtime_dir

CONTROL_RUN = '/run/ordo'   # ordod's default control sockets: <file_prefix>.sock
POLL_S = 0.02

# ordod's log line for a regular configuration (engine/eng_worker.c)
REGULAR_RE = re.compile(r'regular configuration (\d+):(\d+) members ([\d,]+) (primary|NOT primary)')


def log_deliveries(d, nodes, fields=(), more=None):
    """Logs each node's /ordo/delivery (d: node -> its reply): delivered,
    digest, origin_gaps, then the named fields, then more(i) if given."""
    for i in nodes:
        extra = ''.join(f' {k} {d[i].get(k)}' for k in fields)
        log(f'n{i}: delivered {d[i]["delivered"]} digest {d[i]["digest"]} origin_gaps '
            f'{d[i]["origin_gaps"]}{extra}' + (f'; {more(i)}' if more else ''))


def delivery_errors(d, nodes, expected, fields=(), more=None, gaps=True):
    """The end of a load run (d: wait_quiet's deliveries): logs each node's
    count and digest (log_deliveries); returns what is wrong: a count other
    than expected (None: any), a gap per origin (gaps), digests that differ."""
    log_deliveries(d, nodes, fields, more)
    errors = []
    for i in nodes:
        if expected is not None and d[i]['delivered'] != expected:
            errors.append(f'n{i} delivered {d[i]["delivered"]}, expected {expected}')
        if gaps and d[i]['origin_gaps'] != 0:
            errors.append(f'n{i} origin_gaps {d[i]["origin_gaps"]} (expected 0)')
    if len({d[i]['digest'] for i in nodes}) != 1:
        errors.append('digests differ: ' + ', '.join(f'n{i} {d[i]["digest"]}' for i in nodes))
    return errors


def ring_key(s):
    """What a configuration change alters in a node's /ordo/node reply:
    (ring_rep, ring_seq, configs_regular)."""
    return (s['ring_rep'], s['ring_seq'], s['configs_regular'])


# ---------------------------------------------------------------- cluster

def device(k):
    return f'net_af_packet{k},iface=p{k},framesz=16384,blocksz=16384,framecnt=512'


def ini(sections):
    lines = []
    for name, kv in sections.items():
        lines.append(f'[{name}]')
        for k, v in kv.items():
            if v is None:
                continue
            lines.append(f'{k} = {v}')
        lines.append('')
    return '\n'.join(lines)


class Node:
    def __init__(self, i):
        self.id = i
        self.proc = None
        self.starttime = None
        self.tel = None
        self.killed = False   # killed on purpose: its exit is expected
        self.exits = []       # exit codes of earlier runs
        self.conf_path = None
        self.log_path = None


class Client:
    """A client process (ordo-sub, ordo-pub, ordo-kv...) attached to node
    `node` through its control socket. Runs in the root namespace in a
    session of its own, with PR_SET_PDEATHSIG (it dies with the harness);
    stdout and stderr go to files in the cluster's temp dir, read back
    incrementally (no threads: preexec_fn stays safe)."""

    def __init__(self, cluster, node, argv, name):
        self.cluster = cluster
        self.node = node
        self.argv = [str(a) for a in argv]
        self.name = name
        self.out_path = os.path.join(cluster.tmp, f'c-{name}.out')
        self.err_path = os.path.join(cluster.tmp, f'c-{name}.err')
        self._lines = []
        self._partial = b''
        self._off = 0
        with open(self.out_path, 'wb') as out, open(self.err_path, 'wb') as err:
            self.proc, self.starttime = spawn(self.argv, out, err)
        self.t_start = time.monotonic()
        self.t_exit = None

    def __repr__(self):
        return f'{self.name} (n{self.node}, pid {self.proc.pid})'

    def poll(self):
        """The exit status, or None while it runs (notes when it exited)."""
        rc = self.proc.poll()
        if rc is not None and self.t_exit is None:
            self.t_exit = time.monotonic()
        return rc

    def running(self):
        return self.poll() is None

    def lines(self):
        """Every complete stdout line so far (read incrementally)."""
        try:
            with open(self.out_path, 'rb') as f:
                f.seek(self._off)
                data = f.read()
        except OSError:
            return list(self._lines)
        if data:
            self._off += len(data)
            data = self._partial + data
            parts = data.split(b'\n')
            self._partial = parts.pop()
            self._lines.extend(p.decode(errors='replace') for p in parts)
        return list(self._lines)

    def err(self):
        try:
            with open(self.err_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def wait(self, timeout, what=None):
        """Until it exits: returns its exit status; fails after timeout s."""
        def exited():
            return self.poll() is not None
        try:
            self.cluster.wait_until(exited, timeout, what or f'{self} to exit')
        except Fail as e:
            raise Fail(f'{e}; stderr: {self.err().strip()[-500:]!r}') from None
        return self.proc.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            try:
                self.proc.send_signal(sig)
            except OSError:
                pass

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signals it and waits; SIGKILL after timeout s. Returns the exit status."""
        stop_procs({str(self): self.proc}, sig, timeout)
        self.poll()
        return self.proc.returncode


class Cluster:
    """N ordod processes on the topology. Use as a context manager."""

    def __init__(self, ordod, nodes=3, paths=2, mtu=9000, prefix='ordo-it-n', what=None,
                 ring=None, load=None, node_conf=None, sections=None, keep_tmp=False,
                 routed=None, nets=None):
        self.ordod = os.path.abspath(ordod)
        self.n = nodes
        self.paths = paths
        self.mtu = mtu
        self.prefix = prefix
        self.what = what or os.path.basename(sys.argv[0])
        self.ring = dict(ring or {})
        self.load = dict(load or {})
        self.node_conf = node_conf or {}
        self.sections = sections or {}
        # `scripts/topology up-routed` with these path kinds ('routed,routed',
        # 'l2,routed'); None: the bridged `up`
        self.routed = routed
        # networks that reach only some nodes (docs/protocol.md §17): the
        # node ids on each path, `scripts/topology up-partial`; None: all
        self.nets = [sorted(n) for n in nets] if nets else None
        if self.nets is not None:
            self.paths = len(self.nets)
        self.keep_tmp = keep_tmp or bool(os.environ.get('ORDO_IT_KEEP'))
        self.nodes = {i: Node(i) for i in range(1, nodes + 1)}
        self.clients = []     # Client processes, in start order
        self.tmp = None
        self.own = None       # ownership.Owned while up
        self.closed = False
        self.failed = False

    # -- lifecycle

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and exc_type is not Skip:
            self.failed = True
            if exc_type is not KeyboardInterrupt:
                self.dump_clients()
                self.dump_logs()
        self.close()
        return False

    def up(self):
        if os.geteuid() != 0:
            raise Skip('needs root (network namespaces)')
        if not os.access(self.ordod, os.X_OK):
            raise Skip(f'no ordod binary at {self.ordod}')
        up = ['up-routed', self.n, self.paths, self.mtu, self.routed] if self.routed else \
            ['up-partial', self.n, '/'.join(','.join(str(i) for i in n) for n in self.nets), self.mtu] \
            if self.nets else ['up', self.n, self.paths, self.mtu]
        prefixes = [f'{self.prefix}{i}' for i in self.nodes]
        self.own = Owned(self.what, up, keep_tmp=self.keep_tmp, on_signal=self._on_signal,
                         dirs=[runtime_dir(p) for p in prefixes],
                         sockets=[os.path.join(CONTROL_RUN, f'{p}.sock') for p in prefixes])
        self.tmp = self.own.open()
        for i, node in self.nodes.items():
            os.makedirs(os.path.join(self.tmp, f'n{i}', 'state'), exist_ok=True)
            node.conf_path = os.path.join(self.tmp, f'n{i}.conf')
            node.log_path = os.path.join(self.tmp, f'n{i}.log')
            self.write_config(i)

    def _on_signal(self, signum):
        # the owner's last look before it hands the cleanup over and exits
        self._record_children()
        self.dump_logs(lines=15)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for node in self.nodes.values():
            if node.tel:
                node.tel.close()
        if self.own is None:
            return
        # client processes first (they detach while their node still runs),
        # then the daemons: SIGTERM, wait, SIGKILL; reaped
        self.stop_clients(quiet=True)
        stop_procs({f'n{i}': node.proc for i, node in self.nodes.items() if node.proc})
        self._record_children()
        self.own.close()

    def _record_children(self):
        if self.own is None:
            return
        kids = [(node.proc.pid, node.starttime) for node in self.nodes.values()
                if node.proc and node.proc.poll() is None]
        kids += [(cl.proc.pid, cl.starttime) for cl in self.clients if cl.poll() is None]
        self.own.record(kids)

    # -- configuration

    def config(self, i):
        conf = {
            'node': {'id': i, 'state_dir': os.path.join(self.tmp, f'n{i}', 'state'),
                     'idle': 'adaptive', 'log_level': 'info'},
            'eal': {'lcores': '0@(0-1)', 'file_prefix': f'{self.prefix}{i}'},
            'ring': {'id': 1, 'nodes': ','.join(str(k) for k in self.nodes),
                     'rrp_mode': 'active', 'quorum': 'majority', 'mtu': self.mtu,
                     'profile': 'shared'},
        }
        conf['ring'].update(self.ring)
        for k in range(self.paths):
            conf[f'path{k}'] = {'device': device(k)}
            if self.nets is not None:
                conf[f'path{k}'] = {'nodes': ','.join(str(n) for n in self.nets[k])}
                if i in self.nets[k]:
                    conf[f'path{k}']['device'] = device(k)
        if self.load:
            conf['load'] = dict(self.load)
        for name, kv in self.sections.items():
            conf.setdefault(name, {}).update(kv)
        for name, kv in self.node_conf.get(i, {}).items():
            conf.setdefault(name, {}).update(kv)
        return conf

    def write_config(self, i, conf=None):
        node = self.nodes[i]
        with open(node.conf_path, 'w') as f:
            f.write(ini(conf or self.config(i)))

    def set_load(self, load, nodes=None):
        """New [load] for the next start of these nodes (the daemon reads it at start)."""
        self.load = dict(load or {})
        for i in nodes or self.nodes:
            self.write_config(i)

    def effective_config(self, i=None):
        """Node i's configuration as ordod will use it (`ordod --check
        --json`: every key with its value, defaults and profile included)."""
        i = i if i is not None else next(iter(self.nodes))
        path = os.path.join(self.tmp, f'n{i}-check.conf')
        with open(path, 'w') as f:
            f.write(ini(self.config(i)))
        r = subprocess.run([self.ordod, '-c', path, '--check', '--json'], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise Fail(f'ordod --check --json on n{i}\'s configuration: exit {r.returncode}: '
                       f'{r.stderr.strip()}')
        return json.loads(r.stdout)

    def ring_us(self, key):
        """A [ring] duration in microseconds as the nodes use it."""
        return int(self.effective_config()['ring'][key])

    # -- processes

    def start(self, i):
        node = self.nodes[i]
        if node.proc is not None and node.proc.poll() is None:
            raise Fail(f'n{i} is running already')
        if node.tel:
            node.tel.close()
        node.tel = Telemetry(f'{self.prefix}{i}')
        node.killed = False
        with open(node.log_path, 'a') as lf:
            lf.write(f'=== harness: start {time.strftime("%H:%M:%S")} ===\n')
        lf = open(node.log_path, 'a')
        cmd = ['ip', 'netns', 'exec', f'ordo-n{i}', self.ordod, '-c', node.conf_path]
        node.proc, node.starttime = spawn(cmd, lf)
        lf.close()
        self._record_children()
        log(f'n{i} started: pid {node.proc.pid}')
        return node.proc.pid

    def start_all(self):
        for i in self.nodes:
            self.start(i)

    def kill(self, i, sig=signal.SIGKILL):
        """Signals node i; returns CLOCK_REALTIME ns right after the signal."""
        node = self.nodes[i]
        if node.proc is None or node.proc.poll() is not None:
            raise Fail(f'n{i} is not running (exit {node.proc and node.proc.returncode})')
        node.killed = True
        node.proc.send_signal(sig)
        t = time.time_ns()
        node.proc.wait(10)
        node.exits.append(node.proc.returncode)
        node.tel.close()
        self._record_children()
        log(f'n{i} killed with signal {sig}: exit {node.proc.returncode}')
        return t

    def stop(self, i, timeout=15):
        """SIGTERM (a clean stop): returns the exit status."""
        node = self.nodes[i]
        if node.proc is None:
            return None
        if node.proc.poll() is None:
            node.killed = True
            node.proc.send_signal(signal.SIGTERM)
            try:
                node.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
                raise Fail(f'n{i} did not stop within {timeout} s of SIGTERM (killed)')
            node.exits.append(node.proc.returncode)
        if node.tel:
            node.tel.close()
        self._record_children()
        return node.proc.returncode

    def stop_all(self, expect_clean=True):
        """Clean stop of every running node; fails unless each exits 0."""
        bad = []
        for i, node in self.nodes.items():
            if node.proc is None or node.proc.poll() is not None:
                continue
            node.proc.send_signal(signal.SIGTERM)
            node.killed = True
        for i, node in self.nodes.items():
            if node.proc is None:
                continue
            if node.proc.returncode is None:
                try:
                    node.proc.wait(15)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait()
                    bad.append(f'n{i} ignored SIGTERM for 15 s')
                    continue
                node.exits.append(node.proc.returncode)
                if node.proc.returncode != 0:
                    bad.append(f'n{i} exited {node.proc.returncode} after SIGTERM')
            if node.tel:
                node.tel.close()
        self._record_children()
        if bad and expect_clean:
            raise Fail('clean stop: ' + '; '.join(bad) + ' (docs/ordod.md: exit 0 after a clean stop)')
        log('all nodes stopped cleanly (exit 0)')

    def check_alive(self, nodes=None):
        for i in nodes or self.nodes:
            node = self.nodes[i]
            if node.proc is None or node.killed:
                continue
            rc = node.proc.poll()
            if rc is not None:
                raise Fail(f'n{i} (pid {node.proc.pid}) died unexpectedly: exit status {rc}'
                           f'{" (signal %d)" % -rc if rc < 0 else ""}; log tail:\n'
                           + self.log_tail(i, 20))

    def alive(self, i):
        node = self.nodes[i]
        return node.proc is not None and node.proc.poll() is None

    # -- client processes

    def socket_path(self, i):
        """Node i's control socket ([node] socket; default /run/ordo/<file_prefix>.sock)."""
        conf = self.config(i)
        path = conf['node'].get('socket')
        return path if path else os.path.join(CONTROL_RUN, f'{self.prefix}{i}.sock')

    def wait_socket(self, i, timeout=30):
        """Until node i's control socket exists."""
        import stat as _stat
        path = self.socket_path(i)

        def there():
            try:
                return _stat.S_ISSOCK(os.stat(path).st_mode)
            except OSError:
                return False
        self.wait_until(there, timeout, f'n{i} control socket {path}')
        return path

    def client(self, i, prog, *args, name=None):
        """Starts `prog -s <node i's socket> args...` (ordo-sub, ordo-pub,
        ordo-kv all take -s). Returns the Client."""
        if name is None:
            name = f'{os.path.basename(str(prog))}-n{i}-{len(self.clients) + 1}'
        cl = Client(self, i, [prog, '-s', self.socket_path(i)] + list(args), name)
        self.clients.append(cl)
        self._record_children()
        return cl

    def netns_process(self, i, argv, name):
        """Starts argv in node i's network namespace, not attached to the
        node (ordo-blast: bench/ordo_blast.c), owned and stopped as a
        client is. Returns the Client."""
        cl = Client(self, i, ['ip', 'netns', 'exec', f'ordo-n{i}'] + [str(a) for a in argv], name)
        self.clients.append(cl)
        self._record_children()
        return cl

    def stop_clients(self, clients=None, sig=signal.SIGTERM, timeout=3.0, quiet=False):
        """Signals every running client (or those given), waits timeout s
        for them together, SIGKILLs the rest. Returns the exit statuses."""
        clients = self.clients if clients is None else clients
        live = [cl for cl in clients if cl.poll() is None]
        stop_procs({str(cl): cl.proc for cl in live}, sig, timeout, say=None if quiet else log)
        for cl in live:
            cl.poll()
        if live:
            self._record_children()
        return {cl.name: cl.proc.returncode for cl in clients}

    # -- telemetry

    def tel(self, i, command):
        node = self.nodes[i]
        if node.tel is None:
            raise TelemetryError(f'n{i} not started')
        return node.tel.cmd(command)

    def node(self, i):
        return self.tel(i, '/ordo/node')

    def paths_info(self, i):
        return self.tel(i, '/ordo/paths')

    def stats(self, i):
        return self.tel(i, '/ordo/stats')

    def drops(self, i):
        # docs/ordod.md names the reasons bad-magic, l2-runt...; DPDK telemetry
        # allows only [A-Za-z0-9_/] in names, so ordod may send bad_magic.
        return {k.replace('_', '-'): v for k, v in flat_counts(self.tel(i, '/ordo/drops')).items()}

    def delivery(self, i):
        return self.tel(i, '/ordo/delivery')

    def delivery_reset(self, i):
        return self.tel(i, '/ordo/delivery_reset')

    def all(self, fn, nodes=None):
        return {i: fn(i) for i in (nodes or self.nodes)}

    # -- waiting

    def wait_until(self, predicate, timeout, what, nodes_alive=None):
        """Polls predicate every 20 ms until it returns a true value (returned,
        with the seconds waited). Telemetry errors count as 'not yet'. Fails on
        timeout, or at once when a node dies that nobody killed."""
        t = time.monotonic()
        last = None
        while True:
            self.check_alive(nodes_alive)
            try:
                v = predicate()
                if v:
                    return v, time.monotonic() - t
                last = v
            except TelemetryError as e:
                last = e
            if time.monotonic() - t > timeout:
                raise Fail(f'timeout after {timeout:.0f} s waiting for {what}; last: {last}')
            time.sleep(POLL_S)

    def ring_snapshot(self, nodes=None):
        return {i: self.node(i) for i in (nodes or self.nodes)}

    def wait_ring(self, members, nodes=None, timeout=60, primary=None, what=None):
        """Until every node in nodes (default: members) is operational in one
        ring whose regular configuration is members. Returns the snapshot."""
        members = sorted(members)
        nodes = nodes or members
        state = {}

        def pred():
            snap = self.ring_snapshot(nodes)
            state['last'] = {i: (s.get('state'), s.get('members'), s.get('ring_rep'),
                                 s.get('ring_seq'), s.get('primary')) for i, s in snap.items()}
            ids = {(s['ring_rep'], s['ring_seq']) for s in snap.values()}
            for s in snap.values():
                if s['state'] != 'operational' or sorted(s['members']) != members:
                    return False
                if primary is not None and int(s['primary']) != int(primary):
                    return False
            return snap if len(ids) == 1 else False

        try:
            snap, dt = self.wait_until(pred, timeout, what or f'one ring {members} at {nodes}')
        except Fail as e:
            if state.get('last') is None:
                raise
            raise Fail(f'{e}\n  per node (state, members, ring_rep, ring_seq, primary): '
                       f'{state["last"]}') from None
        s = next(iter(snap.values()))
        log(f'ring {members} at nodes {nodes}: rep {s["ring_rep"]} seq {s["ring_seq"]} '
            f'primary {s.get("primary")} (waited {ms(dt)})')
        return snap

    def wait_flowing(self, nodes, at_least, timeout=30):
        """Until every node in nodes has delivered more than at_least messages
        (the load is running everywhere)."""
        self.wait_until(lambda: all(self.delivery(i)['delivered'] > at_least for i in nodes), timeout,
                        'deliveries flowing at every node')

    def wait_quiet(self, nodes, stable_s=1.0, timeout=120, need_done=True, settle_s=10.0):
        """Until the nodes' delivered counts are equal, every load_done is set
        (need_done) and nothing changes for stable_s. Returns the deliveries.
        While it waits it knows why (a timeout says which node has what); counts
        that differ while every node is done and operational in one ring and
        nothing changed for settle_s will never converge: it fails then."""
        st = {'since': None, 'key': None}

        def pred():
            d = {i: self.delivery(i) for i in nodes}
            key = tuple((d[i]['delivered'], d[i]['digest']) for i in nodes)
            not_done = []
            if need_done:
                for i in self.nodes:
                    if self.alive(i):
                        di = d[i] if i in d else self.delivery(i)
                        if int(di.get('load_done', 0)) != 1:
                            not_done.append(i)
            counts = ', '.join(f'n{i} delivered {d[i]["delivered"]} digest {d[i]["digest"]}' for i in nodes)
            if key != st['key']:
                st['key'], st['since'] = key, time.monotonic()
                return NotYet(f'still changing: {counts}')
            quiet = time.monotonic() - st['since']
            if not_done:
                return NotYet('load_done 0 at ' + ', '.join(f'n{i}' for i in not_done) + f'; {counts}')
            if len({d[i]['delivered'] for i in nodes}) == 1:
                if quiet >= stable_s:
                    return d
                return NotYet(f'equal, quiet for {quiet:.1f} s of {stable_s} s: {counts}')
            rings = {}
            for i in nodes:
                n = self.node(i)
                rings[i] = (n['state'], n['ring_rep'], n['ring_seq'])
            where = ', '.join(f'n{i} {s} in ring {r}:{q}' for i, (s, r, q) in rings.items())
            one_ring = len(set(rings.values())) == 1 and next(iter(rings.values()))[0] == 'operational'
            if one_ring and quiet >= settle_s:
                raise Fail(f'deliveries at {nodes} differ and will not converge: nothing changed for '
                           f'{quiet:.1f} s with every node done and in one ring: {counts} ({where})')
            return NotYet(f'counts differ, quiet for {quiet:.1f} s: {counts} ({where})')

        d, dt = self.wait_until(pred, timeout, f'deliveries at {nodes} equal and quiet '
                                f'for {stable_s} s')
        return d

    def regular_configs(self, i):
        """Every regular configuration node i logged, oldest first, as
        (ring_rep, ring_seq, members, primary), across its restarts."""
        out = []
        try:
            with open(self.nodes[i].log_path, errors='replace') as f:
                for line in f:
                    m = REGULAR_RE.search(line)
                    if m:
                        out.append((int(m[1]), int(m[2]), sorted(int(x) for x in m[3].split(',')),
                                    m[4] == 'primary'))
        except (OSError, TypeError):
            pass
        return out

    def finish(self, errors=()):
        """A test's end: the drop counters logged, then Fail with every error
        it found, or else a clean stop of every node (each must exit 0)."""
        self.report_drops()
        if errors:
            raise Fail('; '.join(errors))
        self.stop_all()

    def report_drops(self, nodes=None):
        """Logs every non-zero drop counter of the running nodes."""
        for i in nodes or self.nodes:
            if not self.alive(i):
                continue
            try:
                d = self.drops(i)
            except TelemetryError as e:
                log(f'n{i} drops: {e}')
                continue
            log(f'n{i} drops: ' + (', '.join(f'{k} {v}' for k, v in sorted(d.items()) if v) or 'none'))

    # -- faults

    def topo(self, *args):
        log('topology ' + ' '.join(str(a) for a in args))
        return topology(*args)

    # -- diagnostics

    def log_tail(self, i, lines=30):
        try:
            with open(self.nodes[i].log_path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return '(no log)'

    def dump_clients(self, lines=10):
        for cl in self.clients:
            out = cl.lines()[-lines:]
            err = cl.err().splitlines()[-lines:]
            print(f'----- client {cl} {" ".join(cl.argv[1:])}: exit {cl.poll()} -----')
            for line in out:
                print(f'  out: {line}')
            for line in err:
                print(f'  err: {line}')
        sys.stdout.flush()

    def dump_logs(self, lines=30):
        for i in self.nodes:
            if self.nodes[i].log_path:
                print(f'----- n{i} log (last {lines} lines) -----')
                print(self.log_tail(i, lines), end='', flush=True)
        print('-----', flush=True)


# ---------------------------------------------------------------- node logs

def node_lines(c, i):
    """Node i's log (its stderr), without the harness's own lines."""
    with open(c.nodes[i].log_path, errors='replace') as f:
        return [ln.rstrip('\n') for ln in f if not ln.startswith('=== harness')]


def wait_line(c, i, pattern, timeout, what):
    """Until node i's log has a line matching pattern; logs and returns it."""
    rx = re.compile(pattern)

    def found():
        return next((ln for ln in node_lines(c, i) if rx.search(ln)), None)
    line, dt = c.wait_until(found, timeout, f'n{i} to log {what}')
    log(f'n{i} ({dt:.1f} s): {line[line.find(" ordod ") + 1:]}')
    return line
