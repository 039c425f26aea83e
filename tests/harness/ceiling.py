#!/usr/bin/env python3
"""ceiling.py — what the topology itself carries, measured on a cluster's
own namespaces, veths and bridges with ordo-blast (bench/ordo_blast.c), and
ordo's flood as a share of it. scripts/bench-compare runs it at each MTU
just before ordo's runs (docs/performance.md §7, "The transport's ceiling");
tests/integration/test_blast.py checks that the blaster works.

    with Cluster(ordod, nodes=3, paths=1, mtu=9000) as c:   # no ordod started
        runs = measure(c, blast_exe, duration=3, repeat=3)
    lines, rows = report(runs, ordo_rows, ordo_raw)

One run: an ordo-blast in every node's namespace on the node's af_packet
devices (the harness's, cluster.device), from a common start; mode `one`:
node 1 sends full frames of the MTU to the ring's multicast MAC as fast as
the port takes them and the others receive; mode `all`: every node sends
and receives. What the ring carries, the number compared with ordo's:
  frames/s = the frames received by all nodes per second / (nodes - 1)
             (per path): frames that reached every other node, as each of
             ordo's data frames must; in mode `one` the mean receiver's;
  MB/s     = the same in bytes of frame (the Ethernet payload, what ordo
             packs its messages into), 10^6 bytes.
ordo's side, per flood row: its delivered MB/s per node (ordo-perf), and
its data frames per second on the ring: msgs/s per node x the frames every
node originated (frames_sent, /ordo/stats) / the messages a node delivered
(messages_delivered), both over the same run; and its packing, the message
bytes per frame of the MTU (msgs/frame x size / MTU): the share of the
ceiling's MB/s ordo would deliver at the ceiling's frame rate.

Python 3 standard library only.
"""
import json
import os
import statistics
import time

import cluster as oc

MODES = {'one': '1 -> others', 'all': 'all -> all'}
LEAD_S = 2.0   # from launch to the common start: EAL and ports come up meanwhile


