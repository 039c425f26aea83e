#!/bin/sh
# Runs every seed of regressions.txt; ends with "N passed, M failed".
set -u
sim=$1
list=$2
pass=0
fail=0
while read -r line; do
	case "$line" in '' | '#'*) continue ;; esac
	# shellcheck disable=SC2086
	if "$sim" $line >/tmp/ordo-regress.$$ 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		cat /tmp/ordo-regress.$$
	fi
done <"$list"
rm -f /tmp/ordo-regress.$$
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
