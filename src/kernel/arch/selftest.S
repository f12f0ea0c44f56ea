/*
 * Machine code the kernel's self-test threads run (src/kernel/selftest.ts): CPU-bound
 * work that takes timer interrupts and preemption wherever it happens to be.
 */
	.text
	.code64

	/* u64 lvd_work(u64 seed, u64 rounds): xorshift64 `rounds` times. */
	.globl lvd_work
lvd_work:
	mov %rdi, %rax
	test %rsi, %rsi
	jz 2f
1:	mov %rax, %rdx
	shl $13, %rdx
	xor %rdx, %rax
	mov %rax, %rdx
	shr $7, %rdx
	xor %rdx, %rax
	mov %rax, %rdx
	shl $17, %rdx
	xor %rdx, %rax
	dec %rsi
	jnz 1b
2:	ret
