#!/usr/bin/env bash
# crypto-cost.sh — frame security's cost per frame in instructions (callgrind
# Ir), which do not drift with the machine's load: seal and open, AES-256-GCM
# and ChaCha20-Poly1305, at 64 B, 1 KiB and the largest frames at MTU 1500
# and 9000 (docs/performance.md §8).
#
# Usage: bench/crypto-cost.sh [BUILD_DIR]   (default: build; run ninja first)
#
# Under valgrind the CPU it reports is valgrind's: OpenSSL picks its AES-NI
# and AVX2 code, not AVX-512/VAES, so on a CPU with VAES the native cost is
# lower than these counts suggest; compare ciphers and sizes, and use
# build/bench/bench-crypto for time. glibc's memcpy is held to its vector
# loop (as in proto-cost.sh): valgrind counts each `rep movsb` iteration as
# an instruction.
set -euo pipefail

build=${1:-build}
cost="$build/bench/crypto-cost"
count=${CRYPTO_COST_FRAMES:-2000}
if [ ! -x "$cost" ]; then
	echo "crypto-cost: $cost not found; build it first: ninja -C $build" >&2
	exit 1
fi
command -v valgrind >/dev/null || { echo "crypto-cost: valgrind not found" >&2; exit 1; }
tunables="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.cpu.x86_rep_movsb_threshold=2147483647"
dir=$(mktemp -d /tmp/ordo-crypto-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
printf '%-18s %-8s %6s %14s %14s %12s\n' cipher crypto bytes "Ir per seal" "Ir per open" "Ir per byte"
for cipher in aes256-gcm chacha20-poly1305; do
	for spec in "encrypt 64" "encrypt 1024" "encrypt 1472" "encrypt 8972" "auth 1024" "auth 8972"; do
		set -- $spec
		[ "$cipher" = chacha20-poly1305 ] && [ "$1" = auth ] && continue
		rm -f "$dir"/cg.*
		GLIBC_TUNABLES="$tunables" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg.%p" \
			"$cost" "$cipher" "$1" "$2" "$count" >/dev/null 2>"$dir/log" || {
			cat "$dir/log" >&2
			exit 1
		}
		seal=$(grep -h -A30 '^desc: Trigger: Client Request: seal' "$dir"/cg.* | sed -n 's/^summary: //p' | head -1)
		open=$(grep -h -A30 '^desc: Trigger: Client Request: open' "$dir"/cg.* | sed -n 's/^summary: //p' | head -1)
		if [ -z "$seal" ] || [ -z "$open" ]; then
			echo "crypto-cost: no callgrind dumps for $cipher $spec" >&2
			exit 1
		fi
		printf '%-18s %-8s %6s %14.0f %14.0f %12.2f\n' "$cipher" "$1" "$2" \
			"$(echo "$seal / $count" | bc -l)" "$(echo "$open / $count" | bc -l)" \
			"$(echo "($seal + $open) / $count / 2 / $2" | bc -l)"
	done
done
