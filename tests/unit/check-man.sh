#!/bin/sh
# check-man.sh ORDOD PAGE... — the manual pages render without a single
# groff warning (mdoc, every warning on), and ordo.conf(5) lists every key
# `ordod --keys` prints, each once. Skipped (77) without groff.
set -eu
ordod=$1
shift
command -v groff >/dev/null || { echo "groff not found: skipped"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for page in "$@"; do
	LC_ALL=C.UTF-8 groff -mandoc -Tutf8 -ww -z "$page" >"$tmp" 2>&1 || fail "$page: groff failed: $(cat "$tmp")"
	[ ! -s "$tmp" ] || fail "$page: $(cat "$tmp")"
	echo "# $(basename "$page"): no warnings"
	case "$page" in
	*ordo.conf.5)
		"$ordod" --keys | sed -n 's/^| `[a-zN]*` | `\([a-z_0-9]*\)` |.*/\1/p' | sort >"$tmp"
		n=$(wc -l <"$tmp")
		[ "$n" -gt 40 ] || fail "ordod --keys printed only $n keys"
		sed -n 's/^\.It Cm \([a-z_0-9]*\)$/\1/p' "$page" | sort | diff "$tmp" - >/dev/null ||
			fail "$page and ordod --keys differ: $(sed -n 's/^\.It Cm \([a-z_0-9]*\)$/\1/p' "$page" | sort | diff "$tmp" -)"
		echo "# $(basename "$page"): all $n keys of ordod --keys"
		;;
	esac
done
