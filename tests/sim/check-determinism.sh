#!/bin/sh
# Runs the same seeds twice and requires identical verdict lines (each line
# carries the run's trace digest), proving a run is a function of its arguments.
set -eu
sim=$1
for faults in net memb all pause; do for seed in 7 42 1234; do
  a=$("$sim" --seed $seed --nodes 5 --paths 2 --faults $faults)
  b=$("$sim" --seed $seed --nodes 5 --paths 2 --faults $faults)
  if [ "$a" != "$b" ]; then
    echo "seed $seed is not deterministic:"; echo "  $a"; echo "  $b"; exit 1
  fi
  echo "$a" | grep -q 'digest=' || { echo "no digest in: $a"; exit 1; }
done; done
echo "3 seeds x 3 fault models replayed with identical digests"
