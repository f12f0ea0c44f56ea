/*
 * Interrupt and exception entry (reference §7), two ways:
 *
 *  - lvd_irq_stubs, "vanilla": the CPU pushes its frame on the interrupted stack (or on
 *    the IST of #DF, NMI, #MC), the stub saves the registers and enters the kernel.
 *  - lvd_ist_stubs, exitless delivery for a kernel with isolated domains: every vector
 *    arrives on an IST stack of this vCPU, so the CPU never writes a frame where a
 *    domain's RSP points (the rogue-stack attack). The IST stacks, these pages and the
 *    IDT are mapped in this vCPU's EPT_I too, so an interrupt or exception inside a
 *    domain is taken without a VM exit: the entry looks at the state page's in-kernel
 *    flag (1 in EPT_K's copy, 0 in the domain's view), VMFUNCs to EPT_K when it reads 0,
 *    takes GS base and the kernel stack from the state page, copies the frame to that
 *    stack (the IST is free again) and enters the kernel. On the way back the frame goes
 *    back to the IST, the only stack mapped where the domain runs, then VMFUNC and IRETQ.
 *
 * Below the saved registers (PT_REGS, src/kernel/arch/frame.ts) the entry pushes three
 * words the kernel and lvd_irq_return read (IRQ_ENTRY in frame.ts): where the interrupt
 * came from, the frame's place on the IST, and the interrupted code's GS base.
 *
 * `lvd_gate_irq` is a native gate: an undefined symbol the kernel resolves to a gate
 * address when it links this object at boot.
 */

	.set HC_ABORT, 0x4c560003
	.set ABORT_BAD_INDEX_IRQ_TO_KERNEL, 4
	.set ABORT_BAD_INDEX_IRQ_TO_DOMAIN, 5

	/* The state page (src/kernel/lvd/layout.ts STATE). */
	.set STATE_KERNEL_RSP, 0
	.set STATE_IN_KERNEL, 8
	.set STATE_GS_BASE, 24
	.set STATE_USER_ENTRY_RSP, 40

	/* PT_REGS offsets and size in quadwords (frame.ts). */
	.set PT_VECTOR, 120
	.set PT_RIP, 136
	.set PT_CS, 144
	.set PT_RSP, 160
	.set PT_WORDS, 22

	/* Where an interrupt came from (frame.ts ORIGIN). */
	.set ORIGIN_KERNEL, 0
	.set ORIGIN_DOMAIN, 1
	.set ORIGIN_DOMAIN_IN_EPT_K, 2
	.set ORIGIN_USER, 3

	/* The domain windows (src/kernel/lvd/layout.ts): 15 windows of 64 MB from -1 GB. */
	.set WINDOWS_BASE, 0xffffffffc0000000
	.set WINDOWS_BYTES, 15 << 26

	.section .text.lvd_irq_entry, "ax"
	.balign 4096

/* One 16-byte stub per vector: push a zero error code where the CPU pushes none, push
   the vector, join the common path. The IDT points vector v at stubs + 16 * v. */
	.macro STUBS common
	vector = 0
	.rept 256
	.balign 16
	.if vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17 || vector == 21 || vector == 29 || vector == 30
	.else
	pushq $0
	.endif
	pushq $vector
	jmp \common
	vector = vector + 1
	.endr
	.endm

	.macro PUSH_REGS
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rax
	push %r8
	push %r9
	push %r10
	push %r11
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	.endm

	.globl lvd_irq_stubs
lvd_irq_stubs:
	STUBS lvd_irq_vanilla
	.balign 4096
	.globl lvd_ist_stubs
lvd_ist_stubs:
	STUBS lvd_irq_exitless

lvd_irq_vanilla:
	PUSH_REGS
	pushq $0			/* GS base: unchanged */
	pushq $0			/* IST frame: none */
	pushq $ORIGIN_KERNEL
	jmp lvd_gate_irq

lvd_irq_exitless:
	PUSH_REGS
	mov %rsp, %rbx			/* the frame, on this vCPU's IST */
	/* R15 = 1 for NMI, #DF and #MC: they may land anywhere, this code and the kernel's
	   own crossing code included, so they stay on their IST. */
	xor %r15d, %r15d
	mov PT_VECTOR(%rbx), %rax
	cmp $2, %rax
	je 1f
	cmp $8, %rax
	je 1f
	cmp $18, %rax
	jne 2f
