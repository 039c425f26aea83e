#!/usr/bin/env bash
# net-cost.sh — instructions per frame that the udp4 / udp6 transports add
# beyond the L2 transport (pmd-glue/pmdg_net.c, software checksums): a
# sender's part for one destination (a token, or one datagram to the ring's
# multicast group), for a frame to both other nodes of a 3-node ring by
# unicast (the payload summed once, two headers), and a receiver's decode
# with the checksums verified. Counted by callgrind (bench/net_cost.c), so
# the numbers do not drift with the machine's load.
#
# Usage: bench/net-cost.sh [BUILD_DIR]   (default: build; run ninja first)
set -euo pipefail
build=${1:-build}
cost="$build/bench/net-cost"
n=${NET_COST_FRAMES:-2000}
[ -x "$cost" ] || { echo "net-cost.sh: no $cost (valgrind/callgrind.h missing at build time?)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ir() { # op v size -> instructions per frame
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/out" "$cost" "$1" "$2" "$3" "$n" \
		>/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	local total
	total=$(callgrind_annotate "$tmp/out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
	echo $(( (total + n / 2) / n ))
}
printf '%-6s %7s %18s %22s %16s\n' "" "bytes" "send, 1 dest" "send, 2 dests (fan-out)" "receive"
for v in 4 6; do
	for size in 64 1024 8952; do
		printf '%-6s %7s %18s %22s %16s\n' "udp$v" "$size" "$(ir send1 $v $size)" "$(ir send2 $v $size)" "$(ir recv $v $size)"
	done
done
echo "(instructions per frame, callgrind Ir, $n frames each; software checksums as on af_packet)"
