#!/usr/bin/env python3
"""telemetry.py — a client of a node's DPDK telemetry socket (AF_UNIX
SOCK_SEQPACKET, /var/run/dpdk/<file_prefix>/dpdk_telemetry.v2), which is
where ordod answers /ordo/node, /ordo/paths, /ordo/stats, /ordo/drops,
/ordo/delivery (docs/ordod.md).

Python 3 standard library only.
"""

import json
import os
import socket

DPDK_RUN = '/var/run/dpdk'


class TelemetryError(Exception):
    pass


def runtime_dir(file_prefix):
    """A DPDK process's runtime directory (its telemetry socket, its
    hugepage and config files)."""
    return os.path.join(DPDK_RUN, file_prefix)


class Telemetry:
    """One connection to a node's DPDK telemetry socket, reopened on error."""

    def __init__(self, file_prefix, timeout_s=5.0):
        self.path = os.path.join(runtime_dir(file_prefix), 'dpdk_telemetry.v2')
        self.timeout_s = timeout_s
        self.sock = None
        self.max_len = 16384

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(self.timeout_s)
        try:
            s.connect(self.path)
            greeting = s.recv(65536)
            if not greeting:
                raise TelemetryError(f'{self.path}: closed before the greeting')
            info = json.loads(greeting.decode())
            self.max_len = max(16384, int(info.get('max_output_len', 16384)))
        except (OSError, ValueError) as e:
            s.close()
            raise TelemetryError(f'{self.path}: {e}') from None
        self.sock = s

    def cmd(self, command, retry=True):
        """The reply's value for command (the reply is {command: value})."""
        if self.sock is None:
            self._connect()
        try:
            self.sock.send(command.encode())
            data = self.sock.recv(self.max_len + 4096)
            if not data:
                raise TelemetryError(f'{self.path}: connection closed')
            reply = json.loads(data.decode())
        except (OSError, ValueError, TelemetryError) as e:
            self.close()
            if retry:
                return self.cmd(command, retry=False)
            raise TelemetryError(f'{self.path}: {command}: {e}') from None
        if not isinstance(reply, dict) or command not in reply:
            raise TelemetryError(f'{command}: unexpected reply {reply!r}')
        if reply[command] is None:
            raise TelemetryError(f'{command}: null reply (unknown command, or no engine running yet)')
        return reply[command]


def flat_counts(d):
    """A counter dict with possibly nested per-path dicts, summed per key."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = sum(flat_counts(v).values())
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = v
    return out
