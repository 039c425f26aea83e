"""transports.py — configurations of the routed transports for the
integration tests: which topology (scripts/topology up or up-routed) and
which [pathN] keys every node gets, per mode.

    args = transports.cluster_args('udp6', nodes=3, paths=2)
    with Cluster(ordod, nodes=3, paths=2, **args) as c: ...

Modes:
  udp4        both paths routed: every node in its own subnet, traffic
              crosses the router namespace; unicast fan-out
  udp6        the same over IPv6 (global addresses, the router's as gateway)
  udp6-static udp6 with neighbour_learning = no: the router's MAC on each
              node's port is a static neighbour (read from the router
              namespace once the topology is up); nothing is learned
  udp4-segment  one bridged segment per path, IPv4, no gateway; unicast
              fan-out (the L2 transport's topology, for scripts/bench-compare)
  udp6-ll     one bridged segment per path, IPv6 link-local addresses only,
              no gateway; unicast fan-out
  udp4-mcast  one bridged segment per path, IPv4 with a multicast group per
              path (fan-out by IP multicast)
  udp6-mcast  the same with link-local IPv6 and an IPv6 multicast group
  mixed       path 0 l2 (bridged), path 1 udp6 routed

Addresses follow scripts/topology (routed paths: 10.<80+p>.<i>.1 and
fd6f:<p>:<i>::1, the router at .254 / ::fe); bridged IPv4 uses
10.79.<p>.<i>, apart from the kernel's own 10.77.<p>.<i>.
"""
import json
import subprocess

MODES = ('udp4', 'udp6', 'udp6-static', 'udp4-segment', 'udp6-ll', 'udp4-mcast', 'udp6-mcast', 'mixed')


def _path(mode, k, i, nodes):
    """[pathk] keys for node i, or {} for an l2 path."""
    ids = range(1, nodes + 1)
    if mode == 'udp4':
        return {'transport': 'udp4', 'address': f'10.{80 + k}.{i}.1/24',
                'addresses': ','.join(f'{j}@10.{80 + k}.{j}.1' for j in ids),
                'gateway': f'10.{80 + k}.{i}.254'}
    if mode == 'udp6-static':
        conf = _path('udp6', k, i, nodes)
        conf.update({'neighbour_learning': 'no',
                     'neighbours': f'fd6f:{k}:{i}::fe@{router_mac(f"n{i}p{k}")}'})
        return conf
    if mode == 'udp6' or (mode == 'mixed' and k == 1):
        return {'transport': 'udp6', 'address': f'fd6f:{k}:{i}::1/64',
                'addresses': ','.join(f'{j}@fd6f:{k}:{j}::1' for j in ids),
                'gateway': f'fd6f:{k}:{i}::fe'}
    if mode in _SEGMENT:
        # one bridged segment per path: (transport, node j's address,
        # prefix length, the path's multicast group or None)
        transport, addr, plen, group = _SEGMENT[mode]
        conf = {'transport': transport, 'address': f'{addr(k, i)}/{plen}',
                'addresses': ','.join(f'{j}@{addr(k, j)}' for j in ids)}
        if group:
            conf['multicast'] = group(k)
        return conf
    return {}


_SEGMENT = {
    'udp4-segment': ('udp4', lambda k, j: f'10.79.{k}.{j}', 24, None),
    'udp4-mcast': ('udp4', lambda k, j: f'10.79.{k}.{j}', 24, lambda k: f'239.192.79.{k + 1}'),
    'udp6-ll': ('udp6', lambda k, j: f'fe80::4f:{j}', 64, None),
    'udp6-mcast': ('udp6', lambda k, j: f'fe80::4f:{j}', 64, lambda k: f'ff12::4f52:{k + 1}'),
}


def router_mac(port):
    """The MAC of the router namespace's port (the topology must be up)."""
    r = subprocess.run(['ip', '-n', 'ordo-rt', '-j', 'link', 'show', 'dev', port], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=True)
    return json.loads(r.stdout)[0]['address']


class LazyNodeConf:
    """Cluster(node_conf=...) read when the configs are written, after the
    topology is up (a static neighbour needs the router's MAC)."""

    def __init__(self, mode, nodes, paths):
        self.mode, self.nodes, self.paths = mode, nodes, paths

    def get(self, i, default=None):
        if not 1 <= i <= self.nodes:
            return default
        conf = {}
        for k in range(self.paths):
            c = _path(self.mode, k, i, self.nodes)
            if c:
                conf[f'path{k}'] = c
        return conf


def topology_kinds(mode, paths):
    """Cluster(routed=...): the path kinds for `topology up-routed`, or None."""
    if mode in ('udp4', 'udp6', 'udp6-static'):
        return ','.join(['routed'] * paths)
    if mode == 'mixed':
        return ','.join(['l2'] + ['routed'] * (paths - 1))
    return None


def transport_of(mode, k):
    if mode == 'udp6-static':
        mode = 'udp6'
    t = _path(mode, k, 1, 2).get('transport')
    return t or 'l2'


def cluster_args(mode, nodes=3, paths=2):
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, not {mode!r}')
    if mode == 'mixed' and paths != 2:
        raise ValueError('mixed needs 2 paths')
    return {'routed': topology_kinds(mode, paths), 'node_conf': LazyNodeConf(mode, nodes, paths)}
