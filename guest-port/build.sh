#!/bin/bash
# build.sh OUTDIR - build the cvmm guest: the ported Linux kernel and its initramfs.
#
#   OUTDIR/bzImage         Linux 6.1 i386 from Debian's linux-source-6.1, with
#                          guest-port/series applied and guest-port/config/*.config
#   OUTDIR/initrd.cpio.gz  busybox (i386, static), /init, and cvmm-guest-test
#   OUTDIR/config          the kernel's .config
#   OUTDIR/System.map      its symbols: where a guest address is (a DSM hot page, a hang)
#
# Each is cached under $CVMM_CACHE by a key hashing its inputs, so an unchanged
# part is never rebuilt and a changed one always is: guest-kernel-KEY (the
# series and its patches, the config fragment, this script, the versions of
# linux-source-6.1 and gcc; the full build log is kept there as build.log) and
# guest-initrd-KEY (the initramfs sources, busybox-static:i386's version,
# gcc's). A change to /init or the test program repacks the initramfs in
# seconds and keeps the kernel. OUTDIR then gets copies. Progress goes to
# stderr.
set -euo pipefail

out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
: "${CVMM_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/cvmm}"
debs=$CVMM_CACHE/debs
jobs=$(nproc)
tmp=""
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

say() { echo "guest: $*" >&2; }
die() { echo "guest: error: $*" >&2; exit 1; }

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || die "$tarball is missing: install the Debian package linux-source-6.1 (make deps)"
command -v flex >/dev/null && command -v bison >/dev/null && command -v bc >/dev/null ||
	die "flex, bison and bc are needed to build Linux (make deps)"
[ -f /usr/lib32/libc.a ] || [ -f /usr/lib/i386-linux-gnu/libc.a ] ||
	die "no 32-bit static libc: install gcc-multilib (make deps)"

bb_pkg=busybox-static:i386
bb_ver=$(apt-cache policy "$bb_pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
if [ -z "$bb_ver" ] || [ "$bb_ver" = "(none)" ]; then
	dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
	# A list that fails to download (a mirror mid-sync) is not fatal: the
	# candidate check below says if busybox is still missing.
	apt-get update -q >/dev/null || say "apt-get update failed for some lists (above); going on with the others"
	bb_ver=$(apt-cache policy "$bb_pkg" | awk '/Candidate:/ {print $2}')
fi
[ -n "$bb_ver" ] && [ "$bb_ver" != "(none)" ] || die "apt has no $bb_pkg"

patches=$(grep -v -e '^#' -e '^$' "$here/series" || true)
# key WORDS...: a 16-digit hash of files and lines (an input that changes changes it).
key() { sha256sum | cut -c1-16; }
kernel_key=$(
	{
		cat "$0" "$here/series" "$here"/config/*.config
		for p in $patches; do cat "$here/patches/$p"; done
		echo "linux-source-6.1 $(pkg_version linux-source-6.1)"
		gcc --version | head -n 1
	} | key
)
initrd_key=$(
	{
		cat "$here"/initramfs/*
		echo "$bb_pkg $bb_ver"
		gcc --version | head -n 1
	} | key
)
kcache=$CVMM_CACHE/guest-kernel-$kernel_key
icache=$CVMM_CACHE/guest-initrd-$initrd_key
mkdir -p "$CVMM_CACHE"

if [ -f "$kcache/bzImage" ]; then
	say "kernel $kernel_key (cached)"
else
	tmp=$(mktemp -d "$CVMM_CACHE/.guest-kernel-$kernel_key.XXXXXX")
	start=$(date +%s)
	src=$tmp/linux

	say "unpacking linux-source-6.1 $(pkg_version linux-source-6.1)"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1

	for p in $patches; do
		say "applying $p"
		patch -d "$src" -p1 --forward --quiet <"$here/patches/$p" ||
			die "patch $p does not apply to linux-source-6.1 $(pkg_version linux-source-6.1)"
	done

	say "configuring: tinyconfig + $(ls "$here"/config/*.config | xargs -n1 basename | tr '\n' ' ')"
	# Kconfig's chatter ("override: ... changes choice state") goes to a log,
	# shown only if configuring fails.
	{
		make -C "$src" -s ARCH=i386 tinyconfig &&
			(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$here"/config/*.config) &&
			make -C "$src" -s ARCH=i386 olddefconfig
	} >"$tmp/config.log" 2>&1 || { cat "$tmp/config.log" >&2; die "configuring the kernel failed"; }
	# A fragment option that Kconfig dropped (a missing dependency) is an error,
	# not a surprise at boot.
	missing=$(grep -h '^CONFIG_' "$here"/config/*.config | while read -r opt; do
		grep -qx "$opt" "$src/.config" || echo "$opt"
	done)
	[ -z "$missing" ] || die "Kconfig did not keep: $(echo $missing) (a dependency is missing from the fragment)"

	say "building bzImage with $jobs jobs (several minutes; log: guest-kernel-$kernel_key/build.log)"
	make -C "$src" ARCH=i386 -j"$jobs" bzImage >"$tmp/build.log" 2>&1 &
	mk=$!
	while kill -0 $mk 2>/dev/null; do
		sleep 30
		kill -0 $mk 2>/dev/null &&
			say "  $(grep -c '^  CC' "$tmp/build.log") files compiled, $(($(date +%s) - start))s"
	done
	wait $mk || { tail -n 30 "$tmp/build.log" >&2; die "the kernel build failed"; }

	mkdir -p "$tmp/out"
	cp "$src/arch/x86/boot/bzImage" "$src/System.map" "$tmp/out/"
	cp "$src/.config" "$tmp/out/config"
	mv "$tmp/build.log" "$tmp/out/"
	chmod 0755 "$tmp/out"
	mv "$tmp/out" "$kcache" 2>/dev/null || [ -f "$kcache/bzImage" ] || die "cannot create $kcache"
	rm -rf "$tmp"
	tmp=""
	say "built kernel $kernel_key in $(($(date +%s) - start))s"
fi

if [ -f "$icache/initrd.cpio.gz" ]; then
	say "initramfs $initrd_key (cached)"
else
	say "packing the initramfs"
	tmp=$(mktemp -d "$CVMM_CACHE/.guest-initrd-$initrd_key.XXXXXX")
	mkdir -p "$tmp/out"
	"$here/initramfs/mkinitramfs.sh" "$bb_pkg" "$bb_ver" "$tmp/out/initrd.cpio.gz"
	chmod 0755 "$tmp/out"
	mv "$tmp/out" "$icache" 2>/dev/null || [ -f "$icache/initrd.cpio.gz" ] || die "cannot create $icache"
fi

mkdir -p "$out"
cp "$kcache/bzImage" "$kcache/config" "$kcache/System.map" "$icache/initrd.cpio.gz" "$out/"
say "$out/bzImage and $out/initrd.cpio.gz ready"
