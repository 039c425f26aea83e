#!/usr/bin/env bash
# proto-cost.sh — ring-proto's cost per ordered message in a 3-node in-memory
# ring, as time (Google Benchmark) and as instructions (callgrind).
#
# Usage: bench/proto-cost.sh [BUILD_DIR]   (default: build)
# Builds nothing: run `ninja -C BUILD_DIR` first. Needs valgrind and python3.
#
# 1. bench-proto --benchmark_min_time=0.2 (every BM_wire_* and BM_srp_*).
# 2. ring-cost SIZE under callgrind for 64, 1024 and 8192 B: 3 nodes x
#    PROTO_COST_MSGS (default 20000) messages each; only the measured run is
#    instrumented (--instr-atstart=no and client requests in ring-cost).
#    Each size twice: received frames copied into the stores, and lent
#    (RING_COST_LEND=1, docs/protocol.md §14).
# 3. A table per size: CPU ns per delivery and per ordered message (one
#    message = 3 deliveries, one at each node) from BM_srp_ring3_msg, and
#    instructions (callgrind Ir) per delivery and per message, total and the
#    part spent inside rp_step (the rest is ring_mem: frame copies, FIFO).
#
# Instructions are counted with glibc's memcpy forced to its vector loop
# (GLIBC_TUNABLES x86_rep_movsb_threshold): valgrind counts every iteration
# of `rep movsb` as one instruction, so with glibc's default (rep movsb above
# a few KiB) an 8 KiB frame copy would count ~8,900 "instructions" and the
# totals would measure bytes copied. PROTO_COST_ERMS=1 keeps glibc's default.
set -euo pipefail

build=${1:-build}
bench="$build/bench/bench-proto"
cost="$build/bench/ring-cost"
msgs=${PROTO_COST_MSGS:-20000}
sizes=(64 1024 8192)

for exe in "$bench" "$cost"; do
	if [ ! -x "$exe" ]; then
		echo "proto-cost: $exe not found; build it first: ninja -C $build" >&2
		exit 1
	fi
done
for tool in valgrind callgrind_annotate python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "proto-cost: $tool not found (Debian: apt-get install valgrind python3)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tunables=${GLIBC_TUNABLES:-}
if [ "${PROTO_COST_ERMS:-0}" != 1 ]; then
	tunables="${tunables:+$tunables:}glibc.cpu.x86_rep_movsb_threshold=2147483647"
fi

echo "== bench-proto --benchmark_min_time=0.2"
"$bench" --benchmark_min_time=0.2 --benchmark_out="$tmp/bench.json" \
	--benchmark_out_format=json

for size in "${sizes[@]}"; do
	for lend in 0 1; do
		k=$size.$lend
		echo "== callgrind: ring-cost $size $msgs (lent frames: $lend)"
		if ! RING_COST_LEND=$lend GLIBC_TUNABLES="$tunables" valgrind --tool=callgrind \
			--instr-atstart=no --callgrind-out-file="$tmp/cg.$k" "$cost" "$size" "$msgs" \
			>"$tmp/out.$k" 2>"$tmp/vg.$k"; then
			cat "$tmp/out.$k" "$tmp/vg.$k" >&2
			echo "proto-cost: ring-cost $size failed" >&2
			exit 1
		fi
		callgrind_annotate --inclusive=yes "$tmp/cg.$k" >"$tmp/ann.$k"
	done
done

python3 - "$tmp" "${sizes[@]}" <<'PY'
import json, re, sys

tmp, sizes = sys.argv[1], sys.argv[2:]
to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

bench = {}
with open(f"{tmp}/bench.json") as f:
    for b in json.load(f)["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            bench[b["name"]] = b

def bm(name):
    b = bench.get(name)
    if b is None or b.get("error_occurred"):
        return None
    return b

def counter_ns(b, key):
    """A user counter in seconds per item (an inverted rate), in ns."""
    return None if b is None or key not in b else b[key] * 1e9

def ir_total(path):
    """Ir of the instrumented region: the 'totals:' line (or 'summary:')."""
    found = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"(totals|summary):\s+(\d+)", line)
            if m:
                found[m.group(1)] = int(m.group(2))
    return found.get("totals") or found.get("summary") or 0

def ir_inclusive(path, function):
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*:" + function + r"\s", line)
            if m:
                return int(m.group(1).replace(",", ""))
    return 0

def fmt(v, spec):
    return "-" if v is None else format(v, spec)

rows = []
for size in sizes:
    for lend in ("0", "1"):
        k = f"{size}.{lend}"
        b = bm(f"BM_srp_ring3_msg/size:{size}/lend:{lend}")
        ns_d = counter_ns(b, "time_per_delivery")
        out = {}
        with open(f"{tmp}/out.{k}") as f:
            for line in f:
                key, _, v = line.partition(" ")
                out[key] = v.strip()
        deliveries = int(out.get("deliveries", "0"))
        total = ir_total(f"{tmp}/cg.{k}")
        in_step = ir_inclusive(f"{tmp}/ann.{k}", "rp_step")
        ir_d = total / deliveries if deliveries else None
        step_d = in_step / deliveries if deliveries and in_step else None
        rows.append((size, "lent" if lend == "1" else "copied", ns_d,
                     None if ns_d is None else 3 * ns_d, ir_d, step_d,
                     None if ir_d is None else 3 * ir_d, deliveries))

print()
print("ring-proto cost per message, 3-node in-memory ring, AGREED, all nodes sending")
print("(a message is ordered once and delivered 3 times: Ir/msg = 3 x Ir/delivery;")
print(" received frames copied into each node's store, or lent to it: docs/protocol.md §14)")
print()
print(f"{'size':>6} {'frames':>7} {'ns/delivery':>12} {'ns/msg':>9} {'Ir/delivery':>12} "
      f"{'rp_step Ir/dlv':>15} {'Ir/msg':>9} {'deliveries':>11}")
for size, mode, ns_d, ns_m, ir_d, step_d, ir_m, n in rows:
    print(f"{size:>6} {mode:>7} {fmt(ns_d, '12.1f')} {fmt(ns_m, '9.1f')} {fmt(ir_d, '12.0f')} "
          f"{fmt(step_d, '15.0f')} {fmt(ir_m, '9.0f')} {n:>11}")

def bm_ns(name):
    b = bm(name)
    return None if b is None else b["cpu_time"] * to_ns[b.get("time_unit", "ns")]

step = bm_ns("BM_srp_token_step")
rot = bm("BM_srp_token_rotation")
rot_ns = counter_ns(rot, "time_per_step")
print()
print(f"token step (idle 3-node ring, replayed): {fmt(step, '.1f')} ns; "
      f"per step in a real idle rotation, transport copy included: {fmt(rot_ns, '.1f')} ns")
failed = [n for n, b in bench.items() if b.get("error_occurred")]
if failed:
    print("benchmarks that reported an error: " + ", ".join(failed))
    sys.exit(1)
PY
