/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vcpu-state-test guest (long mode, paging set up by the host). It puts
 * state in every place vcpu_state covers and then counts, reporting each
 * step on port 0x20 so the host can pause and move it at any step:
 *   - general registers: an LCG in RBX, the step in R12, the limit in R11
 *     (set by the host), the last TSC in R13, TSC steps backwards in R14;
 *   - SSE: XMM0 += XMM1 (= 1) each step; x87: ST0 += ST1 (= 1) each step;
 *   - an MSR: KERNEL_GS_BASE, written once before the loop;
 *   - the LAPIC: TPR, written once before the loop;
 *   - the TSC: must never go backwards across a move.
 * At the end it stores the results at VST_RESULT (see vcpu-state-test.c),
 * writes to port 0x21 and halts. Position independent; absolute addresses
 * are immediates.
 */
#define VST_RESULT 0x8000
#define LCG_MUL	   0x5851f42d4c957f2d

	.section .rodata, "a"
	.globl	vst_guest, vst_guest_end
	.code64
vst_guest:
	mov	$0xc0000102, %ecx	/* MSR_KERNEL_GS_BASE */
	mov	$0xcafef00d, %eax
	mov	$0x00007eef, %edx	/* canonical, or WRMSR faults */
	wrmsr
	mov	$0xfee00080, %esi	/* LAPIC TPR */
	movl	$0x30, (%rsi)
	mov	$1, %eax
	movq	%rax, %xmm1
	pxor	%xmm0, %xmm0
	fninit
	fld1
	fldz
	mov	$0x9e3779b97f4a7c15, %rbx
	mov	$LCG_MUL, %r15
	xor	%r14, %r14
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	mov	%rax, %r13
	mov	$1, %r12
1:	imul	%r15, %rbx
	add	%r12, %rbx
	paddq	%xmm1, %xmm0
	fadd	%st(1), %st
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	cmp	%r13, %rax
	jae	2f
	inc	%r14
2:	mov	%rax, %r13
	mov	%r12d, %eax
	out	%eax, $0x20
	inc	%r12
	cmp	%r11, %r12
	jbe	1b

	mov	$VST_RESULT, %edi
	mov	%rbx, 0(%rdi)
	movq	%xmm0, %rax
	mov	%rax, 8(%rdi)
	fistpll	16(%rdi)
	mov	%r14, 24(%rdi)
	mov	$0xc0000102, %ecx
	rdmsr
	shl	$32, %rdx
	or	%rdx, %rax
	mov	%rax, 32(%rdi)
	mov	$0xfee00080, %esi
	mov	(%rsi), %eax
	mov	%rax, 40(%rdi)
	out	%eax, $0x21
	hlt
vst_guest_end:

	.section .note.GNU-stack, "", @progbits