def cpu_times_s():
    """Seconds of CPU the whole machine (every CPU) spent busy, of it in
    niced processes (other people's builds and sweeps run at nice 10), in
    soft interrupts (the kernel's packet work, some of it for ours) from
    /proc/stat, and in the ksoftirqd threads."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf('SC_CLK_TCK')
    return (sum(v[:8]) - v[3] - v[4]) / hz, v[1] / hz, v[6] / hz, ksoftirqd_s() / hz


def ksoftirqd_s():
    """Clock ticks the kernel's ksoftirqd threads ran: packet work deferred
    out of the process that caused it (the bridge's flood, the receivers'
    copies), charged to nobody's process."""
    ticks = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as f:
                st = f.read()
        except OSError:
            continue
        if st.split('(', 1)[1].startswith('ksoftirqd/'):
            fields = st.rsplit(')', 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def _sleep_until(unix_s):
    while True:
        left = unix_s - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


def blast(c, exe, mode, duration, warmup=0.5, sender=1, tag=''):
    """One run of ordo-blast at every node of cluster c (its topology up,
    no ordod on it). Returns the run: per node the blaster's JSON, what the
    ring carried (reduce()), and the CPU other processes used meanwhile."""
    start_ns = time.time_ns() + int(LEAD_S * 1e9)
    files, procs = {}, {}
    for i in c.nodes:
        files[i] = os.path.join(c.tmp, f'blast-{mode}-{tag}-n{i}.json')
        argv = [exe, '-n', i, '-N', c.n, '-m', mode, '-s', sender, '-M', c.mtu, '-d', f'{duration:g}',
                '-w', f'{warmup:g}', '-t', start_ns, '-j', files[i]]
        for k in range(c.paths):
            argv += ['-D', oc.device(k)]
        procs[i] = c.netns_process(i, argv, name=f'blast-{mode}-{tag}-n{i}')
    # the machine's CPU over the blasters' window, for what was not theirs
    _sleep_until(start_ns / 1e9 + warmup)
    c0, t0 = cpu_times_s(), time.monotonic()
    _sleep_until(start_ns / 1e9 + warmup + duration)
    c1, t1 = cpu_times_s(), time.monotonic()
    run = {'mode': mode, 'mtu': c.mtu, 'paths': c.paths, 'duration_s': duration, 'nodes': {},
           'errors': []}
    for i, p in procs.items():
        rc = p.wait(LEAD_S + duration + 2 * warmup + 60, f'ordo-blast at n{i}')
        try:
            with open(files[i]) as f:
                run['nodes'][i] = json.load(f)
        except (OSError, ValueError) as e:
            run['errors'].append(f'n{i}: exit {rc}, no JSON ({e}): {p.err().strip()[-300:]}')
    if not run['errors']:
        reduce(run, c.n)
        ours = sum(j['cpu_s'] for j in run['nodes'].values())
        busy, niced, softirq, ksoftirqd = ((c1[k] - c0[k]) / (t1 - t0) for k in range(4))
        run['machine_busy_cpus'] = round(busy, 2)
        run['other_cpus'] = round(max(0.0, busy - ours / (t1 - t0)), 2)
        run['niced_cpus'], run['softirq_cpus'] = round(niced, 2), round(softirq, 2)
        run['ksoftirqd_cpus'] = round(ksoftirqd, 2)
    return run


def reduce(run, nodes):
    """What the ring carried in one run (module docstring), into run."""
    js = list(run['nodes'].values())
    paths = run['paths']
    run['frames_per_s'] = sum(j['rx_frames_per_s'] for j in js) / (nodes - 1) / paths
    run['mb_per_s'] = sum(j['rx_mb_per_s'] for j in js) / (nodes - 1) / paths
    run['sent_frames_per_s'] = sum(j['tx_frames_per_s'] for j in js) / paths
    run['rx_frames_per_s_min'] = min(j['rx_frames_per_s'] for j in js if not (run['mode'] == 'one' and j['sending']))
    sent = sum(j['tx_frames'] for j in js)
    got = sum(j['rx_frames'] for j in js)
    # frames sent in the window that no receiver counted: rx loss plus the
    # senders' window being a little off the receivers'
    run['lost'] = max(0.0, 1 - got / ((nodes - 1) * sent)) if sent else None
    run['refused'] = sum(j['tx_attempted'] - j['tx_frames'] for j in js)
    run['late_ms'] = max(j['late_ms'] for j in js)
    # the blasters' own CPU (user and system, soft interrupts in their
    # context included or not as the kernel accounts them)
    run['blast_cpus'] = sum(j['cpu_s'] / j['window_s'] for j in js if j['window_s'] > 0)
    tx_cpu = sum(j['cpu_s'] for j in js if j['sending'])
    run['sender_us_per_frame'] = 1e6 * tx_cpu / sent if sent else None
    run['ok'] = got > 0 and run['late_ms'] < js[0]['warmup_s'] * 1e3


def measure(c, exe, duration, repeat=1, modes=('one', 'all'), retries=0, max_other_cpus=None, say=oc.log):
    """Every mode, repeat times, on cluster c; a run during which other
    processes used more than max_other_cpus of the machine is run again, up
    to retries times (and marked contaminated if it stays so). Returns the runs."""
    runs = []
    for mode in modes:
        for rep in range(repeat):
            for attempt in range(retries + 1):
                r = blast(c, exe, mode, duration, tag=f'{rep}-{attempt}')
                r['repeat'], r['attempts'] = rep, attempt + 1
                other = r.get('other_cpus')
                r['contaminated'] = max_other_cpus is not None and other is not None and other > max_other_cpus
                say(describe(r))
                if not r['contaminated'] or attempt == retries:
                    break
            runs.append(r)
    return runs


def describe(r):
    if r['errors'] or not r.get('ok'):
        return f'ceiling MTU {r["mtu"]} {MODES[r["mode"]]}: FAILED ' + '; '.join(
            r['errors'] or [f'started {r.get("late_ms")} ms late'])
    return (f'ceiling MTU {r["mtu"]:>4} {MODES[r["mode"]]:<12} #{r["repeat"]}: {r["frames_per_s"]:,.0f} frames/s '
            f'({r["mb_per_s"]:.1f} MB/s) to every other node, senders {r["sent_frames_per_s"]:,.0f} frames/s, '
            f'lost {100 * (r["lost"] or 0):.1f} %; machine busy {r["machine_busy_cpus"]} CPUs, '
            f'{r["other_cpus"]} not ours (niced {r["niced_cpus"]}, soft interrupts {r["softirq_cpus"]}, '
            f'ksoftirqd {r["ksoftirqd_cpus"]})')


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs):
    """Medians per (MTU, mode) of the runs that worked."""
    out = []
    for mtu in sorted({r['mtu'] for r in runs}):
        for mode in MODES:
            ok = [r for r in runs if r['mtu'] == mtu and r['mode'] == mode and r.get('ok')]
            if not ok:
                continue
            d = {'mtu': mtu, 'mode': mode, 'runs': len(ok),
                 'contaminated_runs': sum(1 for r in ok if r['contaminated'])}
            for k in ('frames_per_s', 'mb_per_s', 'sent_frames_per_s', 'rx_frames_per_s_min', 'lost',
                      'blast_cpus', 'sender_us_per_frame',
                      'other_cpus', 'niced_cpus', 'softirq_cpus', 'ksoftirqd_cpus'):
                d[k] = _median(r.get(k) for r in ok)
            d['frames_per_s_range'] = [min(r['frames_per_s'] for r in ok), max(r['frames_per_s'] for r in ok)]
            out.append(d)
    return out


