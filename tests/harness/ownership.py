#!/usr/bin/env python3
"""ownership.py — what a harness owns on this machine, and how it is always
given back: the processes it started, the topology it brought up
(scripts/topology), its temp dir and the runtime files its processes leave.

One owner at a time. The owner file /run/ordo-harness.json says who owns the
topology now up: the harness's PID and kernel start time (a PID alone may be
reused), the topology's stamp, and everything to undo, kept current while it
runs (each child as a (pid, start time) pair). Every user of the topology
(the integration tests through cluster.py, scripts/demo, scripts/bench-compare
for ordo and for corosync) goes through Owned, so that:
  - only PIDs the owner started are ever signalled, never a name;
  - a topology left by a dead owner is recognised by its owner file and
    removed at the next start; one no harness made (someone's own cluster)
    is never touched: the harness fails instead;
  - on SIGTERM or SIGHUP (meson's timeout: SIGTERM to the process group,
    SIGKILL 0.5 s later) the cleanup is handed to a detached process
    (`ownership.py cleanup --owner-pid PID`) so that it is not cut short;
  - children get PR_SET_PDEATHSIG (spawn), so even a SIGKILLed owner leaves
    no process behind.

Command line (scripts/demo and manual use):
    ownership.py cleanup      remove what a dead harness left
    ownership.py status       who owns the topology, if anyone

Python 3 standard library only. Needs root (namespaces).
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from runner import Fail, log, ms, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOPOLOGY = os.path.join(ROOT, 'scripts', 'topology')
TOPO_STATE = '/run/ordo-topology'
# Written before `topology up`, removed after `topology down`: says which
# harness process owns the topology (outside TOPO_STATE, which the topology
# script owns and `down` removes).
OWNER_FILE = '/run/ordo-harness.json'


# ---------------------------------------------------------------- processes

def proc_starttime(pid):
    """The kernel's start time of pid (to recognise a PID after reuse), or None."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(')') + 2:].split()
    state = fields[0]
    if state in ('Z', 'X'):
        return None  # a zombie: dead already
    return int(fields[19])


def proc_alive(pid, starttime):
    return starttime is not None and proc_starttime(pid) == starttime


_libc = None