1:	mov $1, %r15d
2:	cmpq $0, lvd_state_page + STATE_IN_KERNEL
	jne 3f
	/* Inside a domain (EPT_I's view of the state page): to the kernel's EPT. */
	xor %eax, %eax
	xor %ecx, %ecx
	vmfunc
	test %ecx, %ecx
	jne 9f
	mov $ORIGIN_DOMAIN, %r12d
	jmp 5f
3:	/* In EPT_K. From ring 3: the kernel stack is the one the thread left for user mode. */
	testb $3, PT_CS(%rbx)
	jz 4f
	mov $ORIGIN_USER, %r12d
	mov lvd_state_page + STATE_USER_ENTRY_RSP, %rsi
	jmp 6f
4:	/* At the crossing code or in a domain's window the registers are a domain's: one
	   that jumped to a VMFUNC of the trampoline page (the kernel runs that code with
	   interrupts off) or executed a VMFUNC of its own. Otherwise the kernel's. */
	xor %r12d, %r12d
	xor %r13d, %r13d
	mov PT_RSP(%rbx), %rsi
	test %r15d, %r15d
	jnz 7f
	mov PT_RIP(%rbx), %rax
	lea lvd_trampoline_page(%rip), %rcx
	lea lvd_trampoline_end(%rip), %rdx
	cmp %rcx, %rax
	jb 0f
	cmp %rdx, %rax
	jb 1f
0:	movabs $WINDOWS_BASE, %rcx
	sub %rcx, %rax
	cmp $WINDOWS_BYTES, %rax
	jae 7f
1:	mov $ORIGIN_DOMAIN_IN_EPT_K, %r12d
5:	/* A domain's: the kernel stack is below the frame of the crossing in progress. */
	mov lvd_state_page + STATE_KERNEL_RSP, %rsi
6:	/* Not the kernel's: nothing it set is trusted; GS base from the state page (R13
	   keeps the interrupted code's). */
	rdgsbase %r13
	mov lvd_state_page + STATE_GS_BASE, %rax
	wrgsbase %rax
7:	test %r15d, %r15d
	jnz 8f
	/* The rest run on that stack, which frees the IST for the next interrupt. */
	and $-16, %rsi
	sub $(PT_WORDS * 8), %rsi
	mov %rsi, %rdi
	mov %rbx, %rsi
	mov $PT_WORDS, %ecx
	cld
	rep movsq
	lea -(PT_WORDS * 8)(%rdi), %rsp
8:	push %r13			/* the interrupted code's GS base */
	push %rbx			/* the frame's place on the IST */
	push %r12			/* the origin */
	jmp lvd_gate_irq
9:	mov $ABORT_BAD_INDEX_IRQ_TO_KERNEL, %ebx
	jmp lvd_irq_abort

/*
 * Where the kernel continues after it handled an interrupt, RSP at the origin word. From
 * a domain: GS base back, the frame back to the IST, VMFUNC to the domain's EPT (slot 1)
 * and check. Then the registers and IRETQ.
 */
	.globl lvd_irq_return
lvd_irq_return:
	pop %rax			/* origin */
	pop %rbx			/* IST frame */
	pop %r13			/* GS base */
	test %rax, %rax
	jz 3f
	wrgsbase %r13
	cmp %rsp, %rbx
	je 1f
	mov %rsp, %rsi
	mov %rbx, %rdi
	mov $PT_WORDS, %ecx
	cld
	rep movsq
	mov %rbx, %rsp
1:	cmp $ORIGIN_DOMAIN, %rax
	jne 3f
	xor %eax, %eax
	mov $1, %ecx
	vmfunc
	cmp $1, %ecx
	jne 8f
3:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rax
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	add $16, %rsp			/* vector and error code */
	iretq
8:	mov $ABORT_BAD_INDEX_IRQ_TO_DOMAIN, %ebx
lvd_irq_abort:				/* a failed ECX check: the hypervisor upcalls the kernel */
	mov $HC_ABORT, %eax
	cpuid
	ud2

	.balign 4096
	.globl lvd_irq_entry_end
lvd_irq_entry_end:
