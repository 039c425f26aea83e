#!/usr/bin/env bash
# collapse.sh — the shared-memory flood collapse (docs/performance.md §7,
# "The flood collapse") reproduced on demand: one ordod (a one-node ring on
# DPDK's null PMD) and attach-cost's one-client flood, with the client either
# spinning on ORDO_EAGAIN (`--on-full spin`, what attach-cost did before) or
# sleeping in ordo_wait until the node frees room (`wait`, today's), each
# with the scheduler free to place the client and the worker (unpinned) and
# with both forced onto one CPU (taskset: the placement that collapsed).
#
# Usage: bench/collapse.sh [BUILD_DIR] [RUNS]   (default: build, 5)
# Builds nothing: run `ninja -C BUILD_DIR` first. Needs no root and no
# network (the null PMD). Prints every run's flood rate and, per case, the
# median; the machine's load average with each run. Take the machine:
# flock /run/ordo-bench.lock bench/collapse.sh
set -euo pipefail

build=${1:-build}
runs=${2:-5}
ordod="$build/apps/ordod"
cost="$build/bench/attach-cost"
for f in "$ordod" "$cost"; do
	[ -x "$f" ] || { echo "collapse.sh: $f is missing: ninja -C $build" >&2; exit 2; }
done
tmp=$(mktemp -d /tmp/ordo-collapse.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cat >"$tmp/n1.conf" <<EOF
[node]
id = 1
state_dir = $tmp/state
socket = $tmp/n1.sock
[eal]
file_prefix = ordo-collapse-$$
[ring]
id = 9
nodes = 1
[path0]
device = net_null0,no-rx=1
EOF
"$ordod" -c "$tmp/n1.conf" >"$tmp/ordod.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -S "$tmp/n1.sock" ] && break
	sleep 0.1
done
[ -S "$tmp/n1.sock" ] || { echo "collapse.sh: ordod did not start:" >&2; cat "$tmp/ordod.log" >&2; exit 1; }

# pins every thread of the node (worker, control, DPDK's) to CPU list $1
pin_node() {
	for t in /proc/"$pid"/task/*; do
		taskset -p -c "$1" "${t##*/}" >/dev/null
	done
}

all=$(taskset -c -p "$pid" | awk '{print $NF}') # the CPUs it may use, e.g. 0-1
one_case() { # mode placement
	local mode=$1 place=$2 rates=()
	if [ "$place" = one-cpu ]; then pin_node 0; else pin_node "$all"; fi
	for _ in $(seq "$runs"); do
		local la r
		la=$(cut -d' ' -f1 /proc/loadavg)
		if [ "$place" = one-cpu ]; then
			r=$(taskset -c 0 "$cost" --socket "$tmp/n1.sock" --count 200 --flood 2 --on-full "$mode" | tail -n 1)
		else
			r=$("$cost" --socket "$tmp/n1.sock" --count 200 --flood 2 --on-full "$mode" | tail -n 1)
		fi
		r=$(sed -E 's/.*: ([0-9]+) msgs\/s published.*/\1/' <<<"$r")
		rates+=("$r")
		printf '%-5s %-9s %10s msgs/s  (load %s)\n' "$mode" "$place" "$r" "$la"
	done
	printf '%-5s %-9s median %s msgs/s over %d runs\n\n' "$mode" "$place" \
		"$(printf '%s\n' "${rates[@]}" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}')" "$runs"
}

echo "1 KiB, one client, 2 s floods; node: $("$ordod" -c "$tmp/n1.conf" --check 2>/dev/null | grep -m1 "^idle")"
for place in unpinned one-cpu; do
	for mode in spin wait; do
		one_case "$mode" "$place"
	done
done
