#!/bin/sh
# The command line's contract: an invalid combination of options is refused
# with exit 2 and a message (never a crash), and a sweep stopped by SIGTERM
# still prints the verdicts it has and where it stopped.
set -u
sim=$1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$sim" --seeds 1..3 --quorum two_node --faults all 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "two_node with a random topology: exit $rc, want 2: $out"
echo "$out" | grep -q "two_node needs --nodes 2" || fail "two_node with a random topology: no message: $out"
out=$("$sim" --seed 1 --nodes 3 --quorum two_node 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "two_node with 3 nodes: exit $rc, want 2: $out"

log=$(mktemp)
"$sim" --seeds 1..100000 --faults net >"$log" 2>&1 &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
rc=$?
out=$(cat "$log")
rm -f "$log"
[ "$rc" -eq 143 ] || fail "SIGTERM: exit $rc, want 143: $out"
echo "$out" | grep -q "stopped by signal 15 during seed" || fail "SIGTERM: where it stopped not printed: $out"
echo "$out" | grep -q "passed, [0-9]* failed (interrupted)" || fail "SIGTERM: no verdict count: $out"
echo "options refused with exit 2; a killed sweep reported: $(echo "$out" | tail -1)"
