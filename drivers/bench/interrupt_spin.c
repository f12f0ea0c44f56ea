/*
 * A domain that keeps a vCPU busy while interrupts arrive (the reference's Table 3 and
 * exitless delivery under load: src/kernel/tables/table3.ts, src/kernel/interrupt-storm.ts).
 *   0 spin(n)              the loop of the kernel's lvd_bench_spin (arch/bench.S), the same
 *                          instructions, timed with RDTSC inside the domain; returns with
 *                          interrupts off, so one that arrives after the second RDTSC stays
 *                          pending until the kernel has counted those the window took
 *   1 xorshift(x, rounds)  the xorshift64 chain of arch/selftest.S: a result the kernel
 *                          checks, which an interrupt that corrupted a register would change
 *   2 xorshift_call(x, rounds)  the chain, then RPC 0 to the kernel with it; returns the
 *                          kernel's reply word, or -1 if the kernel answered with an error
 * 1 and 2 also return x as a second word, read back from the stack at the end: another
 * crossing that used the same stack meanwhile (a thread blocked inside) would change it.
 */
#include <lvd/domain.h>

static u64 spin(u64 n) {
	u64 cycles;
	__asm__ volatile(
		"cli\n\t"
		"rdtsc\n\t"
		"shl $32, %%rdx\n\t"
		"or %%rdx, %%rax\n\t"
		"mov %%rax, %%r9\n\t"
		"sti\n"
		"1:\tmov %%r10d, %%eax\n\t"
		"mov %%r11d, %%edx\n\t"
		"dec %%rdi\n\t"
		"jnz 1b\n\t"
		"cli\n\t"
		"rdtsc\n\t"
		"shl $32, %%rdx\n\t"
		"or %%rdx, %%rax\n\t"
		"sub %%r9, %%rax"
		: "=a"(cycles), "+D"(n)
		:
		: "rdx", "r9", "r10", "r11", "cc", "memory");
	return cycles;
}

static u64 xorshift(u64 x, u64 rounds) {
	for (u64 i = 0; i < rounds; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

int lvd_dispatch(struct lvd_msg *m) {
	u64 index = m->w[0] & 0xffff;
	volatile u64 seed = m->w[1]; /* on this crossing's stack while the kernel runs */
	u32 words = 2;
	switch (index) {
	case 0:
		m->w[1] = spin(m->w[1]);
		break;
	case 1:
	case 2:
		m->w[1] = xorshift(m->w[1], m->w[2]);
		if (index == 2) {
			struct lvd_msg k = {{LVD_HEADER(LVD_KIND_RPC, 0, 2), m->w[1]}};
			lvd_call_kernel(&k);
			m->w[1] = LVD_HEADER_KIND(k.w[0]) == LVD_KIND_REPLY ? k.w[1] : (u64)-1;
		}
		m->w[2] = seed;
		words = 3;
		break;
	default:
		m->w[0] = LVD_HEADER(LVD_KIND_ERROR, index, 2);
		m->w[1] = LVD_ERR_MESSAGE;
		return -1;
	}
	m->w[0] = LVD_HEADER(LVD_KIND_REPLY, 0, words);
	return 0;
}

static int init(void) {
	return 0;
}
module_init(init);
