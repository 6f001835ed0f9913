#!/bin/sh
# smoke - the node check: KVM runs guests here, and every other node answers
# over the interconnect. Run it on every node: cvmm sim --all -- smoke
# Prints TAP lines; exits non-zero if any check failed.
status=0
kvm-smoke || status=1
peer-echo || status=1
exit $status
