#!/bin/bash
# build.sh KERNELRELEASE TARBALL OUTDIR - the emulated node's kvm.ko and
# kvm-amd.ko, built from Debian's kernel source with this folder's patches.
#
# Sim nodes run KVM with shadow paging (kvm_amd npt=0: 32-bit guests hang
# under nested paging in a TCG node, docs/sim.md). Stock KVM keeps a shadowed
# guest page table's shadow pages when the host unmaps the page behind it, so
# a page table that the DSM fetches again after another node wrote it would
# keep translating with its old entries (docs/sim.md, "Shadow paging and the
# DSM"). 0001-*.patch has KVM resync them. Nodes with nested paging (every
# real node) never build shadow pages and need no such patch. 0002-*.patch
# keeps KVM from faulting pages in for writing when the guest only read them
# (asynchronous page faults of a guest that does not take them, which turn
# every read of a page missing on this node into a write for the DSM);
# real nodes need it too (docs/sim.md).
#
# KERNELRELEASE is the node kernel's (e.g. 6.1.0-56-amd64); its headers come
# from the Debian package linux-headers-KERNELRELEASE, installed if missing.
# TARBALL is linux-source-6.1's tarball of the same version: only arch/x86/kvm
# and virt/kvm are taken from it. OUTDIR gets kvm.ko and kvm-amd.ko.
set -euo pipefail

kver=${1:?usage: build.sh KERNELRELEASE TARBALL OUTDIR}
tarball=${2:?usage: build.sh KERNELRELEASE TARBALL OUTDIR}
out=${3:?usage: build.sh KERNELRELEASE TARBALL OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "image: $*" >&2; }
die() { echo "image: error: $*" >&2; exit 1; }

headers=/usr/src/linux-headers-$kver
if [ ! -f "$headers/Module.symvers" ]; then
	say "installing linux-headers-$kver to build the node's KVM modules"
	"$here/../../scripts/install-deps.sh" "linux-headers-$kver" >&2 ||
		die "cannot install linux-headers-$kver"
fi
[ -f "$tarball" ] || die "$tarball is missing: install the Debian package linux-source-6.1"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say "extracting arch/x86/kvm and virt/kvm from $(basename "$tarball")"
tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards '*/arch/x86/kvm/*' '*/virt/kvm/*'
[ -f "$tmp/arch/x86/kvm/Makefile" ] && [ -f "$tmp/virt/kvm/Makefile.kvm" ] ||
	die "$(basename "$tarball") has no arch/x86/kvm or virt/kvm"
for p in "$here"/*.patch; do
	[ -e "$p" ] || continue
	say "applying $(basename "$p")"
	patch -p1 -s -d "$tmp" <"$p" || die "$(basename "$p") does not apply to $(basename "$tarball")"
done

# Out of the tree, the sources find each other through this directory instead
# of $(srctree), and the trace header through -I$(src).
kvm=$tmp/arch/x86/kvm
sed -i -e "s|\$(srctree)/arch/x86/kvm|\$(src)|" \
	-e "s|include \$(srctree)/virt/kvm/Makefile.kvm|include $tmp/virt/kvm/Makefile.kvm|" "$kvm/Makefile"
sed -i 's|^#define TRACE_INCLUDE_PATH ../../arch/x86/kvm$|#define TRACE_INCLUDE_PATH .|' "$kvm/trace.h"
grep -q '^#define TRACE_INCLUDE_PATH \.$' "$kvm/trace.h" || die "trace.h's TRACE_INCLUDE_PATH has changed"

say "building kvm.ko and kvm-amd.ko for $kver"
make -s -C "$headers" M="$kvm" CONFIG_KVM_INTEL= -j"$(nproc)" modules >"$tmp/build.log" 2>&1 || {
	tail -n 30 "$tmp/build.log" >&2
	die "the KVM modules did not build (log above)"
}
mkdir -p "$out"
for m in kvm kvm-amd; do
	strip --strip-debug -o "$out/$m.ko" "$kvm/$m.ko"
	modinfo -F vermagic "$out/$m.ko" | grep -q "^$kver " || die "$m.ko is not built for $kver"
done
