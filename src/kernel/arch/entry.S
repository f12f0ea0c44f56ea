/*
 * The kernel's machine code: everything that must be real x86-64 instructions.
 *
 * The kernel is TypeScript (src/kernel), bound to the machine through native gates.
 * What it cannot do as TypeScript is here: instructions that the hypervisor intercepts
 * once the kernel runs as its guest (MSRs, control registers, port I/O, descriptor
 * tables, CPUID), so that their cost and their VM exits come from running them; and the
 * idle loop (HLT). The interrupt entry is irq-entry.S.
 *
 * The kernel calls these routines with the System V calling convention through its
 * "call" effect (src/kernel/exec.ts).
 *
 * Built into src/kernel/arch/entry.generated.ts by `npm run build:kernel-asm`
 * (tools/build-kernel-asm.ts); test/kernel/entry-baseline.test.ts checks the two agree.
 */

	.text
	.code64

/* ---------------------------------------------------------------- MSRs, CRs, CPUID */

	.globl lvd_wrmsr		/* void lvd_wrmsr(u32 msr, u64 value) */
lvd_wrmsr:
	mov %edi, %ecx
	mov %rsi, %rax
	mov %rsi, %rdx
	shr $32, %rdx
	wrmsr
	ret

	.globl lvd_rdmsr		/* u64 lvd_rdmsr(u32 msr) */
lvd_rdmsr:
	mov %edi, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	ret

	.globl lvd_write_cr3
lvd_write_cr3:
	mov %rdi, %cr3
	ret

	.globl lvd_read_cr3
lvd_read_cr3:
	mov %cr3, %rax
	ret

	.globl lvd_write_cr0
lvd_write_cr0:
	mov %rdi, %cr0
	ret

	.globl lvd_read_cr0
lvd_read_cr0:
	mov %cr0, %rax
	ret

	.globl lvd_write_cr4
lvd_write_cr4:
	mov %rdi, %cr4
	ret

	.globl lvd_read_cr4
lvd_read_cr4:
	mov %cr4, %rax
	ret

	.globl lvd_xsetbv		/* void lvd_xsetbv(u32 xcr, u64 value) */
lvd_xsetbv:
	mov %edi, %ecx
	mov %rsi, %rax
	mov %rsi, %rdx
	shr $32, %rdx
	xsetbv
	ret

	/* void lvd_cpuid(u32 leaf, u32 subleaf, u32 out[4]): EAX, EBX, ECX, EDX */
	.globl lvd_cpuid
lvd_cpuid:
	push %rbx
	mov %edi, %eax
	mov %esi, %ecx
	mov %rdx, %r8
	cpuid
	mov %eax, 0(%r8)
	mov %ebx, 4(%r8)
	mov %ecx, 8(%r8)
	mov %edx, 12(%r8)
	pop %rbx
	ret

	/*
	 * s64 lvd_hypercall(u32 leaf, u64 a0, u64 a1, u64 a2, u64 out[1]): the hypervisor's
	 * calls are CPUID leaves (CPUID always exits); arguments in RBX, RCX, RDX, result
	 * in RAX, a second result in RBX (stored to out[0]).
	 */
	.globl lvd_hypercall
lvd_hypercall:
	push %rbx
	mov %edi, %eax
	mov %rsi, %rbx
	xchg %rdx, %rcx			/* a1 -> RCX, a2 -> RDX */
	cpuid
	mov %rbx, (%r8)
	pop %rbx
	ret

/* ---------------------------------------------------------------- port I/O */

	.globl lvd_outb			/* void lvd_outb(u16 port, u8 value) */
lvd_outb:
	mov %edi, %edx
	mov %esi, %eax
	outb %al, %dx
	ret

	.globl lvd_inb			/* u8 lvd_inb(u16 port) */
lvd_inb:
	mov %edi, %edx
	xor %eax, %eax
	inb %dx, %al
	ret

	.globl lvd_outsb		/* void lvd_outsb(u16 port, const u8 *buf, u64 n) */
lvd_outsb:
	mov %edi, %eax
	mov %rdx, %rcx
	mov %eax, %edx
	rep outsb
	ret

/* ---------------------------------------------------------------- descriptor tables */

	/* void lvd_load_tables(const void *gdtr, const void *idtr, u16 tss_selector) */
	.globl lvd_load_tables
lvd_load_tables:
	lgdt (%rdi)
	lidt (%rsi)
	ltr %dx
	mov $0x10, %eax			/* kernel data: the selectors stay those of the boot GDT */
	mov %eax, %ss
	mov %eax, %ds
	mov %eax, %es
	ret

/* ---------------------------------------------------------------- idle */

	/* Wait for an interrupt with interrupts on; return with them off. */
	.globl lvd_idle
lvd_idle:
	sti
	hlt
	cli
	ret

	/* Stop this vCPU for good (shutdown). */
	.globl lvd_halt_forever
lvd_halt_forever:
	cli
1:	hlt
	jmp 1b

/* ---------------------------------------------------------------- user mode */

	.set STATE_USER_ENTRY_RSP, 40	/* src/kernel/lvd/layout.ts STATE.userEntryRsp */

/*
 * void lvd_enter_user(u64 rip, u64 rsp): drops the calling thread to ring 3 at rip with
 * interrupts on and every other register zero (rip's and rsp's pages are new: their old
 * translations go first); it never returns (the thread ends when the kernel stops it). Interrupts and exceptions from ring 3 continue on this kernel
 * stack, recorded in the state page (irq-entry.S: the IST entry trusts no user RSP).
 */
	.globl lvd_enter_user
lvd_enter_user:
	mov %rsp, lvd_state_page + STATE_USER_ENTRY_RSP
	invlpg (%rdi)			/* this vCPU may hold translations of an earlier thread's pages */
	invlpg -8(%rsi)
	pushq $0x23			/* USER_DS */
	push %rsi
	pushq $0x202			/* IF */
	pushq $0x2b			/* USER_CS */
	push %rdi
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	iretq
