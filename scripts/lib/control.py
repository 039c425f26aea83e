"""scripts/lib/control.py — `scripts/bench-compare --control`: control
messaging, ordo against corosync CPG on the same 3-node topology
(docs/performance.md §7, "Control messaging against CPG").

Per system (ordo with each [ring] profile's timeouts, corosync default and
tuned), with the roles of apps/perf_control.h (ordo-perf --control and
cpg-perf --control); one watcher per node, a member of the control group
that stays:
  join      a client on node 1 joins the control group and leaves it again,
            --control-cycles times: from the join call until every member
            (the three watchers and the joiner) has delivered the view with
            it; the same for the leave;
  churn     --control-churners clients per node, each joining and leaving a
            group of its own as fast as its views come back, for
            --control-duration s: the views delivered per second at each
            watcher (every watcher is a member of every churn group), the
            churners' joins+leaves per second, and whether every watcher
            delivered the same sequence of views (digests);
  leave     node 3's engine stopped cleanly (SIGTERM: ordod's polite leave,
            corosync's shutdown): from the signal until each survivor's
            watcher has the control group's view without node 3's watcher
            (ordo: the view callback; CPG: the confchg) and the ring
            configuration without node 3 (ordo: the configuration callback;
            CPG: totem's ring change, the totem_confchg callback of
            cpg_model_initialize); the slower survivor counts;
  crash     the same with SIGKILL.
Every time is CLOCK_MONOTONIC (Python's time.monotonic_ns), shared by the
processes of every network namespace on the host.

bench-compare passes its helpers in (`env`): log, CsCluster, wait_machine,
loadavg, cpu_busy_s, oc (tests/harness/cluster.py), ownership.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

SYSTEMS = ['ordo', 'ordo-dedicated', 'cs-default', 'cs-tuned']
LABEL = {'ordo': 'ordo shared', 'ordo-dedicated': 'ordo dedicated', 'cs-default': 'corosync default',
         'cs-tuned': 'corosync tuned'}
# ordo's [ring] profile per system; the idle strategy stays the harness's
# (adaptive): three spinning nodes on 2 cores collapse the ring
PROFILE = {'ordo': 'shared', 'ordo-dedicated': 'dedicated'}


def add_arguments(ap):
    ap.add_argument('--control', action='store_true',
                    help='control messaging instead of the message runs: join latency, joins+leaves '
                    'per second, clean leave and crash detection, ordo (each profile) against CPG '
                    '(scripts/lib/control.py)')
    ap.add_argument('--control-systems', default=','.join(SYSTEMS),
                    help=f'--control: subset of {",".join(SYSTEMS)} (default all)')
    ap.add_argument('--control-cycles', type=int, default=40, help='--control: join/leave cycles (default 40)')
    ap.add_argument('--control-churners', type=int, default=4,
                    help='--control: churning clients per node (default 4)')
    ap.add_argument('--control-duration', type=float, default=3.0,
                    help='--control: seconds of churn (default 3)')
    ap.add_argument('--control-events', type=int, default=2,
                    help='--control: clean leaves and crashes of node 3, each (default 2)')


def quantile(vals, q):
    """The ceil(q * n)-th smallest (as the perf tools' histograms)."""
    if not vals:
        return None
    s = sorted(vals)
    k = max(1, -(-round(q * len(s) * 1e6) // int(1e6)))
    return s[min(k, len(s)) - 1]


# ---------------------------------------------------------------- processes

class Proc:
    """A control client: its stdout lines, its JSON, signals by PID."""

    def __init__(self, popen, out_path, json_path, name):
        self.p = popen
        self.out = out_path
        self.json = json_path
        self.name = name

    def lines(self):
        try:
            with open(self.out, errors='replace') as f:
                return f.read().splitlines()
        except OSError:
            return []

    def running(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.running():
            try:
                self.p.send_signal(sig)
            except OSError:
                pass

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def result(self):
        try:
            with open(self.json) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None


class OrdoSide:
    """ordo's three nodes (tests/harness/cluster.py) and ordo-perf clients."""

    def __init__(self, env, c, ordo_perf, tmp):
        self.env, self.c, self.perf, self.tmp = env, c, ordo_perf, tmp

    def client(self, i, args, name):
        jf = os.path.join(self.tmp, f'{name}.json')
        cl = self.c.client(i, self.perf, *args, '-j', jf, name=name)
        return Proc(cl.proc, cl.out_path, jf, name)

    def event(self, i, how):
        t = time.monotonic_ns()
        if how == 'crash':
            self.c.kill(i)
        else:
            self.c.stop(i)
        return t

    def restore(self, i):
        self.c.start(i)
        self.c.wait_ring([1, 2, 3])
        self.c.wait_socket(i)

    def alive(self, i):
        return self.c.alive(i)


class CsSide:
    """corosync's three nodes (bench-compare's CsCluster) and cpg-perf clients."""

    def __init__(self, env, cs, variant, cpg_perf, tmp):
        self.env, self.cs, self.variant, self.perf, self.tmp = env, cs, variant, cpg_perf, tmp
        self.procs = []

    def client(self, i, args, name):
        jf = os.path.join(self.tmp, f'{name}.json')
        out_path = os.path.join(self.tmp, f'{name}.out')
        with open(out_path, 'w') as out:
            p, st = self.env['ownership'].spawn(['ip', 'netns', 'exec', self.cs.ns(i), self.perf] + list(args)
                                                + ['-j', jf], out)
        self.procs.append((p, st))
        self.cs.record(more=self.procs)
        return Proc(p, out_path, jf, name)

    def event(self, i, how):
        p = self.cs.procs[i]
        t = time.monotonic_ns()
        p.send_signal(signal.SIGKILL if how == 'crash' else signal.SIGTERM)
        p.wait(30)
        return t

    def restore(self, i):
        # CsCluster starts all its nodes at once: stop the survivors, start all
        self.cs.stop()
        self.cs.start(self.variant)
        self.cs.wait_ring()

    def alive(self, i):
        return self.cs.procs[i].poll() is None


# ---------------------------------------------------------------- rounds

def wait_for(pred, timeout, what):
    t = time.monotonic()
    while not pred():
        if time.monotonic() - t > timeout:
            raise RuntimeError(f'control: timeout after {timeout:.0f} s waiting for {what}')
        time.sleep(0.02)


def watchers(side, group, churners, tag, nodes=(1, 2, 3)):
    args = ['--control', 'watch', '-g', group, '-m', '3', '--churners', str(churners), '-d', '600', '-t', '60']
    ws = {i: side.client(i, args, f'{tag}-watch-n{i}') for i in nodes}
    wait_for(lambda: all('ready' in w.lines() for w in ws.values()) or
             any(not w.running() for w in ws.values()), 90, f'{tag}: the watchers\' barrier')
    if not all('ready' in w.lines() for w in ws.values()):
        raise RuntimeError(f'{tag}: a watcher exited before its barrier')
    return ws


def finish(ws, tag):
    """Asks the watchers for their END, then (once every one has counted
    the ENDs) lets them go, and collects their JSON."""
    for w in ws.values():
        w.signal(signal.SIGUSR1)
    wait_for(lambda: all('done' in w.lines() or not w.running() for w in ws.values()), 60,
             f'{tag}: the watchers\' ENDs')
    for w in ws.values():
        w.signal(signal.SIGTERM)
    res = {}
    for i, w in ws.items():
        rc = w.wait(60)
        res[i] = w.result()
        if res[i] is None:
            raise RuntimeError(f'{tag}: watcher n{i} wrote no JSON (exit {rc})')
    return res


def view_times(w, pred):
    return [v['t_ns'] for v in w['views'] if v['group'] == 0 and pred(v)]


def round_join(side, cfg, tag):
    group = f'cj{tag[-1]}'
    ws = watchers(side, group, 1, f'{tag}-join')
    j = side.client(1, ['--control', 'join', '-g', group, '-m', '3', '--cycles', str(cfg.control_cycles),
                        '--gap', '20', '-t', '30'], f'{tag}-join-n1')
    rc = j.wait(cfg.control_cycles * 2 + 60)
    jr = j.result()
    wres = finish(ws, tag)
    if rc != 0 or jr is None:
        raise RuntimeError(f'{tag}: the joiner exited {rc}')
    me = [jr['node'], jr['id']]
    join_lat, leave_lat = [], []
    per = {i: (view_times(w, lambda v: v['joined'] is not None and v['joined'][:2] == me),
               view_times(w, lambda v: v['left'] is not None and v['left'][:2] == me)) for i, w in wres.items()}
    for k, y in enumerate(jr['cycles']):
        try:
            t_in = max([y['joined_ns']] + [per[i][0][k] for i in per])
            t_out = max([y['left_ns']] + [per[i][1][k] for i in per])
        except IndexError:
            raise RuntimeError(f'{tag}: a watcher is missing cycle {k}\'s view') from None
        join_lat.append(t_in - y['join_ns'])
        leave_lat.append(t_out - y['leave_ns'])
    digests = {w['digest'] for w in wres.values()}
    return {'join_ns': join_lat, 'leave_ns': leave_lat, 'digests_equal': len(digests) == 1,
            'cycles': len(jr['cycles'])}


def round_churn(side, cfg, tag):
    group = f'cc{tag[-1]}'
    k = cfg.control_churners
    ws = watchers(side, group, k, f'{tag}-churn')
    cs = {i: side.client(i, ['--control', 'churn', '-g', group, '-m', '3', '--churners', str(k), '-d',
                             f'{cfg.control_duration:g}', '-t', '30'], f'{tag}-churn-n{i}') for i in (1, 2, 3)}
    rcs = {i: c.wait(cfg.control_duration + 60) for i, c in cs.items()}
    wres = finish(ws, tag)
    cres = {i: c.result() for i, c in cs.items()}
    if any(rc != 0 for rc in rcs.values()) or any(r is None for r in cres.values()):
        raise RuntimeError(f'{tag}: churners exited {rcs}')
    rates = [w['churn_views'] / ((w['churn_last_ns'] - w['churn_first_ns']) / 1e9) for w in wres.values()
             if w['churn_last_ns'] > w['churn_first_ns']]
    ops = sum(r['ops'] for r in cres.values())
    span = (max(r['end_ns'] for r in cres.values()) - min(r['start_ns'] for r in cres.values())) / 1e9
    renew = sum(r.get('renew_ns', 0) for r in cres.values())
    return {'views_per_s': statistics.median(rates) if rates else None,
            'renews': sum(r.get('renews', 0) for r in cres.values()), 'renew_s': renew / 1e9,
            'client_s': span * k * 3, 'call_s': sum(r.get('call_ns', 0) for r in cres.values()) / 1e9,
            'retries': sum(r.get('retries', 0) for r in cres.values()),
            'views': [w['churn_views'] for w in wres.values()], 'ops': ops,
            'ops_per_s': ops / span if span > 0 else None,
            'digests_equal': len({w['digest'] for w in wres.values()}) == 1 and
            len({w['churn_views'] for w in wres.values()}) == 1}


def round_member(side, how, tag, timeout):
    """Node 3's engine stopped (how: leave or crash); the survivors' times."""
    group = f'cm{tag[-1]}'
    ws = watchers(side, group, 1, f'{tag}-{how}')
    base = {i: len(w.lines()) for i, w in ws.items()}
    time.sleep(0.3)
    t_ev = side.event(3, how)
    survivors = {i: ws[i] for i in (1, 2)}

    def seen():
        return all(any(line.startswith('view 2 ') for line in w.lines()[base[i]:]) for i, w in survivors.items())
    try:
        wait_for(seen, timeout, f'{tag}: the survivors\' view without node 3')
    finally:
        ws[3].signal(signal.SIGTERM)
        ws[3].wait(10)
    wres = finish(survivors, tag)
    view_ns, conf_ns = [], []
    for i, w in wres.items():
        v = [x['t_ns'] for x in w['views'] if x['group'] == 0 and x['t_ns'] > t_ev
             and x.get('left_nodes', 0) & (1 << 3)]
        c = [x['t_ns'] for x in w['views'] if x['group'] == -1 and x['t_ns'] > t_ev and not x['transitional']
             and x['members'] == 2]
        view_ns.append(v[0] - t_ev if v else None)
        conf_ns.append(c[0] - t_ev if c else None)
    side.restore(3)
    return {'view_ns': None if None in view_ns else max(view_ns),
            'config_ns': None if None in conf_ns else max(conf_ns),
            'digests_equal': len({w['digest'] for w in wres.values()}) == 1}


def run_side(side, cfg, name, log, timeout):
    out = {'system': name, 'join': None, 'churn': None, 'leave': [], 'crash': [], 'errors': []}
    steps = [('join', lambda: round_join(side, cfg, f'{name}-j0')),
             ('churn', lambda: round_churn(side, cfg, f'{name}-c0'))]
    for k in range(cfg.control_events):
        for how in ('leave', 'crash'):
            steps.append((how, lambda how=how, k=k: round_member(side, how, f'{name}-{how}-m{k}', timeout)))
    for what, fn in steps:
        try:
            r = fn()
        except RuntimeError as e:
            log(f'{LABEL[name]}: {what}: FAILED: {e}')
            out['errors'].append(f'{what}: {e}')
            if what in ('leave', 'crash'):
                break  # node 3 may be down: the rest would measure nothing
            continue
        if what in ('leave', 'crash'):
            out[what].append(r)
        else:
            out[what] = r
        log(f'{LABEL[name]}: {what}: {summary_line(what, r)}')
    return out


def summary_line(what, r):
    if what == 'join':
        return (f'join p50 {ms(quantile(r["join_ns"], 0.5))} p99 {ms(quantile(r["join_ns"], 0.99))}, leave p50 '
                f'{ms(quantile(r["leave_ns"], 0.5))} ({r["cycles"]} cycles, digests equal {r["digests_equal"]})')
    if what == 'churn':
        return (f'{r["views_per_s"] or 0:,.0f} views/s per watcher, {r["ops_per_s"] or 0:,.0f} joins+leaves/s '
                f'(views per watcher {r["views"]}, digests equal {r["digests_equal"]}; {r["renews"]} handles '
                f'replaced in {r["renew_s"]:.2f} of {r["client_s"]:.1f} client-seconds, {r["call_s"]:.2f} s in '
                f'join/leave calls, {r["retries"]} retries)')
    return f'view {ms(r["view_ns"])}, configuration {ms(r["config_ns"])}'


def ms(ns):
    return '-' if ns is None else f'{ns / 1e6:,.1f} ms'


def run_ordo_system(env, args, bins, name, results):
    oc, log = env['oc'], env['log']
    ordod, ordo_perf, _ = bins
    env['wait_machine'](args.wait)
    sections = {k: dict(v) for k, v in args.ordo_sections.items()}
    sections.setdefault('ring', {})['profile'] = PROFILE[name]
    tmp = os.path.join(args.logs, f'control-{name}')
    os.makedirs(tmp, exist_ok=True)
    with oc.Cluster(ordod, nodes=3, paths=args.paths, mtu=9000, prefix='ordo-bench-n',
                    what='scripts/bench-compare --control', sections=sections) as c:
        c.start_all()
        c.wait_ring([1, 2, 3])
        for i in c.nodes:
            c.wait_socket(i)
        ring = c.effective_config()['ring']
        log(f'{LABEL[name]}: token_loss_us {ring["token_loss_us"]}, consensus_us {ring["consensus_us"]}, '
            f'join_us {ring["join_us"]}, token_retransmit_us {ring["token_retransmit_us"]}')
        r = run_side(OrdoSide(env, c, ordo_perf, tmp), args, name, log, 30)
        r['timeouts_us'] = {k: ring[k] for k in ('token_retransmit_us', 'token_loss_us', 'consensus_us', 'join_us')}
        results.append(r)
        c.stop_all(expect_clean=False)
        for i in c.nodes:
            shutil.copy(c.nodes[i].log_path, os.path.join(args.logs, f'control-{name}-n{i}.log'))


def run_cs_systems(env, args, bins, names, results):
    log = env['log']
    _, _, cpg_perf = bins
    env['wait_machine'](args.wait)
    cs = env['CsCluster'](9000, args.paths, sched_rr=args.corosync_rr)
    try:
        cs.up()
        for name in names:
            tmp = os.path.join(args.logs, f'control-{name}')
            os.makedirs(tmp, exist_ok=True)
            cs.start(name)
            cs.wait_ring()
            cmap = os.path.join(args.logs, f'control-{name}-cmap.txt')
            cs.save_runtime(cmap)
            r = run_side(CsSide(env, cs, name, cpg_perf, tmp), args, name, log, 60)
            r['timeouts_us'] = cs_timeouts(cmap)
            results.append(r)
            cs.stop()
            cs.save_logs(args.logs)
    finally:
        cs.down()
        log('corosync stopped, topology down')


def cs_timeouts(cmap):
    """corosync's runtime token, consensus and join timeouts (ms in cmap), in us."""
    keys = {'runtime.config.totem.token': 'token_loss_us', 'runtime.config.totem.consensus': 'consensus_us',
            'runtime.config.totem.join': 'join_us',
            'runtime.config.totem.token_retransmit': 'token_retransmit_us'}
    out = {}
    try:
        with open(cmap) as f:
            for line in f:
                k, _, rest = line.partition(' (')
                if k.strip() in keys and '=' in rest:
                    out[keys[k.strip()]] = int(rest.split('=')[1].strip()) * 1000
    except (OSError, ValueError):
        pass
    return out


def table(results):
    rows = [('join: until every member has the view, p50', lambda r: r['join'] and
             ms(quantile(r['join']['join_ns'], 0.5))),
            ('join: p99', lambda r: r['join'] and ms(quantile(r['join']['join_ns'], 0.99))),
            ('leave (ordo_leave / cpg_leave): p50', lambda r: r['join'] and ms(quantile(r['join']['leave_ns'], 0.5))),
            ('leave: p99', lambda r: r['join'] and ms(quantile(r['join']['leave_ns'], 0.99))),
            ('churn: views/s at each member', lambda r: r['churn'] and f'{r["churn"]["views_per_s"] or 0:,.0f}'),
            ('churn: joins+leaves/s (all clients)', lambda r: r['churn'] and f'{r["churn"]["ops_per_s"] or 0:,.0f}'),
            ('views identical at every member', lambda r: agree(r)),
            ('node clean leave: group view', lambda r: member_cell(r, 'leave', 'view_ns')),
            ('node clean leave: ring configuration', lambda r: member_cell(r, 'leave', 'config_ns')),
            ('node crash: group view', lambda r: member_cell(r, 'crash', 'view_ns')),
            ('node crash: ring configuration', lambda r: member_cell(r, 'crash', 'config_ns')),
            ('token loss / consensus / join timeouts', lambda r: timeouts(r))]
    head = ['metric'] + [LABEL[r['system']] for r in results]
    lines = [[name] + [(f(r) or '-') for r in results] for name, f in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]

    def fmt(cells):
        return '  '.join(str(c).ljust(w) if k == 0 else str(c).rjust(w) for k, (c, w) in enumerate(zip(cells, widths)))
    return '\n'.join([fmt(head), '  '.join('-' * w for w in widths)] + [fmt(c) for c in lines])


def agree(r):
    parts = [r[k]['digests_equal'] for k in ('join', 'churn') if r[k]] + \
        [x['digests_equal'] for k in ('leave', 'crash') for x in r[k]]
    return ('yes' if all(parts) else 'NO') if parts else None


def member_cell(r, how, key):
    vals = [x[key] for x in r[how] if x[key] is not None]
    if not vals:
        return None
    return ms(statistics.median(vals)) + (f' ({len(vals)})' if len(vals) > 1 else '')


def timeouts(r):
    t = r.get('timeouts_us') or {}
    if not t:
        return None
    return '/'.join('-' if t.get(k) is None else f'{t[k] / 1000:g}' for k in
                    ('token_loss_us', 'consensus_us', 'join_us')) + ' ms'


def run(env, args, bins, out):
    """The control section: every system, then the table. Returns 0, or 1
    if a round failed or the watchers disagreed."""
    log = env['log']
    names = [s for s in args.control_systems.split(',') if s]
    bad = [s for s in names if s not in SYSTEMS]
    if bad:
        raise RuntimeError(f'--control-systems: unknown {bad}; choose from {SYSTEMS}')
    t0, la0 = time.time(), env['loadavg']()
    busy0, m0 = env['cpu_busy_s'](), time.monotonic()
    results = []
    for name in names:
        if name.startswith('ordo'):
            run_ordo_system(env, args, bins, name, results)
    cs = [n for n in names if n.startswith('cs-')]
    if cs:
        run_cs_systems(env, args, bins, cs, results)
    busy1, m1 = env['cpu_busy_s'](), time.monotonic()
    meta = {'command': ' '.join(['scripts/bench-compare'] + sys.argv[1:]),
            'date': time.strftime('%Y-%m-%d %H:%M:%S %z', time.localtime(t0)), 'loadavg_start': la0,
            'loadavg_end': env['loadavg'](), 'elapsed_s': round(time.time() - t0, 1),
            'machine_busy_cpus': round((busy1 - busy0) / (m1 - m0), 2) if busy0 is not None else None,
            'cycles': args.control_cycles, 'churners': args.control_churners,
            'churn_s': args.control_duration, 'events': args.control_events}
    text = (f'{meta["command"]}   ({meta["date"]}, load average {la0} -> {meta["loadavg_end"]}, machine busy '
            f'{meta["machine_busy_cpus"]} CPUs on average, {meta["elapsed_s"]} s)\n' + table(results) +
            f'\njoin/leave: {args.control_cycles} cycles, 3 watchers + the joiner on node 1; churn: '
            f'{args.control_churners} clients per node for {args.control_duration:g} s; node 3 stopped '
            f'(SIGTERM) and killed (SIGKILL) {args.control_events} times each, medians (count); times '
            'until the slower survivor has it (CLOCK_MONOTONIC).')
    print('\n' + text, flush=True)
    with open(os.path.join(out, 'control.json'), 'w') as f:
        json.dump({'meta': meta, 'results': results}, f, indent=1)
    with open(os.path.join(out, 'control.txt'), 'w') as f:
        f.write(text + '\n')
    print(f'wrote {out}/control.json, {out}/control.txt')
    ok = all(not r['errors'] for r in results) and all(agree(r) in ('yes', None) for r in results)
    return 0 if ok else 1
