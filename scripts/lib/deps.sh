# scripts/lib/deps.sh — installs the Debian 12 packages ordo builds and tests
# with, only when one is missing. Sourced by scripts/test and scripts/demo.
ORDO_DEPS=(meson ninja-build pkg-config gcc g++ libdpdk-dev liburcu-dev
	libbenchmark-dev libcmocka-dev libssl-dev libsystemd-dev libjansson-dev libmicrohttpd-dev prometheus clang libclang-rt-14-dev valgrind python3 iproute2 iputils-ping
	nftables groff-base systemd)

ordo_ensure_deps() {
	local missing=()
	for p in "${ORDO_DEPS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: missing packages and not root; run as root or install: ${missing[*]}" >&2
		return 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Runs a build step quietly; if it fails, shows its output and says so.
ordo_quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" | tail -n 60 >&2
		echo "error: build step failed: $*" >&2
		return 1
	fi
}

# Configures (once) and builds a build directory; extra arguments go to
# meson setup (e.g. -Dfuzz=true).
ordo_build() {
	local dir=${1:-build}
	shift || true
	if [ ! -f "$dir/build.ninja" ]; then
		ordo_quiet meson setup "$dir" "$@" || return 1
	fi
	ordo_quiet ninja -C "$dir"
}
