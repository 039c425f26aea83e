"""transports.py — configurations of the routed transports for the
integration tests: which topology (scripts/topology up or up-routed) and
which [pathN] keys every node gets, per mode.

    args = transports.cluster_args('udp6', nodes=3, paths=2)
    with Cluster(ordod, nodes=3, paths=2, **args) as c: ...

Modes:
  udp4        both paths routed: every node in its own subnet, traffic
              crosses the router namespace; unicast fan-out
  udp6        the same over IPv6 (global addresses, the router's as gateway)
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

MODES = ('udp4', 'udp6', 'udp4-segment', 'udp6-ll', 'udp4-mcast', 'udp6-mcast', 'mixed')


def _path(mode, k, i, nodes):
    """[pathk] keys for node i, or {} for an l2 path."""
    ids = range(1, nodes + 1)
    if mode == 'udp4':
        return {'transport': 'udp4', 'address': f'10.{80 + k}.{i}.1/24',
                'addresses': ','.join(f'{j}@10.{80 + k}.{j}.1' for j in ids),
                'gateway': f'10.{80 + k}.{i}.254'}
    if mode == 'udp6' or (mode == 'mixed' and k == 1):
        return {'transport': 'udp6', 'address': f'fd6f:{k}:{i}::1/64',
                'addresses': ','.join(f'{j}@fd6f:{k}:{j}::1' for j in ids),
                'gateway': f'fd6f:{k}:{i}::fe'}
    if mode in ('udp6-ll', 'udp6-mcast'):
        conf = {'transport': 'udp6', 'address': f'fe80::4f:{i}/64',
                'addresses': ','.join(f'{j}@fe80::4f:{j}' for j in ids)}
        if mode == 'udp6-mcast':
            conf['multicast'] = f'ff12::4f52:{k + 1}'
        return conf
    if mode in ('udp4-segment', 'udp4-mcast'):
        conf = {'transport': 'udp4', 'address': f'10.79.{k}.{i}/24',
                'addresses': ','.join(f'{j}@10.79.{k}.{j}' for j in ids)}
        if mode == 'udp4-mcast':
            conf['multicast'] = f'239.192.79.{k + 1}'
        return conf
    return {}


def topology_kinds(mode, paths):
    """Cluster(routed=...): the path kinds for `topology up-routed`, or None."""
    if mode in ('udp4', 'udp6'):
        return ','.join(['routed'] * paths)
    if mode == 'mixed':
        return ','.join(['l2'] + ['routed'] * (paths - 1))
    return None


def transport_of(mode, k):
    t = _path(mode, k, 1, 2).get('transport')
    return t or 'l2'


def cluster_args(mode, nodes=3, paths=2):
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, not {mode!r}')
    if mode == 'mixed' and paths != 2:
        raise ValueError('mixed needs 2 paths')
    node_conf = {}
    for i in range(1, nodes + 1):
        node_conf[i] = {}
        for k in range(paths):
            conf = _path(mode, k, i, nodes)
            if conf:
                node_conf[i][f'path{k}'] = conf
    return {'routed': topology_kinds(mode, paths), 'node_conf': node_conf}
