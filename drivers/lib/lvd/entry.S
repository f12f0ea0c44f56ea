/*
 * The domain's side of a crossing (src/kernel/lvd/trampoline.S is the kernel's).
 *
 * lvd_domain_entry: where the kernel's trampoline calls, on a stack of this domain, with
 * a message in rdi, rsi, rdx, r8, r9, r10, r11, r12. It stores the message, lets the C
 * library dispatch it, and returns the reply in the same registers.
 *
 * lvd_call_kernel(struct lvd_msg *m): keeps the callee-saved registers (the kernel zeroes
 * them on the way back), loads the message, calls the springboard (a shared page at the
 * same address in both EPTs), stores the reply, returns 0.
 */
	.text
	.globl lvd_domain_entry
lvd_domain_entry:
	sub $72, %rsp
	mov %rdi, 0(%rsp)
	mov %rsi, 8(%rsp)
	mov %rdx, 16(%rsp)
	mov %r8, 24(%rsp)
	mov %r9, 32(%rsp)
	mov %r10, 40(%rsp)
	mov %r11, 48(%rsp)
	mov %r12, 56(%rsp)
	mov %rsp, %rdi
	call lvd_dispatch_message
	mov 0(%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	mov 24(%rsp), %r8
	mov 32(%rsp), %r9
	mov 40(%rsp), %r10
	mov 48(%rsp), %r11
	mov 56(%rsp), %r12
	add $72, %rsp
	ret

	.globl lvd_call_kernel
lvd_call_kernel:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi
	mov 56(%rdi), %r12
	mov 48(%rdi), %r11
	mov 40(%rdi), %r10
	mov 32(%rdi), %r9
	mov 24(%rdi), %r8
	mov 16(%rdi), %rdx
	mov 8(%rdi), %rsi
	mov 0(%rdi), %rdi
	call lvd_springboard
	pop %rax
	mov %rdi, 0(%rax)
	mov %rsi, 8(%rax)
	mov %rdx, 16(%rax)
	mov %r8, 24(%rax)
	mov %r9, 32(%rax)
	mov %r10, 40(%rax)
	mov %r11, 48(%rax)
	mov %r12, 56(%rax)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	xor %eax, %eax			/* a reply (REPLY or ERROR) came back */
	ret
