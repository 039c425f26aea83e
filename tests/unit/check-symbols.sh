#!/bin/sh
# check-symbols.sh — holds ring-proto to "libc only" (STYLE.md, Layers), and
# libordo (client/) to libc without DPDK, threads, clocks or sleeps.
#
# Owns: the allowlists of symbols a ring-proto object, and a client object
# (--client), may leave undefined.
# System headers resolve without any declared dependency, so the build alone
# cannot catch a stray malloc, clock read, printf or rte_ call; this script
# lists the undefined symbols of every object in the static library (nm -u)
# and fails on anything outside the allowlist.
#
# Never: widens the allowlist to make a failure go away. A symbol that is not
# pure computation (allocation, I/O, time, randomness, threads, DPDK, RCU)
# belongs in the engine, not in ring-proto. The client may allocate and use
# its socket, shared memory and file descriptors, nothing more.
#
# Usage: check-symbols.sh [--client] LIBRARY.a   (NM and AR override nm and ar)
# Exit:  0 all allowed, 1 offending symbols (listed), 2 usage or tool error.
set -eu

nm_bin=${NM:-nm}
ar_bin=${AR:-ar}

client=0
if [ "${1:-}" = --client ]; then
	client=1
	shift
fi
if [ "$#" -ne 1 ]; then
	echo "usage: $0 [--client] LIBRARY.a" >&2
	exit 2
fi
lib=$1
if [ ! -f "$lib" ]; then
	echo "check-symbols: $lib: no such file" >&2
	exit 2
fi

# Pure libc functions ring-proto may call, and what compilers emit on their
# own: stack protector, _FORTIFY_SOURCE variants of the allowed functions,
# libgcc/compiler-rt integer helpers, the GOT anchor of 32-bit PIC, and the
# sanitizer and coverage instrumentation of test builds.
allowed()
{
	case $1 in
	memcpy | memset | memmove | memcmp | abort) return 0 ;;
	__memcpy_chk | __memset_chk | __memmove_chk | __chk_fail) return 0 ;;
	__stack_chk_fail | __stack_chk_fail_local | __stack_chk_guard) return 0 ;;
	_GLOBAL_OFFSET_TABLE_) return 0 ;;
	__udiv?i3 | __div?i3 | __umod?i3 | __mod?i3 | __udivmod?i4 | __divmod?i4) return 0 ;;
	__mul?i3 | __ashl?i3 | __ashr?i3 | __lshr?i3) return 0 ;;
	__clz?i2 | __ctz?i2 | __popcount?i2 | __parity?i2 | __bswap?i2 | __ffs?i2) return 0 ;;
	__asan_* | __ubsan_* | __sanitizer_cov_* | __tsan_* | __msan_*) return 0 ;;
	__gcov_* | __llvm_profile_* | __llvm_gcov_*) return 0 ;;
	esac
	[ "$client" -eq 1 ] && client_allowed "$1"
}

# What libordo may use besides: memory, its control socket, the shared
# region and the descriptors a client sleeps on (docs/attach.md).
client_allowed()
{
	case $1 in
	malloc | calloc | realloc | free | strlen | snprintf | __errno_location | __snprintf_chk) return 0 ;;
	socket | connect | send | recv | recvmsg | setsockopt | read | write | close | getpid) return 0 ;;
	mmap | mmap64 | munmap | fstat | fstat64 | poll | epoll_create1 | epoll_ctl | epoll_wait) return 0 ;;
	esac
	return 1
}

objects=$("$ar_bin" t "$lib") || {
	echo "check-symbols: $ar_bin t $lib failed" >&2
	exit 2
}
object_count=$(printf '%s\n' "$objects" | grep -c . || true)
if [ "$object_count" -eq 0 ]; then
	echo "check-symbols: $lib holds no objects" >&2
	exit 2
fi

# POSIX format with the file name on every line:
#   lib.a[member.o]: symbol U
# awk turns that into "symbol lib.a[member.o]": a symbol never holds a space,
# and it is the next-to-last field whatever the path holds.
listing=$("$nm_bin" -A -P -u "$lib") || {
	echo "check-symbols: $nm_bin -A -P -u $lib failed" >&2
	exit 2
}
pairs=$(printf '%s\n' "$listing" | awk 'NF >= 3 {
	where = $0
	sub(/: [^:]*$/, "", where)
	print $(NF - 1), where
}')

# Symbols one object of the library defines and another uses are internal.
defined=$("$nm_bin" -P --defined-only "$lib" | awk 'NF >= 2 && $2 ~ /^[A-TV-Z]$/ { print $1 }' | sort -u) || {
	echo "check-symbols: $nm_bin --defined-only $lib failed" >&2
	exit 2
}

bad=""
seen=""
ref_count=0
nl='
'
while read -r sym where; do
	[ -n "$sym" ] || continue
	sym=${sym%%@*} # a versioned reference, memcpy@GLIBC_2.14
	if printf '%s\n' "$defined" | grep -qxF -- "$sym"; then
		continue
	fi
	ref_count=$((ref_count + 1))
	case " $seen " in
	*" $sym "*) ;;
	*) seen="${seen:+$seen }$sym" ;;
	esac
	if ! allowed "$sym"; then
		bad="$bad$where: $sym$nl"
	fi
done <<LISTING
$pairs
LISTING

if [ -n "$bad" ]; then
	echo "check-symbols: $lib uses symbols outside the libc allowlist:" >&2
	printf '%s' "$bad" | sort -u | sed 's/^/  /' >&2
	exit 1
fi

echo "check-symbols: $lib: $object_count objects, $ref_count undefined references (${seen:-none}), all in the libc allowlist"
exit 0
