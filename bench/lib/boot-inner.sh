#!/bin/sh
# boot-inner.sh KERNEL INITRD - runs inside a sim node (busybox sh): the time
# from starting the VMM to the guest's init line, first for `cvmm run`, then
# for the node's QEMU with -accel kvm as the baseline. Prints
#   cvmm SECONDS
#   qemu SECONDS        (or "qemu unavailable: WHY")
# The host's root is mounted at /host in the node; QEMU runs from there with
# the host's loader and libraries, and its firmware (SeaBIOS) from /host too.
k=$1
r=$2
append="console=ttyS0 panic=-1"

now() { read -r u _ </proc/uptime; echo "$u"; }

# to_init LABEL COMMAND... : prints "LABEL seconds" when the guest's init speaks.
to_init() {
	label=$1
	shift
	start=$(now)
	"$@" </dev/null 2>&1 | while IFS= read -r line; do
		case $line in
		*"cvmm-guest: init"*) echo "$label $(now) $start" ;;
		esac
	done | awk '{ printf "%s %.2f\n", $1, $2 - $3 }'
}

to_init cvmm cvmm run --kernel "$k" --initrd "$r" --append "$append" --mem 512M --cpus 1 --timeout 300

ld=/host/lib64/ld-linux-x86-64.so.2
libs=/host/usr/lib/x86_64-linux-gnu:/host/lib/x86_64-linux-gnu
if [ ! -x /host/usr/bin/qemu-system-x86_64 ] || [ ! -e "$ld" ]; then
	echo "qemu unavailable: no /host/usr/bin/qemu-system-x86_64"
	exit 0
fi
out=$(to_init qemu "$ld" --library-path "$libs" /host/usr/bin/qemu-system-x86_64 \
	-L /host/usr/share/qemu -L /host/usr/share/seabios \
	-accel kvm -cpu host -smp 1 -m 512M -nodefaults -no-user-config -display none \
	-no-reboot -serial stdio -kernel "$k" -initrd "$r" -append "$append")
if [ -n "$out" ]; then
	echo "$out"
else
	echo "qemu unavailable: the guest's init never spoke under QEMU"
fi
