#!/bin/sh
# test-install.sh BUILDDIR SRCDIR CC... — what `meson install` delivers, used
# as an application would: installs BUILDDIR into a temporary DESTDIR, checks
# that the programs, the systemd unit, the manual pages, the examples, the
# headers and both pkg-config files are there; that each library defines
# every function its headers declare (libordo: ordo.h; libordo-inproc:
# ordo.h and ordo_inproc.h) and that ordo.h alone declares no in-process
# function; builds install_app.c against ordo.pc, and with -DINPROC against
# ordo-inproc.pc (nothing but the installed files and pkg-config);
# then, as root, runs the installed ordod on DPDK's null PMD with the client
# attached (under setpriv: the unit's capability bounding set and no new
# privileges), stops it with SIGTERM (exit 0, DPDK's runtime directory
# gone), and runs the in-process program the same way.
set -eu
build=$(realpath "$1")
src=$(realpath "$2")
shift 2
cc="$*"
dir=$(mktemp -d /tmp/ordo-install-test.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

D=$dir/destdir
meson install -C "$build" --no-rebuild --destdir "$D" --quiet >"$dir/install.log" 2>&1 ||
	fail "meson install: $(cat "$dir/install.log")"
opt() {
	meson introspect "$build" --buildoptions |
		python3 -c 'import json, sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}
abs() { case "$1" in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
prefix=$(opt prefix)
bindir=$(abs "$(opt bindir)")
sbindir=$(abs "$(opt sbindir)")
libdir=$(abs "$(opt libdir)")
includedir=$(abs "$(opt includedir)")
mandir=$(abs "$(opt mandir)")
docdir=$(abs "$(opt datadir)")/doc/ordo
unitdir=$(opt systemd_unit_dir)
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system

# ---- what is installed ----
want="$sbindir/ordod $bindir/ordo-keygen $bindir/ordo-pub $bindir/ordo-sub
	$unitdir/ordod@.service $mandir/man8/ordod.8 $mandir/man5/ordo.conf.5 $mandir/man3/ordo.3
	$docdir/examples/n1.conf $docdir/examples/n2.conf $docdir/examples/n3.conf
	$docdir/examples/ordod@n1.service.d/cpus.conf
	$includedir/ordo.h $includedir/ordo_inproc.h
	$libdir/libordo.so $libdir/libordo-inproc.so
	$libdir/pkgconfig/ordo.pc $libdir/pkgconfig/ordo-inproc.pc"
# ordoctl and its page, once the build has them
[ -x "$build/apps/ordoctl" ] && want="$want $sbindir/ordoctl $mandir/man8/ordoctl.8"
n=0
for f in $want; do
	[ -e "$D$f" ] || fail "not installed: $f"
	n=$((n + 1))
done
for f in ordod ordo-keygen ordoctl; do
	[ ! -e "$D$f" ] || [ -x "$D$f" ] || fail "$f is not executable"
done
grep -q "^ExecStart=$sbindir/ordod " "$D$unitdir/ordod@.service" || fail "the unit does not start $sbindir/ordod"
echo "# meson install --destdir: all $n files in place (prefix $prefix)"

# ---- each library defines what its headers declare ----
decls() { sed -n 's/^[a-z].*[ *]\(ordo_[a-z_]*\)(.*/\1/p' "$@" | sort -u; }
defs() { nm -D --defined-only "$1" | awk '{ print $3 }' | sed 's/@.*//' | grep '^ordo_' | sort -u; }
decls "$D$includedir/ordo.h" >"$dir/client.h.syms"
decls "$D$includedir/ordo.h" "$D$includedir/ordo_inproc.h" >"$dir/inproc.h.syms"
[ "$(wc -l <"$dir/client.h.syms")" -ge 12 ] || fail "ordo.h: only $(wc -l <"$dir/client.h.syms") functions found"
defs "$D$libdir/libordo.so" >"$dir/client.so.syms"
defs "$D$libdir/libordo-inproc.so" >"$dir/inproc.so.syms"
missing=$(comm -23 "$dir/client.h.syms" "$dir/client.so.syms")
[ -z "$missing" ] || fail "ordo.h declares what libordo.so lacks: $missing"
missing=$(comm -23 "$dir/inproc.h.syms" "$dir/inproc.so.syms")
[ -z "$missing" ] || fail "ordo_inproc.h and ordo.h declare what libordo-inproc.so lacks: $missing"
! grep -q "ordo_engine" "$dir/client.h.syms" || fail "ordo.h declares in-process functions"
nm -D --defined-only "$D$libdir/libordo-inproc.so" | awk '{ print $3 }' | grep -v '^ordo_\|^ORDO_' >"$dir/leak" || true
[ ! -s "$dir/leak" ] || fail "libordo-inproc.so exports more than ordo_*: $(head -5 "$dir/leak")"
echo "# libordo.so defines the $(wc -l <"$dir/client.h.syms") functions of ordo.h;" \
	"libordo-inproc.so the $(wc -l <"$dir/inproc.h.syms") of ordo.h and ordo_inproc.h, and exports nothing else"

# ---- build against the installed .pc files ----
mkdir "$dir/pc"
for pc in ordo ordo-inproc; do
	sed "s|^prefix=.*|prefix=$D$prefix|" "$D$libdir/pkgconfig/$pc.pc" >"$dir/pc/$pc.pc"
done
export PKG_CONFIG_PATH="$dir/pc"
flags_client=$(pkg-config --cflags --libs ordo)
flags_inproc=$(pkg-config --cflags --libs ordo-inproc)
case "$flags_client $flags_inproc" in *dpdk* | *rte_* | *march*) fail "DPDK in an application's flags: $flags_client | $flags_inproc" ;; esac
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -o "$dir/install_client" "$src/tests/api/install_app.c" $flags_client ||
	fail "install_app.c does not build with pkg-config ordo"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -DINPROC -o "$dir/install_inproc" "$src/tests/api/install_app.c" $flags_inproc ||
	fail "install_app.c -DINPROC does not build with pkg-config ordo-inproc"
readelf -d "$dir/install_client" | grep NEEDED >"$dir/needed"
grep -q 'libordo.so.0' "$dir/needed" || fail "install_client does not need libordo.so.0"
! grep -q 'librte_' "$dir/needed" || fail "a libordo client links DPDK: $(cat "$dir/needed")"
# ordo.h alone does not declare in-process mode
printf '#include <ordo.h>\nint main(void) { return ordo_engine_start("x", 0); }\n' >"$dir/wrong.c"
# shellcheck disable=SC2086
if $cc -std=c11 -Werror=implicit-function-declaration -c -o "$dir/wrong.o" "$dir/wrong.c" \
	$(pkg-config --cflags ordo) 2>/dev/null; then
	fail "ordo.h declares ordo_engine_start"
fi
echo "# built against pkg-config ordo: $flags_client"
echo "# built against pkg-config ordo-inproc: $flags_inproc"

# ---- run them ----
if [ "$(id -u)" -ne 0 ]; then
	echo "not root: the EAL cannot start; installed files checked, nothing run"
	exit 0
fi
export LD_LIBRARY_PATH="$D$libdir"
run=/var/run/dpdk
conf() { # FILE PREFIX [LCORES]
	cat >"$1" <<CONF
[node]
id = 1
state_dir = $dir/state-$2
socket = $dir/$2.sock
[eal]
file_prefix = $2
${3:+lcores = $3}
[ring]
id = 9
nodes = 1
[path0]
device = net_null0,no-rx=1
CONF
}
p1=ordo-install-$$-d
conf "$dir/daemon.conf" "$p1"
# with only the capabilities the unit leaves it, and no new privileges
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$D$unitdir/ordod@.service" | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
setpriv --bounding-set "-all,$caps" --inh-caps=-all --no-new-privs \
	"$D$sbindir/ordod" -c "$dir/daemon.conf" >"$dir/ordod.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$dir/$p1.sock" ]; do
	kill -0 "$pid" 2>/dev/null || fail "ordod exited: $(cat "$dir/ordod.log")"
	[ $i -lt 200 ] || fail "no control socket after 20 s: $(cat "$dir/ordod.log")"
	sleep 0.1
	i=$((i + 1))
done
[ -d "$run/$p1" ] || fail "no $run/$p1 while ordod runs"
"$dir/install_client" "$dir/$p1.sock" || fail "install_client against the installed ordod"
kill -TERM "$pid"
st=0
wait "$pid" || st=$?
pid=
[ "$st" = 0 ] || fail "ordod exited $st after SIGTERM: $(tail -5 "$dir/ordod.log")"
[ ! -e "$run/$p1" ] || fail "$run/$p1 is still there after a clean stop: $(ls "$run/$p1")"
echo "# the installed ordod ran with the unit's capabilities only ($caps), served the client," \
	"stopped with status 0 and removed $run/$p1"

p2=ordo-install-$$-i
conf "$dir/inproc.conf" "$p2" "0@(0-1),1@(0-1)"
"$dir/install_inproc" "$dir/inproc.conf" || fail "install_inproc"
[ ! -e "$run/$p2" ] || fail "$run/$p2 is still there after ordo_engine_stop"
echo "# the in-process program ran an engine and removed $run/$p2 at ordo_engine_stop"