def ordo_frames_per_s(run):
    """ordo's data frames per second on the ring in one flood run (module
    docstring), or None without its counters."""
    st = run.get('ordod_stats_delta') or {}
    sent = sum(s.get('frames_sent', 0) for s in st.values())
    dlv = _median(s.get('messages_delivered') for s in st.values())
    if not sent or not dlv or not run.get('msgs_per_s'):
        return None
    return run['msgs_per_s'] * sent / dlv


def versus(summary, rows, raw, system='ordo'):
    """ordo's flood rows against the ceiling of their MTU: one dict per row."""
    ceil = {(d['mtu'], d['mode']): d for d in summary}
    out = []
    for row in rows:
        s = row['systems'].get(system)
        if row['kind'] != 'tput' or s is None or s.get('mb_per_s') is None:
            continue
        fps = _median(ordo_frames_per_s(r) for r in raw if r['system'] == system and r['mtu'] == row['mtu']
                      and r['kind'] == 'tput' and r['size'] == row['size'])
        v = {'mtu': row['mtu'], 'size': row['size'], 'mb_per_s': s['mb_per_s'], 'frames_per_s': fps,
             'msgs_per_frame': s['msgs_per_s'] / fps if fps and s.get('msgs_per_s') else None}
        # message bytes per frame of the MTU: % all MB/s = % all frames x this
        # / 100, so the MB/s percentage can reach at most this
        v['packing_pct'] = 100 * v['msgs_per_frame'] * row['size'] / row['mtu'] if v['msgs_per_frame'] else None
        for mode in MODES:
            d = ceil.get((row['mtu'], mode))
            v[f'mb_pct_{mode}'] = 100 * s['mb_per_s'] / d['mb_per_s'] if d and d['mb_per_s'] else None
            v[f'frames_pct_{mode}'] = 100 * fps / d['frames_per_s'] if d and fps and d['frames_per_s'] else None
        out.append(v)
    return out


def _table(head, lines):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = '  '.join('{:<%d}' % w if k < 2 else '{:>%d}' % w for k, w in enumerate(widths))
    return [fmt.format(*head), '  '.join('-' * w for w in widths)] + [fmt.format(*x) for x in lines]


def _f(v, spec=',.0f'):
    return '-' if v is None else format(v, spec)


def report(summary, vs, repeat, duration):
    """The two tables bench-compare prints: the ceiling, and ordo against it."""
    out = [f"The transport's ceiling: ordo-blast on the same namespaces, veths and bridges, just before "
           f"ordo's runs (full frames of the MTU through pmd-glue's af_packet ports; median of {repeat} "
           f"runs of {duration:g} s; frames/s and MB/s: reaching every other node)"]
    lines = [[str(d['mtu']), MODES[d['mode']], _f(d['frames_per_s']), _f(d['mb_per_s'], ',.1f'),
              _f(d['rx_frames_per_s_min']), _f(d['sent_frames_per_s']), _f(100 * (d['lost'] or 0), '.1f'),
              _f(d['blast_cpus'], '.2f'), _f(d['sender_us_per_frame'], '.1f'), _f(d['ksoftirqd_cpus'], '.2f'),
              _f(d['other_cpus'], '.2f') + (f' *{d["contaminated_runs"]}' if d['contaminated_runs'] else '')]
             for d in summary]
    out += _table(['MTU', 'mode', 'frames/s', 'MB/s', 'slowest rx fr/s', 'sent fr/s', 'lost %', 'blast CPUs',
                   'us/frame sent', 'ksoftirqd CPUs', 'other CPUs'],
                  lines)
    if vs:
        out += ['', "ordo's flood against it (delivered MB/s per node; data frames/s of the ring)"]
        lines = [[str(v['mtu']), _size(v['size']), _f(v['mb_per_s'], ',.1f'), _f(v['frames_per_s']),
                  _f(v['msgs_per_frame'], '.2f'), _f(v['packing_pct'], '.1f')]
                 + [_f(v[f'{k}_pct_{m}'], '.1f') for m in ('all', 'one') for k in ('mb', 'frames')]
                 for v in vs]
        out += _table(['MTU', 'size', 'ordo MB/s', 'ordo frames/s', 'msgs/frame', 'packing %', '% all MB/s',
                       '% all frames',
                       '% one MB/s', '% one frames'], lines)
    return out


def _size(n):
    return f'{n // 1024} KiB' if n >= 1024 and n % 1024 == 0 else f'{n} B'
