#!/bin/sh
# install-deps.sh PKG... - install the Debian packages cvmm needs, idempotently.
#
# Skips what is installed; runs `apt-get update` at most once, and only when
# something is missing; adds the i386 architecture when a PKG:i386 is asked for.
set -eu

missing=""
need_i386=0
for p in "$@"; do
	case "$p" in *:i386) need_i386=1 ;; esac
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $# Debian packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: missing packages:$missing; run as root or install sudo" >&2
		exit 1
	}
	SUDO=sudo
fi

if [ "$need_i386" = 1 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
	echo "deps: adding the i386 architecture"
	$SUDO dpkg --add-architecture i386
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A list that fails to download (a mirror mid-sync) is not fatal: the install
# below fails, naming the package, if it needed that list.
$SUDO apt-get update -q >/dev/null ||
	echo "deps: apt-get update failed for some lists (above); going on with the others" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
