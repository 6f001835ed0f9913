#!/bin/bash
# mkinitramfs.sh PKG VERSION OUT - the cvmm guest's initramfs.
#
# PKG VERSION is the busybox package (busybox-static:i386) to take busybox from;
# it is downloaded into $CVMM_CACHE/debs, not installed. OUT gets a gzipped cpio
# with busybox, /init (this folder's init) and /bin/cvmm-guest-test built
# static for i386 from cvmm-guest-test.c.
set -euo pipefail

pkg=${1:?usage: mkinitramfs.sh PKG VERSION OUT}
ver=${2:?usage: mkinitramfs.sh PKG VERSION OUT}
out=${3:?usage: mkinitramfs.sh PKG VERSION OUT}
here=$(cd "$(dirname "$0")" && pwd)
: "${CVMM_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/cvmm}"
debs=$CVMM_CACHE/debs
die() { echo "initramfs: error: $*" >&2; exit 1; }

name=${pkg%%:*} arch=${pkg##*:}
deb=$debs/${name}_${ver//:/%3a}_${arch}.deb
if [ ! -f "$deb" ]; then
	mkdir -p "$debs"
	(cd "$debs" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
		die "could not download $pkg $ver"
	[ -f "$deb" ] || die "apt-get download did not produce $deb"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
dpkg-deb -x "$deb" "$root/bb"
mv "$root/bb/bin/busybox" "$root/bin/busybox"
rm -rf "$root/bb"
# The i386 busybox cannot be asked for its applets here (a host kernel
# without IA32 emulation cannot run it): /init makes their links at boot
# (busybox --install -s), and needs only sh to start.
ln -s busybox "$root/bin/sh"
gcc -m32 -static -O2 -Wall -Wextra -Werror -std=gnu11 -pthread \
	-o "$root/bin/cvmm-guest-test" "$here/cvmm-guest-test.c" ||
	die "cannot build cvmm-guest-test for i386 (is gcc-multilib installed?)"
install -m 0755 "$here/init" "$root/init"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >"$out"
