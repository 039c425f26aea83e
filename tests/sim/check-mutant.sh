#!/bin/sh
# check-mutant.sh PROPERTY ORDO-SIM ARGS...: the mutant sweep must fail, and
# some failing seed must name PROPERTY (a mutant caught by another property
# does not show that this one is checked).
set -u
want=$1
shift
out=$("$@" 2>&1)
rc=$?
echo "$out" | tail -5
if [ "$rc" -eq 0 ]; then
	echo "mutant not caught: the sweep passed"
	exit 1
fi
if ! echo "$out" | grep -q "FAIL property=$want:"; then
	echo "mutant caught, but no seed failed property=$want"
	exit 1
fi
echo "caught: $(echo "$out" | grep -c "FAIL property=$want:") seed(s) failed property=$want"
