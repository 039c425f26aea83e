#!/bin/sh
# check-client-example.sh SRCDIR BUILDDIR — examples/hello.c is the program
# ordo(3) shows, and it builds as include/README.md says against a build
# directory that is not installed (pkg-config's uninstalled ordo, cc,
# every warning an error) and links libordo, and says why when it cannot
# attach. Attaching for real needs a node: the integration suites attach
# real clients.
set -eu
src=$1
build=$2
dir=$(mktemp -d /tmp/ordo-client-example.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# the page's literal block, unescaped, is the file
sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$src/man/ordo.3" |
	sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed '1d;$d' | sed 's/\\e/\\/g' >"$dir/page.c"
diff -u "$src/examples/hello.c" "$dir/page.c" >"$dir/diff" ||
	fail "man/ordo.3's EXAMPLES differs from examples/hello.c: $(cat "$dir/diff")"

flags=$(PKG_CONFIG_PATH="$build/meson-uninstalled" pkg-config --cflags --libs ordo-uninstalled) ||
	fail "pkg-config ordo-uninstalled: not found in $build/meson-uninstalled"
# shellcheck disable=SC2086 # the flags are words
cc -std=c11 -Wall -Wextra -Werror "$src/examples/hello.c" $flags -o "$dir/hello" ||
	fail "cc examples/hello.c \$(pkg-config --cflags --libs ordo-uninstalled) failed"
LD_LIBRARY_PATH="$build/client" ldd "$dir/hello" | grep -q "$build/client/libordo.so" ||
	fail "the program does not load $build/client/libordo.so: $(LD_LIBRARY_PATH="$build/client" ldd "$dir/hello")"
# attaching fails with the reason (ORDO_ECONNECT's errno): no socket there,
# and a file that is not a socket
out=$(LD_LIBRARY_PATH="$build/client" "$dir/hello" "$dir/no-node.sock" 2>&1) && fail "attached to no node: $out"
echo "$out" | grep -q "^attach $dir/no-node.sock: cannot attach to the node: No such file or directory$" ||
	fail "no socket: it says '$out'"
: >"$dir/not-a-socket"
out=$(LD_LIBRARY_PATH="$build/client" "$dir/hello" "$dir/not-a-socket" 2>&1) && fail "attached to a file: $out"
echo "$out" | grep -q "^attach $dir/not-a-socket: cannot attach to the node: Connection refused$" ||
	fail "not a socket: it says '$out'"
echo "examples/hello.c = ordo(3)'s example; it builds against $build as documented"
