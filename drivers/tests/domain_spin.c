/*
 * A domain that computes for a while, so that interrupts land inside it, and that can
 * ask the kernel for something in the middle (an RPC the test serves).
 *   0 spin(seed, rounds)       the xorshift64 chain of seed, `rounds` long (arch/selftest.S's)
 *   1 spin_call(seed, rounds)  spin, then RPC 0 to the kernel with the result; returns the
 *                              kernel's reply word, or -1 if the kernel answered with an error
 * Both return the seed as a second word, read back from the stack at the end (another
 * crossing that used the same stack meanwhile would have changed it).
 */
#include <lvd/domain.h>

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
	u64 x = xorshift(m->w[1], m->w[2]);
	if (index == 1) {
		struct lvd_msg k = {{LVD_HEADER(LVD_KIND_RPC, 0, 2), x}};
		lvd_call_kernel(&k);
		x = LVD_HEADER_KIND(k.w[0]) == LVD_KIND_REPLY ? k.w[1] : (u64)-1;
	} else if (index != 0) {
		m->w[0] = LVD_HEADER(LVD_KIND_ERROR, index, 2);
		m->w[1] = LVD_ERR_MESSAGE;
		return -1;
	}
	m->w[0] = LVD_HEADER(LVD_KIND_REPLY, 0, 3);
	m->w[1] = x;
	m->w[2] = seed;
	return 0;
}
