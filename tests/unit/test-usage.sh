#!/bin/sh
# test-usage.sh ORDOD ORDOCTL ORDO-SUB — a command line ordod, ordoctl or
# ordo-sub cannot run says what is wrong on its first line of stderr, then
# the usage, and exits with the usage status (ordod 1, ordoctl 64, ordo-sub
# 2): never the usage alone. Needs no node:
# every case is refused before a socket or a configuration is opened.
set -u
ordod=$1
ordoctl=$2
ordosub=$3
err=$(mktemp /tmp/ordo-usage-test.XXXXXX)
trap 'rm -f "$err"' EXIT
bad=0

# expect STATUS TEXT PROGRAM ARGS...: exit STATUS, stderr's first line holds TEXT
expect() {
	want=$1 text=$2
	shift 2
	"$@" >/dev/null 2>"$err"
	rc=$?
	first=$(head -n 1 "$err")
	if [ "$rc" != "$want" ] || ! printf '%s' "$first" | grep -qF -- "$text" ||
		! grep -q '^usage: ' "$err"; then
		echo "FAIL: $*: exit $rc (want $want), first line '$first' (want '$text', then the usage)"
		bad=1
	fi
}

expect 1 "'n1.conf': a configuration file goes after -c: ordod -c n1.conf" "$ordod" n1.conf
expect 1 "no configuration file" "$ordod"
expect 1 "-c needs the configuration file" "$ordod" -c
expect 1 "--json goes with --check" "$ordod" -c n1.conf --json
expect 1 "unknown option '--frobnicate'" "$ordod" --frobnicate

expect 64 "no verb" "$ordoctl"
expect 64 "unknown verb 'paths'" "$ordoctl" -s /nonexistent.sock paths
expect 64 "unknown verb 'counters'" "$ordoctl" counters
expect 64 "-s needs a value" "$ordoctl" -s
expect 64 "-n takes a node id, not 'one'" "$ordoctl" -n one status
expect 64 "-t takes milliseconds, not '0'" "$ordoctl" -t 0 status
expect 64 "reinstate: one argument" "$ordoctl" -s /nonexistent.sock reinstate
expect 64 "unknown option '-x'" "$ordoctl" -x status

expect 2 "no GROUP" "$ordosub" -s /nonexistent.sock

# --json after the verb is the option, not an argument: the node is asked
# (and is unreachable, exit 3), not "status takes no arguments"
"$ordoctl" -s /nonexistent/ordo.sock status --json >/dev/null 2>"$err"
rc=$?
[ "$rc" = 3 ] || { echo "FAIL: status --json: exit $rc (want 3: unreachable): $(cat "$err")"; bad=1; }
# a socket that is not there: the text says what that means
"$ordoctl" -s /nonexistent/ordo.sock status >/dev/null 2>"$err"
grep -q "No such file or directory (is the node running?" "$err" ||
	{ echo "FAIL: status of a missing socket: stderr '$(cat "$err")'"; bad=1; }
# --check of a file without a key_file passes (exit 0) and says on stderr
# that the node would run without frame security
conf=$(mktemp /tmp/ordo-usage-test.XXXXXX)
printf '[node]\nid = 1\n[ring]\nid = 1\nnodes = 1\n[path0]\ndevice = net_null0\n' >"$conf"
"$ordod" -c "$conf" --check >/dev/null 2>"$err"
rc=$?
rm -f "$conf"
[ "$rc" = 0 ] && grep -q "sets no \[ring\] key_file: the node would run with NO FRAME SECURITY" "$err" ||
	{ echo "FAIL: --check without key_file: exit $rc, stderr '$(cat "$err")'"; bad=1; }
exit $bad
