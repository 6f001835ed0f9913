/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kvm-smoke guests: the same small program for 32-bit protected mode with
 * paging and for long mode. Each announces its mode on port 0x10, sums 1..1000
 * and reports it on port 0x11, fills 16 dwords at a virtual address that paging
 * maps elsewhere, reads the last one back through that mapping to port 0x12,
 * and halts. The host checks all three and the physical memory.
 *
 * The code is copied to guest-physical KVM_SMOKE_CODE and must be position
 * independent: only relative jumps, absolute addresses as immediates.
 */
	.section .rodata, "a"

	.globl	smoke_guest32, smoke_guest32_end
	.code32
smoke_guest32:
	mov	$0xc0de0032, %eax
	out	%eax, $0x10
	xor	%eax, %eax
	mov	$1000, %ecx
1:	add	%ecx, %eax
	loop	1b
	out	%eax, $0x11
	mov	$0x00400000, %edi	/* 4 MiB: a PSE page mapped to 8 MiB */
	mov	$16, %ecx
	mov	$0xa5a50000, %eax
2:	mov	%eax, (%edi)
	add	$4, %edi
	inc	%eax
	loop	2b
	mov	0x00400000 + 60, %eax
	out	%eax, $0x12
	hlt
smoke_guest32_end:

	.globl	smoke_guest64, smoke_guest64_end
	.code64
smoke_guest64:
	mov	$0xc0de0064, %eax
	out	%eax, $0x10
	xor	%eax, %eax
	mov	$1000, %ecx
1:	add	%ecx, %eax
	loop	1b
	out	%eax, $0x11
	mov	$0x40000000, %edi	/* 1 GiB: a 2 MiB page mapped to 2 MiB */
	mov	$16, %ecx
	mov	$0xa5a50000, %eax
2:	mov	%eax, (%rdi)
	add	$4, %rdi
	inc	%eax
	loop	2b
	mov	0x40000000 + 60, %eax
	out	%eax, $0x12
	hlt
smoke_guest64_end:

	.section .note.GNU-stack, "", @progbits