def set_pdeathsig():
    # In the child between fork and exec: die with the harness. `ip netns
    # exec` (and unshare, sh -c exec) exec the program in the same process,
    # and the setting survives execve, so the program itself gets it.
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, stdout, stderr=subprocess.STDOUT):
    """Starts argv in a session of its own that dies with the harness
    (PR_SET_PDEATHSIG); returns the Popen and the child's kernel start time
    (None if it exited at once), which is what the owner file records."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            start_new_session=True, preexec_fn=set_pdeathsig, close_fds=True)
    starttime = None
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        starttime = proc_starttime(proc.pid)
        if starttime is not None or proc.poll() is not None:
            break
        time.sleep(0.001)
    return proc, starttime


def stop_procs(procs, sig=signal.SIGTERM, timeout=5.0, say=log):
    """Signals each of procs (name -> Popen) still running, waits timeout s
    for them together, SIGKILLs (and says so) the rest; reaps them all."""
    live = {name: p for name, p in procs.items() if p.poll() is None}
    for p in live.values():
        try:
            p.send_signal(sig)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    for name, p in live.items():
        try:
            p.wait(max(0.05, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            if say:
                say(f'{name} (pid {p.pid}) still running {timeout:.0f} s after signal {sig}: SIGKILL')
            p.kill()
            p.wait()


def kill_children(children, say=log, term_wait_s=3.0):
    """SIGTERM, then SIGKILL, only to the listed (pid, starttime) pairs still
    alive (children of a dead owner: no Popen to wait on)."""
    live = [(p, s) for p, s in children if proc_alive(p, s)]
    for p, _ in live:
        try:
            os.kill(p, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + term_wait_s
    while live and time.monotonic() < deadline:
        time.sleep(0.05)
        live = [(p, s) for p, s in live if proc_alive(p, s)]
    for p, _ in live:
        say(f'pid {p} ignored SIGTERM for {term_wait_s:.0f} s: SIGKILL')
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def remove_stale_socket(path):
    """Removes a Unix socket a killed process left (ordod unlinks its own
    control socket on a clean stop); one something still listens on is left
    alone."""
    if not os.path.exists(path):
        return
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(1.0)
        s.connect(path)
        return  # alive
    except OSError:
        pass
    finally:
        s.close()
    try:
        os.unlink(path)
    except OSError:
        pass


# ---------------------------------------------------------------- topology

def topology(*args, check=True, quiet=False):
    return run([TOPOLOGY] + [str(a) for a in args], check=check, quiet=quiet)


def ordo_namespaces():
    r = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith('ordo-')]


def topology_stamp():
    try:
        st = os.stat(os.path.join(TOPO_STATE, 'nodes'))
    except OSError:
        return None
    return [st.st_ino, st.st_mtime_ns]


def topology_present():
    return os.path.exists(os.path.join(TOPO_STATE, 'nodes')) or bool(ordo_namespaces())


def busy_reason():
    """Why the machine is not free for a cluster (a topology or an owner
    file is there), or None."""
    ns = ordo_namespaces()
    if ns:
        return 'namespaces ' + ' '.join(ns)
    if os.path.exists(os.path.join(TOPO_STATE, 'nodes')):
        return TOPO_STATE
    if os.path.exists(OWNER_FILE):
        return OWNER_FILE
    return None


# ---------------------------------------------------------------- the owner file

def read_owner():
    try:
        with open(OWNER_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_owner(owner):
    tmp = OWNER_FILE + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(owner, f)
    os.replace(tmp, OWNER_FILE)


def owner_is_ours(owner):
    """Whether the topology now up is the one the (dead) owner made."""
    stamp = topology_stamp()
    if owner.get('topology_stamp') is not None:
        return stamp == owner['topology_stamp']
    # The owner died between `topology up` and recording its stamp: accept a
    # topology made within a few seconds after the owner file.
    if stamp is None:
        return not ordo_namespaces() or owner.get('topology_starting', False)
    return 0 <= stamp[1] - owner.get('created_ns', 0) < 30 * 10**9


def cleanup_owned(owner, wait_owner_s=0.0, say=log):
    """Undo everything an owner record lists: its children, its topology, its
    runtime dirs and sockets, its temp dir, the owner file. Idempotent."""
    opid = owner.get('pid')
    ostart = owner.get('starttime')
    deadline = time.monotonic() + wait_owner_s
    while opid and proc_alive(opid, ostart) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_children(owner.get('children', []), say=say)
    if owner.get('topology_stamp') is not None or owner.get('topology_starting'):
        if topology_present() and owner_is_ours(owner):
            topology('down', check=False, quiet=True)
            say('topology down')
    for d in owner.get('dirs', []):
        shutil.rmtree(d, ignore_errors=True)
    for s in owner.get('sockets', []):
        remove_stale_socket(s)
    tmpdir = owner.get('tmpdir')
    if tmpdir and not owner.get('keep_tmp') and os.path.basename(tmpdir).startswith('ordo-'):
        shutil.rmtree(tmpdir, ignore_errors=True)
    cur = read_owner()
    if cur is not None and cur.get('pid') == opid and cur.get('created_ns') == owner.get('created_ns'):
        try:
            os.unlink(OWNER_FILE)
        except OSError:
            pass


def cleanup_stale(say=log):
    """At start: if a topology is up, remove it only when a dead harness made it."""
    owner = read_owner()
    if not topology_present():
        if owner is not None and not proc_alive(owner.get('pid', 0), owner.get('starttime')):
            cleanup_owned(owner, say=say)  # leftovers without a topology (tmp dirs)
        return
    if owner is None or not owner_is_ours(owner):
        raise Fail('a topology is up (namespaces: %s) that no harness made: someone else\'s '
                   'cluster may be running. Not touching it; when it is stale, remove it with '
                   '`scripts/topology down`.' % (' '.join(ordo_namespaces()) or TOPO_STATE))
    if proc_alive(owner.get('pid', 0), owner.get('starttime')):
        raise Fail(f'another harness (pid {owner["pid"]}, {owner.get("what", "?")}) is running '
                   'on the topology; run one cluster at a time')
    say(f'removing the topology a dead harness left (pid {owner.get("pid")}, '
        f'{owner.get("what", "?")})')
    cleanup_owned(owner, say=say)
    if topology_present():
        raise Fail('could not remove the stale topology')


# ---------------------------------------------------------------- an owner

class Owned:
    """This process's ownership of the topology: open() brings it up (after
    removing what a dead owner left) with a temp dir and the owner file;
    record() keeps the file's list of children current; close() gives
    everything back. up: the `scripts/topology` arguments that bring it up.
    dirs, sockets: runtime files the children may leave behind (removed at
    close). on_signal(signum): called first when a signal ends the owner
    (a last look at the logs)."""

    def __init__(self, what, up, dirs=(), sockets=(), keep_tmp=False, on_signal=None):
        self.what = what
        self.up = [str(a) for a in up]
        self.dirs = list(dirs)
        self.sockets = list(sockets)
        self.keep_tmp = keep_tmp
        self.on_signal = on_signal
        self.tmp = None
        self.owner = None
        self._old_handlers = {}

    def open(self):
        cleanup_stale()
        self._install_signals()
        self.tmp = tempfile.mkdtemp(prefix='ordo-it-')
        os.chmod(self.tmp, 0o755)
        self.owner = {
            'what': self.what, 'pid': os.getpid(), 'starttime': proc_starttime(os.getpid()),
            'created_ns': time.time_ns(), 'tmpdir': self.tmp, 'keep_tmp': self.keep_tmp,
            'dirs': self.dirs, 'sockets': self.sockets, 'children': [],
            'topology_starting': True, 'topology_stamp': None,
        }
        write_owner(self.owner)
        log(f'topology {" ".join(self.up)} (tmp {self.tmp})')
        t = time.monotonic()
        topology(*self.up)
        self.owner['topology_stamp'] = topology_stamp()
        self.owner['topology_starting'] = False
        write_owner(self.owner)
        log(f'topology up in {ms(time.monotonic() - t)}')
        return self.tmp

    def record(self, children):
        """children: the (pid, kernel start time) of every live child now."""
        if self.owner is None:
            return
        self.owner['children'] = [[p, s] for p, s in children if s is not None]
        write_owner(self.owner)

    def close(self, keep_tmp=False):
        """After the owner stopped its children: the rest (idempotent)."""
        if self.owner is not None:
            self.owner['keep_tmp'] = self.keep_tmp or keep_tmp
            cleanup_owned(self.owner)
            if self.keep_tmp:
                log(f'kept {self.tmp}')
            self.owner = None
        self._restore_signals()

    def _install_signals(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)

    def _restore_signals(self):
        for sig, h in self._old_handlers.items():
            try:
                signal.signal(sig, h)
            except (ValueError, TypeError):
                pass
        self._old_handlers = {}

    def _on_signal(self, signum, frame):
        # Hand the cleanup to a detached process and leave at once.
        try:
            log(f'FAIL: got signal {signum} (a timeout?): cleanup handed to a detached process')
            if self.on_signal is not None:
                self.on_signal(signum)
        except Exception:
            pass
        try:
            if self.owner is not None:
                write_owner(self.owner)
                subprocess.Popen([sys.executable, os.path.abspath(__file__), 'cleanup',
                                  '--owner-pid', str(os.getpid())],
                                 start_new_session=True, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os._exit(128 + signum)


def _main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        sys.exit(2)
    if args[0] == 'cleanup':
        # run by Owned._on_signal (detached) or by hand
        owner = read_owner()
        if owner is None:
            if topology_present():
                print('a topology is up but no harness owns it: not touching it')
                sys.exit(1)
            sys.exit(0)
        opid = int(args[2]) if len(args) > 2 and args[1] == '--owner-pid' else None
        if opid is None and proc_alive(owner.get('pid', 0), owner.get('starttime')):
            print(f'harness pid {owner["pid"]} is alive: not touching its cluster')
            sys.exit(1)
        if opid is not None and opid != owner.get('pid'):
            sys.exit(1)
        if owner.get('topology_stamp') is not None and topology_present() and not owner_is_ours(owner):
            print('the topology up is not the one the harness made: not touching it')
            sys.exit(1)
        cleanup_owned(owner, wait_owner_s=3.0 if opid else 0.0, say=print)
        sys.exit(0)
    if args[0] == 'status':
        print(json.dumps(read_owner(), indent=1), 'topology present:', topology_present())
        sys.exit(0)
    print(__doc__)
    sys.exit(2)


if __name__ == '__main__':
    _main()
