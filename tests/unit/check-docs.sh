#!/bin/sh
# check-docs.sh ORDOD DOC OPTION [--update] — a reference table in DOC
# (docs/ordod.md, between the "begin: ordod OPTION" and "end: ordod OPTION"
# markers) must be exactly what `ORDOD OPTION` prints (--keys: every
# configuration key; --counters: every counter telemetry reports), so the
# documented keys, defaults and counters cannot drift from the tables the
# code uses. --update rewrites that part of DOC instead of checking it.
set -eu
ordod=$1
doc=$2
opt=$3
begin="<!-- begin: ordod $opt"
end="<!-- end: ordod $opt -->"
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.doc" "$tmp.new"' EXIT
"$ordod" "$opt" >"$tmp"
grep -q "^$begin" "$doc" && grep -q "^$end" "$doc" || {
	echo "check-docs: $doc has no '$begin' ... '$end' markers" >&2
	exit 1
}
awk -v b="$begin" -v e="$end" 'index($0, e) == 1 { on = 0 } on { print } index($0, b) == 1 { on = 1 }' \
	"$doc" >"$tmp.doc"
if [ "${4:-}" = --update ]; then
	awk -v b="$begin" -v e="$end" -v f="$tmp" '
		index($0, e) == 1 { while ((getline l < f) > 0) print l; on = 0 }
		!on { print }
		index($0, b) == 1 { on = 1 }' "$doc" >"$tmp.new"
	cat "$tmp.new" >"$doc"
	echo "check-docs: $doc updated from ordod $opt"
	exit 0
fi
if ! diff -u "$tmp.doc" "$tmp" >&2; then
	echo "check-docs: $doc differs from 'ordod $opt' (above: - the doc, + ordod);" \
		"run tests/unit/check-docs.sh build/apps/ordod docs/ordod.md $opt --update" >&2
	exit 1
fi
echo "check-docs: $(grep -c '^| `' "$tmp") rows of $doc match ordod $opt"
