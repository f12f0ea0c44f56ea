/*
 * Microbenchmarks of sensitive instructions (the reference's Table 2): each routine runs
 * one instruction n times with interrupts off and returns the TSC cycles it took. The
 * loop without the instruction (lvd_bench_loop) is measured the same way and subtracted.
 */
	.text
	.code64

#define START			\
	pushf;			\
	cli;			\
	rdtsc;			\
	shl $32, %rdx;		\
	or %rdx, %rax;		\
	mov %rax, %r9

#define END			\
	rdtsc;			\
	shl $32, %rdx;		\
	or %rdx, %rax;		\
	sub %r9, %rax;		\
	popf;			\
	ret

	/* u64 lvd_bench_loop(u64 n): the loop alone, with the register set-up the others do. */
	.globl lvd_bench_loop
lvd_bench_loop:
	START
1:	mov %r10d, %eax
	mov %r11d, %edx
	dec %rdi
	jnz 1b
	END

	/* u64 lvd_bench_wrmsr(u64 n, u32 msr, u64 value) */
	.globl lvd_bench_wrmsr
lvd_bench_wrmsr:
	mov %esi, %ecx
	mov %edx, %r10d
	shr $32, %rdx
	mov %edx, %r11d
	START
1:	mov %r10d, %eax
	mov %r11d, %edx
	wrmsr
	dec %rdi
	jnz 1b
	END

	/* u64 lvd_bench_out(u64 n, u16 port) */
	.globl lvd_bench_out
lvd_bench_out:
	mov %esi, %r8d
	START
	mov %r8d, %edx
1:	mov %r10d, %eax
	mov %r11d, %eax
	outb %al, %dx
	dec %rdi
	jnz 1b
	END

	/* u64 lvd_bench_write_cr3(u64 n, u64 cr3) */
	.globl lvd_bench_write_cr3
lvd_bench_write_cr3:
	START
1:	mov %r10d, %eax
	mov %r11d, %edx
	mov %rsi, %cr3
	dec %rdi
	jnz 1b
	END

	/* u64 lvd_bench_cr3_rotate(u64 n, const u64 *cr3s, u64 count): CR3 loads cycling through count values */
	.globl lvd_bench_cr3_rotate
lvd_bench_cr3_rotate:
	mov %rdx, %r8
	START
	xor %ecx, %ecx
1:	mov (%rsi,%rcx,8), %rax
	mov %rax, %cr3
	inc %rcx
	cmp %r8, %rcx
	jne 2f
	xor %ecx, %ecx
2:	dec %rdi
	jnz 1b
	END

	/* u64 lvd_bench_vmfunc(u64 n): VMFUNC to EPTP-list slot 0 (the EPT in use: the kernel's) n times */
	.globl lvd_bench_vmfunc
lvd_bench_vmfunc:
	START
1:	xor %eax, %eax
	xor %ecx, %ecx
	vmfunc
	dec %rdi
	jnz 1b
	END

	/*
	 * u64 lvd_bench_spin(u64 n): the loop of lvd_bench_loop with interrupts on, for the
	 * reference's Table 3 (src/kernel/tables/table3.ts). It returns with interrupts off:
	 * one that arrives after the second RDTSC stays pending, so the caller counts only
	 * the interrupts the timed window took (and turns them back on itself).
	 */
	.globl lvd_bench_spin
lvd_bench_spin:
	cli
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r9
	sti
1:	mov %r10d, %eax
	mov %r11d, %edx
	dec %rdi
	jnz 1b
	cli
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r9, %rax
	ret
