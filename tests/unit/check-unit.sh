#!/bin/sh
# check-unit.sh UNIT ORDOD DROPIN — the systemd unit ordod@.service, as
# built, passes `systemd-analyze verify` for an instance (ordod@n1) with the
# example drop-in (examples/ordod@n1.service.d/cpus.conf) loaded: no unknown
# key, no bad value, an executable ExecStart (the unit's ordod is replaced
# with the build's, which exists before installation). Any message fails
# the test. Prints systemd's exposure score for the hardening section.
# Skipped (77) without systemd-analyze.
set -eu
unit=$1
ordod=$2
dropin=$3
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found: skipped"; exit 77; }
dir=$(mktemp -d /tmp/ordo-unit-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in $unit"
sed "s|^ExecStart=$exec_start |ExecStart=$(realpath "$ordod") |" "$unit" >"$dir/ordod@.service"
mkdir "$dir/ordod@n1.service.d"
cp "$dropin" "$dir/ordod@n1.service.d/"
# the unit's directory first, so that the drop-in is read
SYSTEMD_UNIT_PATH="$dir:" systemd-analyze verify --man=no "$dir/ordod@n1.service" >"$dir/out" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$dir/out")"
[ ! -s "$dir/out" ] || fail "systemd-analyze verify said: $(cat "$dir/out")"
# the drop-in was read: a bad key in it must be reported
echo "CPUAffinty=1" >>"$dir/ordod@n1.service.d/$(basename "$dropin")"
SYSTEMD_UNIT_PATH="$dir:" systemd-analyze verify --man=no "$dir/ordod@n1.service" >"$dir/out2" 2>&1 || true
grep -q "Unknown key 'CPUAffinty'" "$dir/out2" || fail "the drop-in was not read: $(cat "$dir/out2")"
echo "# ordod@n1.service with $(basename "$dropin"): systemd-analyze verify is silent"
SYSTEMD_UNIT_PATH="$dir:" systemd-analyze security --offline=yes "$dir/ordod@n1.service" 2>/dev/null |
	sed -n 's/^→ /# /p' || true
