#!/bin/sh
# check-examples.sh ORDOD KEYGEN EXAMPLE... — every example configuration
# (examples/, installed under share/doc/ordo/examples) is accepted by
# `ordod --check` as written, but for its key_file, which is replaced with a
# fresh key of ordo-keygen (the examples name /etc/ordo/authkey, which this
# machine need not have). The examples must form one ring: distinct node ids,
# and the same [ring] section in every one.
set -eu
ordod=$1
keygen=$2
shift 2
dir=$(mktemp -d /tmp/ordo-examples-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$keygen" -o "$dir/authkey" >/dev/null
ids=
for ex in "$@"; do
	name=$(basename "$ex")
	grep -q '^key_file = /etc/ordo/authkey' "$ex" || fail "$name: no key_file = /etc/ordo/authkey"
	sed "s|/etc/ordo/authkey|$dir/authkey|" "$ex" >"$dir/$name"
	"$ordod" -c "$dir/$name" --check >"$dir/$name.out" 2>"$dir/$name.err" ||
		fail "$name: ordod --check: $(cat "$dir/$name.err")"
	id=$(sed -n '/^\[node\]/,/^\[/s/^id = //p' "$dir/$name.out")
	case " $ids " in *" $id "*) fail "$name: node id $id twice" ;; esac
	ids="$ids $id"
	sed -n '/^\[ring\]/,/^$/p' "$dir/$name.out" >"$dir/$name.ring"
	cmp -s "$dir/$name.ring" "$dir/$(basename "$1").ring" ||
		fail "$name: [ring] differs from $(basename "$1")'s: $(diff "$dir/$(basename "$1").ring" "$dir/$name.ring")"
	echo "# $name: accepted, node $id"
done
nodes=$(sed -n 's/^nodes = //p' "$dir/$(basename "$1").ring")
[ "$(echo "$nodes" | tr ',' ' ' | wc -w)" = "$#" ] || fail "[ring] nodes = $nodes, but $# examples"
echo "# $# examples form one ring: nodes $nodes"
