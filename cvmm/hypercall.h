/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cvmm's hypercalls (docs/abi.md, "Hypercalls"): what the guest port uses
 * where a node cannot act alone. IPIs and CPU start-up, because a vCPU's
 * LAPIC lives in one node's KVM; spinlock wait/kick, because a waiter should
 * yield to the monitor instead of spinning on a page that may be remote; the
 * message page, which carries hotplug (DESIGN.md §3.10).
 *
 * A hypercall is a 32-bit OUT of the call number to HC_PORT, with arguments
 * in EBX, ECX, ESI, EDI (32-bit values in every mode) and the result in EAX. Port I/O exits to userspace;
 * vmcall would be answered by KVM in the kernel. The arch code reads and
 * writes the registers; hypercall__dispatch() is a pure function of the VM
 * and the arguments, so unit tests drive it without /dev/kvm.
 */
#ifndef CVMM_HYPERCALL_H
#define CVMM_HYPERCALL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vm;

#define HC_PORT	   0x0610
#define HC_NR_ARGS 4

/* Call numbers, as in docs/abi.md. 0 is never a valid call. */
enum hc_nr {
	HC_SEND_IPI = 1,  /* bitmap_lo, bitmap_hi, min APIC ID, ICR low (vector|mode) */
	HC_CPU_START = 2, /* APIC ID, start address (page-aligned, below 1 MiB) */
	HC_SPIN_WAIT = 3, /* (none): block until kicked, an IPI, or HC_WAIT_US */
	HC_SPIN_KICK = 4, /* APIC ID */
	HC_MSG_SETUP = 5, /* page frame number of the message page, vector */
	HC_MSG_ACK = 6,	  /* sequence number, status (0 or -errno) */
	HC_NR,
};

/* Message types carried by the message page. */
enum hc_msg_type {
	HC_MSG_CPU_OFFLINE = 1,	    /* arg: APIC ID */
	HC_MSG_CPU_ONLINE = 2,	    /* arg: APIC ID */
	HC_MSG_NODE_LEAVE = 3,	    /* arg: NUMA node (SRAT proximity domain) */
	HC_MSG_NODE_JOIN = 4,	    /* arg: NUMA node */
	HC_MSG_NODE_LEAVE_KEEP = 5, /* arg: NUMA node, whose CPUs stay online */
};

/* The message page: little-endian u32 fields, seq written last. */
#define HC_MSG_OFF_SEQ	0
#define HC_MSG_OFF_TYPE 4
#define HC_MSG_OFF_ARG	8
#define HC_MSG_PAGE	4096

/* Longest a SPIN_WAIT blocks without a kick: interrupts KVM raises itself
 * (the LAPIC timer) do not pass through cvmm, so a waiter must look again. */
#define HC_WAIT_US 1000

/* A vCPU's spinlock wait: a one-token semaphore, so a kick that comes before
 * the wait is not lost. */
struct hc_vcpu {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked;
};

struct hypercalls {
	unsigned int nr_vcpus;
	struct hc_vcpu *vcpus;
	unsigned int wait_us;

	_Atomic uint64_t calls[HC_NR];
	_Atomic uint64_t failed[HC_NR];
	_Atomic uint64_t unknown; /* numbers outside the table, malformed accesses */
	_Atomic uint64_t wait_kicked, wait_timeout;

	/* The message page; msg_lock orders posts against acks. */
	pthread_mutex_t msg_lock;
	bool msg_ready;
	uint64_t msg_gpa;
	uint8_t msg_vector;
	uint32_t msg_seq;   /* last message posted */
	uint32_t msg_acked; /* last message acknowledged */
	int32_t msg_status; /* its status */
};

/* Allocates vm->hc for vm->nr_cpus vCPUs. 0 or -ENOMEM. */
int hypercall__init(struct vm *vm);
void hypercall__exit(struct vm *vm);

/*
 * Runs call nr for vCPU vcpu. Returns what goes into the guest's EAX: >= 0
 * on success, -errno on failure (-ENOSYS for an unknown number). Never
 * stops the VM: a guest's bad call is the guest's error.
 */
int64_t hypercall__dispatch(struct vm *vm, unsigned int vcpu, uint32_t nr,
			    const uint64_t args[HC_NR_ARGS]);

/* Counts an access to HC_PORT that is not a 32-bit OUT. */
void hypercall__malformed(struct vm *vm);

/*
 * Posts a message and sends the message vector to APIC ID 0. Returns its
 * sequence number (> 0), -ENODEV before the guest registered a page,
 * -EBUSY while the previous message is not acknowledged, -EINVAL for a bad
 * type or argument.
 */
int64_t hypercall__post(struct vm *vm, uint32_t type, uint32_t arg);

/*
 * Whether message seq was acknowledged: 0 and *status, -EINPROGRESS while
 * not yet, -ENOENT for a sequence number never posted.
 */
int hypercall__msg_status(struct vm *vm, uint32_t seq, int32_t *status);

/* Wakes vCPU vcpu from SPIN_WAIT (or makes its next wait return at once). */
void hypercall__kick(struct vm *vm, unsigned int vcpu);

const char *hypercall__name(uint32_t nr);
/* One line per call: "hypercall NAME calls=N failed=M", plus wait outcomes. */
void hypercall__print_stats(const struct vm *vm, FILE *f);

#endif
