#!/bin/bash
# mkimage.sh - build the cvmm node image (kernel + initramfs) for emulated nodes.
#
#   mkimage.sh inputs               print "name value" lines: what the image is built from
#   mkimage.sh base OUTDIR          build OUTDIR/vmlinuz and OUTDIR/base.cpio.gz
#   mkimage.sh overlay BINDIR OUT   pack BINDIR's programs (and the libraries they
#                                   need) into OUT, a cpio.gz appended to the base
#
# `cvmm sim` calls it: the base image is cached under $CVMM_CACHE/node-KEY, KEY
# being a hash of this script, the node's init and the `inputs` lines, so any
# change to what goes in builds a new image. The overlay is rebuilt every run:
# it holds this tree's build/bin, which changes with every build.
#
# The base holds Debian's amd64 kernel (linux-image-6.1.0-N-amd64-unsigned of the
# version of the installed linux-source-6.1, or $CVMM_NODE_KERNEL), its virtio,
# 9p and rdma_rxe modules with their dependencies, kvm and kvm-amd rebuilt from
# that source with kvm/*.patch (kvm/build.sh says why), a static busybox,
# iproute2's `rdma`, libibverbs with the rxe provider, and the verbs tools of
# ibverbs-utils and perftest.
set -euo pipefail
tmp="" # the work directory of base or overlay, removed on exit

here=$(cd "$(dirname "$0")" && pwd)
: "${CVMM_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/cvmm}"
debs=$CVMM_CACHE/debs

# Modules to load, in this order, with their dependencies before them.
# crc32_generic first: rdma_rxe needs the crc32 algorithm but does not declare it.
MODULES="crc32_generic kvm_amd virtio_pci virtio_net virtio_console 9pnet_virtio 9p rdma_rxe ib_uverbs"
# Programs from the host's Debian packages that go into every node.
TOOLS="rdma ibv_devinfo ibv_devices ibv_rc_pingpong ib_send_lat ib_read_lat ib_write_lat ib_send_bw ib_read_bw ib_write_bw"
# Debian packages whose files end up in the image (busybox is fetched, not
# installed: the host may have the i386 one installed for guest images).
PKGS="iproute2 rdma-core libibverbs1 ibverbs-providers ibverbs-utils perftest librdmacm1 libc6"

say() { echo "image: $*" >&2; }
die() { echo "image: error: $*" >&2; exit 1; }

# The KVM modules are rebuilt from Debian's kernel source, so the node kernel
# is the one of the same version.
source_tarball=/usr/src/linux-source-6.1.tar.xz

source_version() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) || true
	[ -n "$ver" ] && [ -f "$source_tarball" ] ||
		die "linux-source-6.1 is not installed (make deps installs it): the node's KVM is built from it"
	echo "$ver"
}

# The newest linux-image-6.1.0-N-amd64-unsigned package whose candidate is version $1.
kernel_of_version() {
	local pkgs
	pkgs=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{print $1}')
	[ -n "$pkgs" ] || return 0
	# One apt-cache policy for all of them: "name:" lines, each followed by its Candidate.
	# shellcheck disable=SC2086
	apt-cache policy $pkgs | awk -v want="$1" '/^[^ ]/ { p = $1; sub(":$", "", p) }
		/Candidate:/ && $2 == want { print p }' | sort -V | tail -n 1
}

# The kernel package of linux-source-6.1's version, as "name version".
kernel_pkg() {
	local pkg ver deb src
	if [ -n "${CVMM_NODE_KERNEL:-}" ]; then
		pkg=$CVMM_NODE_KERNEL
	else
		src=$(source_version)
		deb=$(ls "$debs"/linux-image-6.1.0-*-amd64-unsigned_"${src//:/%3a}"_amd64.deb 2>/dev/null | sort -V | tail -n 1)
		if [ -n "$deb" ]; then
			deb=$(basename "$deb")
			echo "${deb%%_*} $src"
			return
		fi
		pkg=$(kernel_of_version "$src")
		if [ -z "$pkg" ]; then
			say "apt knows no linux-image-6.1.0-*-amd64-unsigned $src; running apt-get update"
			apt-get update -q >/dev/null || say "apt-get update failed for some lists (above); going on with the others"
			pkg=$(kernel_of_version "$src")
		fi
		[ -n "$pkg" ] || die "no linux-image-6.1.0-*-amd64-unsigned package of version $src (linux-source-6.1's) in the apt archive"
	fi
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $pkg is not in the apt archive"
	[ "$ver" = "$(source_version)" ] ||
		die "CVMM_NODE_KERNEL=$pkg is version $ver but linux-source-6.1 is $(source_version): the node's KVM modules are rebuilt from that source, so the two must match"
	echo "$pkg $ver"
}

