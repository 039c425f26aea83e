#!/bin/sh
# check-readme.sh ORDOD KEYGEN README — README.md's "Running a ring" writes
# the key and the three nodes' configuration files with a shell block
# (between the "begin: README ring" and "end: README ring" markers). Run as
# written, with /etc/ordo and /var/lib/ordo moved to a scratch directory and
# build/apps/ to the programs under test, it must end without an error, and
# every file it writes must pass `ordod --check` as node 1, 2 or 3 of one ring.
set -eu
ordod=$1
keygen=$2
readme=$3
dir=$(mktemp -d /tmp/ordo-readme-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

awk '/^<!-- end: README ring/ { on = 0 } on && !/^```/ { print } /^<!-- begin: README ring/ { on = 1 }' \
	"$readme" >"$dir/block.sh"
[ -s "$dir/block.sh" ] || fail "$readme: no 'begin: README ring' ... 'end: README ring' block"
sed -e "s|/etc/ordo|$dir/etc|g" -e "s|/var/lib/ordo|$dir/lib|g" \
	-e "s|build/apps/ordo-keygen|$keygen|g" -e "s|build/apps/ordod|$ordod|g" "$dir/block.sh" >"$dir/run.sh"
grep -q 'build/apps/' "$dir/run.sh" && fail "the block runs a program this test does not know: $(grep 'build/apps/' "$dir/run.sh")"
sh -e "$dir/run.sh" >"$dir/out" 2>&1 || fail "the block, run as written: $(cat "$dir/out")"
for i in 1 2 3; do
	[ -f "$dir/etc/n$i.conf" ] || fail "the block wrote no /etc/ordo/n$i.conf"
	"$ordod" -c "$dir/etc/n$i.conf" --check >"$dir/n$i.out" 2>"$dir/n$i.err" ||
		fail "n$i.conf: ordod --check: $(cat "$dir/n$i.err")"
	id=$(sed -n '/^\[node\]/,/^\[/s/^id = //p' "$dir/n$i.out")
	[ "$id" = "$i" ] || fail "n$i.conf is node '$id', not $i"
	sed -n '/^\[ring\]/,/^$/p' "$dir/n$i.out" >"$dir/n$i.ring"
	cmp -s "$dir/n1.ring" "$dir/n$i.ring" || fail "n$i.conf's [ring] differs from n1.conf's"
done
echo "# README's block writes a key and n1..n3.conf that ordod --check accepts as one ring"
