#!/bin/sh
# check-config-docs.sh ORDOD DOC [--update] — the key reference in DOC
# (docs/ordod.md, between the "begin: ordod --keys" and "end: ordod --keys"
# markers) must be exactly what `ORDOD --keys` prints, so the documented
# keys, ranges and defaults cannot drift from the table the parser uses.
# --update rewrites that part of DOC instead of checking it.
set -eu
ordod=$1
doc=$2
begin='<!-- begin: ordod --keys'
end='<!-- end: ordod --keys -->'
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.doc" "$tmp.new"' EXIT
"$ordod" --keys >"$tmp"
grep -q "^$begin" "$doc" && grep -q "^$end" "$doc" || {
	echo "check-config-docs: $doc has no '$begin' ... '$end' markers" >&2
	exit 1
}
awk -v b="$begin" -v e="$end" 'index($0, e) == 1 { on = 0 } on { print } index($0, b) == 1 { on = 1 }' \
	"$doc" >"$tmp.doc"
if [ "${3:-}" = --update ]; then
	awk -v b="$begin" -v e="$end" -v f="$tmp" '
		index($0, e) == 1 { while ((getline l < f) > 0) print l; on = 0 }
		!on { print }
		index($0, b) == 1 { on = 1 }' "$doc" >"$tmp.new"
	cat "$tmp.new" >"$doc"
	echo "check-config-docs: $doc updated"
	exit 0
fi
if ! diff -u "$tmp.doc" "$tmp" >&2; then
	echo "check-config-docs: $doc differs from 'ordod --keys' (above: - the doc, + ordod);" \
		"run tests/unit/check-config-docs.sh build/apps/ordod docs/ordod.md --update" >&2
	exit 1
fi
echo "check-config-docs: $(grep -c '^| `' "$tmp") rows of $doc match ordod --keys"
