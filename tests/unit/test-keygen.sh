#!/bin/sh
# test-keygen.sh — apps/ordo-keygen: a new key file has mode 0400 and 64
# random bytes, is not overwritten without -f, is replaced with -f (another
# key), and --show prints the fingerprint the writer printed; a
# world-readable key file is refused by name.
set -eu
keygen=$1
dir=$(mktemp -d /tmp/ordo-keygen-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$keygen" -o "$dir/key") || fail "first key: exit $?"
mode=$(stat -c %a "$dir/key")
size=$(stat -c %s "$dir/key")
[ "$mode" = 400 ] || fail "mode $mode, expected 400"
[ "$size" = 64 ] || fail "size $size, expected 64"
fp1=$(echo "$out" | sed -n 's/.*fingerprint \([0-9a-f]*\).*/\1/p')
[ -n "$fp1" ] || fail "no fingerprint in: $out"
show=$("$keygen" --show "$dir/key") || fail "--show: exit $?"
echo "$show" | grep -q "fingerprint $fp1" || fail "--show says '$show', writer said $fp1"

if "$keygen" -o "$dir/key" 2>"$dir/err"; then fail "overwrote without -f"; fi
grep -q -- "-f replaces it" "$dir/err" || fail "no reason given: $(cat "$dir/err")"
[ "$("$keygen" --show "$dir/key")" = "$show" ] || fail "the key changed after a refusal"

out2=$("$keygen" -o "$dir/key" -f) || fail "-f: exit $?"
fp2=$(echo "$out2" | sed -n 's/.*fingerprint \([0-9a-f]*\).*/\1/p')
[ "$fp2" != "$fp1" ] || fail "-f wrote the same key"
[ "$(stat -c %a "$dir/key")" = 400 ] || fail "mode after -f"
[ "$(ls "$dir" | wc -l)" = 2 ] || fail "files left behind: $(ls "$dir")"

chmod 0644 "$dir/key"
if "$keygen" --show "$dir/key" 2>"$dir/err"; then fail "accepted a world-readable key"; fi
grep -q "chmod 0400" "$dir/err" || fail "no reason given: $(cat "$dir/err")"
echo "ordo-keygen: mode, size, refusal, replacement, fingerprint, permission check: ok"
