#!/bin/sh
# Install every Debian package markbook needs to build, grade and test, and
# set up the unprivileged user the sandbox runs as. Safe to run again: it only
# does what is missing. `--check` only reports, exiting 1 when anything is.
set -eu

SANDBOX_USER=markbook-sandbox
SANDBOX_HOME=/var/lib/$SANDBOX_USER

# clang and libclang-rt-14-dev: make test-asan and make fuzz; valgrind: the
# memcheck test of make test; python3-pytest-xdist: the end-to-end tests run
# several at a time (they mostly wait on sandboxes and clocks). libssl-dev: civetweb dlopen()s "libssl.so" for
# markbook serve --tls; openssl: tools/make-cert.
PACKAGES="gcc make libsqlite3-dev libcivetweb-dev libcjson-dev libcrypt-dev
firejail python3 python3-pytest python3-pytest-timeout python3-pytest-xdist
python3-numpy python3-pandas python3-matplotlib sqlite3 procps
clang libclang-rt-14-dev valgrind openssl libssl-dev"

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
# The browser tests: Debian's chromium, driven by playwright-core from npm
# (tests/browser/package-lock.json). A Node.js from elsewhere (with its own
# npm) is kept: only a missing command brings Debian's package.
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
BROWSER_DIR=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
# playwright-core is pinned to the newest version that runs on Debian 12's
# Node.js 18 (later ones need Node 20): npm ci installs exactly the lock's,
# also over a newer one left in node_modules.
locked_version() {
	sed -n '/"node_modules\/playwright-core": {/,/"version"/s/.*"version": "\([^"]*\)".*/\1/p' \
		"$BROWSER_DIR/package-lock.json"
}
installed_version() {
	sed -n 's/^  "version": "\([^"]*\)".*/\1/p' \
		"$BROWSER_DIR/node_modules/playwright-core/package.json" 2>/dev/null
}
need_npm=0
[ "$BROWSER_DIR/node_modules/.package-lock.json" -nt "$BROWSER_DIR/package-lock.json" ] || need_npm=1
[ "$(installed_version)" = "$(locked_version)" ] || need_npm=1
need_user=0
id "$SANDBOX_USER" >/dev/null 2>&1 && [ -d "$SANDBOX_HOME" ] || need_user=1
# Debian ships no firejail.users (everyone may run firejail); when a teacher
# has made one, the sandbox user must be in it or grading stops.
need_users_entry=0
if [ -f /etc/firejail/firejail.users ] &&
	! grep -qx "$SANDBOX_USER" /etc/firejail/firejail.users; then
	need_users_entry=1
fi

if [ "$check_only" -eq 1 ]; then
	[ -z "$missing" ] && [ $need_user -eq 0 ] && [ $need_users_entry -eq 0 ] &&
		[ $need_npm -eq 0 ] && exit 0
	[ -n "$missing" ] && echo "install-deps: missing packages:$missing" >&2
	[ $need_npm -eq 1 ] && echo "install-deps: tests/browser needs npm ci" >&2
	[ $need_user -eq 1 ] && echo "install-deps: missing sandbox user $SANDBOX_USER" >&2
	[ $need_users_entry -eq 1 ] && echo "install-deps: $SANDBOX_USER not in /etc/firejail/firejail.users" >&2
	exit 1
fi

if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# firejail keeps uid 0 inside the sandbox when started by root, so a root
# markbook drops to this user first. firejail's --private needs its home
# directory to exist.
if [ $need_user -eq 1 ]; then
	id "$SANDBOX_USER" >/dev/null 2>&1 ||
		$SUDO useradd --system --home-dir "$SANDBOX_HOME" --shell /usr/sbin/nologin "$SANDBOX_USER"
	$SUDO mkdir -p "$SANDBOX_HOME"
	$SUDO chown "$SANDBOX_USER:" "$SANDBOX_HOME"
	$SUDO chmod 700 "$SANDBOX_HOME"
fi
if [ $need_users_entry -eq 1 ]; then
	echo "$SANDBOX_USER" | $SUDO tee -a /etc/firejail/firejail.users >/dev/null
fi
if [ $need_npm -eq 1 ]; then
	echo "install-deps: npm ci in tests/browser"
	(cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: ready"
