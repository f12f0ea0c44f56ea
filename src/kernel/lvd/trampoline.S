/*
 * The LVD crossing code (reference §6): the only kernel code executable in a domain's
 * EPT. The kernel links it on a page of its own, mapped at the same address in EPT_K and
 * in every EPT_I, so that the instruction after each VMFUNC is fetched from the same
 * place in either address space.
 *
 * VMFUNC has no entry point: a domain can jump to any byte of this page with any
 * registers. So after every VMFUNC the code checks ECX holds the index it meant to
 * switch to (0 kernel, 1 domain) and otherwise aborts into the hypervisor (the ABORT
 * hypercall), which upcalls the kernel to kill the domain; and nothing on the kernel
 * side trusts a register the domain could have set: the kernel stack comes from the
 * per-CPU state page (one guest-physical page, a different machine page per vCPU in
 * EPT_K, read-only or absent in EPT_I).
 *
 * A message is eight quadwords in rdi, rsi, rdx, r8, r9, r10, r11, r12 (rcx carries the
 * VMFUNC index). The kernel passes a pointer to a message in memory, which receives the
 * reply.
 */

	.set HC_ABORT, 0x4c560003
	.set ABORT_BAD_INDEX_TO_DOMAIN, 1
	.set ABORT_BAD_INDEX_TO_KERNEL, 2
	.set ABORT_BAD_INDEX_FROM_KERNEL, 3

	/* The state page (src/kernel/lvd/layout.ts STATE). */
	.set STATE_KERNEL_RSP, 0

	.section .text.lvd_trampoline, "ax"
	.balign 4096
	.globl lvd_trampoline_page
lvd_trampoline_page:

/*
 * void lvd_enter_domain(u64 msg[8], u64 domain_rsp, void *domain_entry, void *xsave,
 * int interrupts): kernel -> domain, entered with interrupts off (the kernel runs all of
 * this page's code with interrupts off, which irq-entry.S relies on). Saves the
 * callee-saved registers and the previous state-page kernel
 * RSP (an outer crossing's) on the kernel stack, records RSP in the state page. When the
 * kernel's extended state is live (xsave != 0, its lazy tracking), saves it there and
 * gives the domain the initial state (Inv 5). Loads the message, switches to the
 * domain's stack, scrubs what the domain must not see, and VMFUNCs to slot 1; turns
 * interrupts on if the kernel had them on (the domain runs as the kernel did). The
 * domain's entry returns here with the reply in the message registers; VMFUNC to slot 0,
 * RSP from the state page, store the reply, restore.
 * Frame at the recorded RSP: msg, xsave, outer kernel RSP, r15, r14, r13, r12, rbp, rbx.
 */
	.globl lvd_enter_domain
lvd_enter_domain:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push lvd_state_page + STATE_KERNEL_RSP
	push %rcx
	push %rdi
	mov %rsp, lvd_state_page + STATE_KERNEL_RSP
	mov %r8, %rbx
	mov %rsi, %r14
	mov %rdx, %r15
	test %rcx, %rcx
	jz 1f
	mov $-1, %eax
	mov $-1, %edx
	xsave (%rcx)
	xrstor lvd_xstate_init
1:
	mov 56(%rdi), %r12
	mov 48(%rdi), %r11
	mov 40(%rdi), %r10
	mov 32(%rdi), %r9
	mov 24(%rdi), %r8
	mov 16(%rdi), %rdx
	mov 8(%rdi), %rsi
	mov 0(%rdi), %rdi
	mov %r14, %rsp
	xor %ebp, %ebp
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %eax, %eax
	mov $1, %ecx
	vmfunc
	cmp $1, %ecx
	jne 9f
	test %ebx, %ebx
	mov $0, %ebx
	jz 1f
	sti
1:	call *%r15
	/* Back from the domain (or a domain jumping here): to the kernel, then check. */
	.globl lvd_domain_return
lvd_domain_return:
	cli
	cld				/* the kernel's code expects DF clear */
	xor %eax, %eax
	xor %ecx, %ecx
	vmfunc
	test %ecx, %ecx
	jne 8f
	mov lvd_state_page + STATE_KERNEL_RSP, %rsp
	pop %rax
	mov %rdi, 0(%rax)
	mov %rsi, 8(%rax)
	mov %rdx, 16(%rax)
	mov %r8, 24(%rax)
	mov %r9, 32(%rax)
	mov %r10, 40(%rax)
	mov %r11, 48(%rax)
	mov %r12, 56(%rax)
	pop %rcx
	test %rcx, %rcx
	jz 1f
	mov $-1, %eax
	mov $-1, %edx
	xrstor (%rcx)
1:	pop lvd_state_page + STATE_KERNEL_RSP
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
9:	mov $ABORT_BAD_INDEX_TO_DOMAIN, %ebx
	jmp lvd_abort
8:	mov $ABORT_BAD_INDEX_TO_KERNEL, %ebx
	jmp lvd_abort

/*
 * The springboard: domain -> kernel. The domain library calls it with a message in the
 * registers (and its own callee-saved registers saved). Interrupts off, VMFUNC to slot 0, check, take
 * the kernel stack from the state page (below the frame of the crossing in progress),
 * keep the domain's RSP there, and enter the kernel at its gate; the kernel comes back
 * to lvd_springboard_return with the reply in the message registers and RBX 1 if the
 * domain runs with interrupts on.
 */
	.globl lvd_springboard
lvd_springboard:
	cli
	cld
	xor %eax, %eax
	xor %ecx, %ecx
	vmfunc
	test %ecx, %ecx
	jne 8b
	mov %rsp, %rax
	mov lvd_state_page + STATE_KERNEL_RSP, %rsp
	push %rax
	push %rax
	jmp lvd_gate_domain_call

	.globl lvd_springboard_return
lvd_springboard_return:
	pop %rax
	pop %rax
	xor %ebp, %ebp
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	mov %rax, %rsp
	xor %eax, %eax
	mov $1, %ecx
	vmfunc
	cmp $1, %ecx
	jne 7f
	test %ebx, %ebx
	mov $0, %ebx
	jz 1f
	sti
1:	ret
7:	mov $ABORT_BAD_INDEX_FROM_KERNEL, %ebx

/* A failed check: nothing here may continue. The hypervisor upcalls the kernel. */
lvd_abort:
	mov $HC_ABORT, %eax
	cpuid
	ud2

/* An XSAVE area whose header says every component is in its initial state. */
	.balign 64
lvd_xstate_init:
	.zero 832

	.balign 4096
	.globl lvd_trampoline_end
lvd_trampoline_end:
