#!/bin/bash
# mkguest.sh ARCH - build (once) a test guest for `cvmm run` and print its directory.
#
#   ARCH  i386   Debian's unmodified linux-image-6.1.0-NN-686-pae and an i386 busybox
#         amd64  Debian's linux-image-6.1.0-NN-amd64-unsigned and an amd64 busybox
#
# The directory holds bzImage and initrd.cpio.gz. The initrd's /init prints
#   cvmm-guest: init uptime=SECONDS
#   cvmm-guest: cpus=N            (grep -c ^processor /proc/cpuinfo)
# and powers the guest off. NN is the kernel ABI of the newest amd64-unsigned
# package (cached or known to apt), so both kernels come from one Debian
# release; when apt has no i386 package of that ABI (its i386 lists may lack
# the security archive), the newest i386 ABI apt has is taken, and said.
# Everything is cached under $CVMM_CACHE/guest-ARCH-KEY, KEY hashing this
# script and the package versions, so a change builds anew.
set -euo pipefail

arch=${1:?usage: mkguest.sh i386|amd64}
: "${CVMM_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/cvmm}"
debs=$CVMM_CACHE/debs
say() { echo "mkguest: $*" >&2; }
die() { echo "mkguest: error: $*" >&2; exit 1; }

case $arch in
i386) flavour=686-pae; darch=i386 ;;
amd64) flavour=amd64-unsigned; darch=amd64 ;;
*) die "unknown guest architecture '$arch' (i386, amd64)" ;;
esac

# newest_abi FLAVOUR: the newest ABI number of linux-image-6.1.0-NN-FLAVOUR apt knows.
newest_abi() {
	apt-cache search --names-only "^linux-image-6\.1\.0-[0-9]+-$1\$" |
		sed -E 's/^linux-image-6\.1\.0-([0-9]+)-.*/\1/' | sort -n | tail -n 1
}

# The ABI number: from a cached node kernel if there is one, else from apt.
abi() {
	local deb
	deb=$(ls "$debs"/linux-image-6.1.0-*-amd64-unsigned_*_amd64.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$deb" ]; then
		basename "$deb" | sed -E 's/^linux-image-6\.1\.0-([0-9]+)-.*/\1/'
		return
	fi
	newest_abi amd64-unsigned
}

if [ "$darch" = i386 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
	say "adding the i386 architecture to dpkg"
	dpkg --add-architecture i386
	apt-get update -q >/dev/null || true
fi
nn=$(abi)
[ -n "$nn" ] || { apt-get update -q >/dev/null || true; nn=$(abi); }
[ -n "$nn" ] || die "no linux-image-6.1.0-*-amd64-unsigned package known to apt"
kpkg=linux-image-6.1.0-$nn-$flavour:$darch
bpkg=busybox-static:$darch
kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')
if [ -z "$kver" ] || [ "$kver" = "(none)" ]; then
	apt-get update -q >/dev/null || true
	kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')
fi
if { [ -z "$kver" ] || [ "$kver" = "(none)" ]; } && [ "$darch" = i386 ]; then
	other=$(newest_abi "$flavour")
	if [ -n "$other" ]; then
		say "apt has no $kpkg; taking ABI $other, the newest $flavour it has"
		kpkg=linux-image-6.1.0-$other-$flavour:$darch
		kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')
	fi
fi
bver=$(apt-cache policy "$bpkg" | awk '/Candidate:/ {print $2}')
[ -n "$kver" ] && [ "$kver" != "(none)" ] || die "apt has no $kpkg"
[ -n "$bver" ] && [ "$bver" != "(none)" ] || die "apt has no $bpkg"

key=$( (cat "$0"; echo "$kpkg $kver $bpkg $bver") | sha256sum | cut -c1-16)
out=$CVMM_CACHE/guest-$arch-$key
if [ -f "$out/bzImage" ] && [ -f "$out/initrd.cpio.gz" ]; then
	echo "$out"
	exit 0
fi

# fetch PKG:ARCH - the .deb into $debs (apt-get download names it for us)
fetch() {
	local name=${1%%:*} a=${1##*:} f
	f=$(ls "$debs/${name}_"*"_$a.deb" 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$f" ]; then
		say "downloading $1"
		(cd "$debs" && apt-get download -q "$1" >/dev/null) || die "apt-get download $1 failed"
		f=$(ls "$debs/${name}_"*"_$a.deb" | sort -V | tail -n 1)
	fi
	echo "$f"
}

mkdir -p "$debs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$(fetch "$kpkg")" "$tmp/k"
dpkg-deb -x "$(fetch "$bpkg")" "$tmp/b"

root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$tmp/b/bin/busybox" "$root/bin/busybox"
for t in sh mount grep cat echo poweroff sleep; do
	ln -s busybox "$root/bin/$t"
done
# The kernel opens /dev/console for init's stdio before any devtmpfs exists.
mknod -m 600 "$root/dev/console" c 5 1
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
read up rest </proc/uptime
echo "cvmm-guest: init uptime=$up"
echo "cvmm-guest: cpus=$(grep -c ^processor /proc/cpuinfo)"
poweroff -f
INIT
chmod 755 "$root/init"

mkdir -p "$out.tmp"
cp "$(ls "$tmp"/k/boot/vmlinuz-* | head -n 1)" "$out.tmp/bzImage"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out.tmp/initrd.cpio.gz"
rm -rf "$out"
mv "$out.tmp" "$out"
say "built $out from $kpkg $kver and $bpkg $bver"
echo "$out"