# The candidate version of package $1 (e.g. busybox-static:amd64).
apt_version() {
	local ver
	ver=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		say "apt does not know $1; running apt-get update"
		apt-get update -q >/dev/null || say "apt-get update failed for some lists (above); going on with the others"
		ver=$(apt-cache policy "$1" | awk '/Candidate:/ {print $2}')
	fi
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "package $1 is not in the apt archive"
	echo "$ver"
}

# fetch_deb NAME:ARCH VERSION: the path of the package file, downloaded into
# the cache once.
fetch_deb() {
	local name=${1%%:*} arch=${1##*:} ver=$2 deb
	deb=$debs/${name}_${ver//:/%3a}_${arch}.deb
	if [ ! -f "$deb" ]; then
		say "downloading $1 $ver"
		mkdir -p "$debs"
		(cd "$debs" && apt-get download -q "$1=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			die "could not download $1 $ver"
		[ -f "$deb" ] || die "apt-get download did not produce $deb"
	fi
	echo "$deb"
}

cmd_inputs() {
	local kernel
	kernel=$(kernel_pkg)
	echo "kernel $kernel"
	echo "busybox busybox-static:amd64 $(apt_version busybox-static:amd64)"
	echo "modules $MODULES"
	echo "kvm-patches $(cat "$here"/kvm/build.sh "$here"/kvm/*.patch | sha256sum | cut -c1-16)"
	echo "tools $TOOLS"
	local p
	for p in $PKGS; do
		echo "pkg-$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
	done
}

fetch_kernel() {
	local name ver deb
	read -r name ver < <(kernel_pkg)
	deb=$debs/${name}_${ver//:/%3a}_amd64.deb
	if [ ! -f "$deb" ]; then
		say "downloading $name $ver"
		mkdir -p "$debs"
		(cd "$debs" && apt-get download -q "$name=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			die "could not download $name $ver"
		[ -f "$deb" ] || deb=$(ls "$debs"/"${name}"_*_amd64.deb | sort -V | tail -n 1)
	fi
	echo "$deb"
}

# copy_file ROOT PATH: copies PATH (dereferenced) to the same path under ROOT,
# with /bin, /sbin, /lib, /lib64 folded into /usr as on Debian 12.
copy_file() {
	local root=$1 src dst
	src=$(readlink -f "$2")
	case "$src" in
	/bin/* | /sbin/* | /lib/* | /lib64/*) dst=$root/usr$src ;;
	*) dst=$root$src ;;
	esac
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp "$src" "$dst"
	# Keep the name the dynamic loader looks for (e.g. libc.so.6 -> its real file).
	local want=$2
	case "$want" in
	/bin/* | /sbin/* | /lib/* | /lib64/*) want=$root/usr$want ;;
	*) want=$root$want ;;
	esac
	if [ "$want" != "$dst" ] && [ ! -e "$want" ]; then
		mkdir -p "$(dirname "$want")"
		ln -sfn "$(realpath --relative-to="$(dirname "$want")" "$dst")" "$want"
	fi
}

is_dynamic() { ldd "$1" >/dev/null 2>&1; }

# copy_with_libs ROOT PROGRAM...: copies each program and the shared libraries
# ldd says it needs.
copy_with_libs() {
	local root=$1 f lib
	shift
	for f in "$@"; do
		copy_file "$root" "$f"
		is_dynamic "$f" || continue
		for lib in $(ldd "$f" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
			copy_file "$root" "$lib"
		done
	done
}

pack() { # pack DIR OUT.cpio.gz
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -6 >"$2"
}

cmd_base() {
	local out=$1 root kver deb m f
	tmp=$(mktemp -d)
	trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
	root=$tmp/root
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/cvmm,proc,sys,dev,tmp,run,host,root,mnt,var}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s usr/lib64 "$root/lib64"

	deb=$(fetch_kernel)
	say "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp/kpkg"
	kver=$(ls "$tmp/kpkg/lib/modules")
	cp "$tmp/kpkg/boot/vmlinuz-$kver" "$out/vmlinuz"

	say "resolving module dependencies for $kver"
	depmod -b "$tmp/kpkg" "$kver"
	: >"$root/etc/cvmm/modules"
	for m in $MODULES; do
		modprobe -d "$tmp/kpkg" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' | while read -r f; do
		local rel=${f#"$tmp/kpkg/"}
		mkdir -p "$root/$(dirname "$rel")"
		cp "$f" "$root/$rel"
		echo "/$rel" >>"$root/etc/cvmm/modules"
	done
	echo "$kver" >"$root/etc/cvmm/kernel-release"
	"$here/kvm/build.sh" "$kver" "$source_tarball" "$tmp/kvm"
	for m in kvm kvm-amd; do
		f=$root/lib/modules/$kver/kernel/arch/x86/kvm/$m.ko
		[ -f "$f" ] || die "$m.ko is not among the node's modules"
		cp "$tmp/kvm/$m.ko" "$f"
	done

	say "adding busybox, rdma tools and libibverbs with the rxe provider"
	deb=$(fetch_deb busybox-static:amd64 "$(apt_version busybox-static:amd64)")
	dpkg-deb -x "$deb" "$tmp/busybox"
	cp "$tmp/busybox/bin/busybox" "$root/usr/bin/busybox"
	for f in $("$root/usr/bin/busybox" --list-full); do
		f=/${f#/}
		case "$f" in /bin/* | /sbin/*) f=/usr$f ;; esac
		[ -e "$root$f" ] || ln -s /usr/bin/busybox "$root$f"
	done
	for f in $TOOLS; do
		command -v "$f" >/dev/null || die "$f is missing on the host (make deps installs it)"
		copy_with_libs "$root" "$(command -v "$f")"
	done
	for f in /usr/lib/x86_64-linux-gnu/libibverbs/librxe-*.so /etc/libibverbs.d/rxe.driver; do
		[ -e "$f" ] || die "$f is missing (package ibverbs-providers)"
		copy_with_libs "$root" "$f"
	done

	install -m 0755 "$here/init" "$root/init"
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	{
		echo "127.0.0.1 localhost"
		for m in $(seq 0 15); do echo "10.77.0.$((m + 1)) node$m"; done
	} >"$root/etc/hosts"

	say "packing the initramfs"
	pack "$root" "$out/base.cpio.gz"
	say "done: $(du -h "$out/base.cpio.gz" | cut -f1) initramfs, kernel $kver"
}

cmd_overlay() {
	local bindir=$1 out=$2 f lib
	tmp=$(mktemp -d)
	trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/opt/cvmm/bin"
	for f in "$bindir"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp "$f" "$tmp/opt/cvmm/bin/"
		is_dynamic "$f" || continue
		for lib in $(ldd "$f" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
			copy_file "$tmp" "$lib"
		done
	done
	# The base owns /lib -> usr/lib and friends; the overlay must not replace them.
	rm -rf "$tmp/lib" "$tmp/lib64" "$tmp/bin" "$tmp/sbin"
	pack "$tmp" "$out"
}

case "${1:-}" in
inputs) cmd_inputs ;;
base) [ $# = 2 ] || die "usage: mkimage.sh base OUTDIR"; cmd_base "$2" ;;
overlay) [ $# = 3 ] || die "usage: mkimage.sh overlay BINDIR OUT"; cmd_overlay "$2" "$3" ;;
*) die "usage: mkimage.sh inputs | base OUTDIR | overlay BINDIR OUT" ;;
esac
