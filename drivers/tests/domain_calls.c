/*
 * An isolated driver with a hand-written dispatcher (what IDL glue generates): the kernel
 * calls its functions by RPC_PTR index, and it calls the kernel back by RPC.
 *   0 null()            returns nothing: the null call/reply
 *   1 add(a, b)         returns a + b and the vCPU it ran on
 *   2 nest(depth)       calls the kernel (RPC 0, "nest_back(depth)"), which calls nest(depth - 1)
 *   3 peek(address)     reads a quadword at address (another domain's, the kernel's...)
 *   4 poke(address, v)  writes one
 *   5 clobber(byte)     loads XMM registers full of `byte` (FXRSTOR)
 *   6 xmm0()            the low quadword of XMM0 as the domain sees it (FXSAVE)
 */
#include <lvd/domain.h>

static u64 calls;
static u8 fxarea[512] __attribute__((aligned(16)));

static u64 nest_back(u64 depth) {
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_RPC, 0, 2), depth}};
	lvd_call_kernel(&m);
	if (LVD_HEADER_KIND(m.w[0]) != LVD_KIND_REPLY)
		return (u64)-1;
	return m.w[1];
}

int lvd_dispatch(struct lvd_msg *m) {
	u64 index = m->w[0] & 0xffff;
	calls++;
	switch (index) {
	case 0:
		break;
	case 1:
		m->w[1] = m->w[1] + m->w[2];
		m->w[2] = (u64)lvd_cpu();
		break;
	case 2:
		m->w[1] = m->w[1] == 0 ? 1 : 1 + nest_back(m->w[1]);
		break;
	case 3:
		m->w[1] = *(volatile u64 *)m->w[1];
		break;
	case 4:
		*(volatile u64 *)m->w[1] = m->w[2];
		break;
	case 5:
		memset(fxarea, (int)m->w[1], sizeof fxarea);
		*(u32 *)(fxarea + 24) = 0x1f80; /* MXCSR: a valid value */
		__asm__ volatile("fxrstor %0" : : "m"(fxarea));
		break;
	case 6:
		__asm__ volatile("fxsave %0" : "=m"(fxarea));
		m->w[1] = *(u64 *)(fxarea + 160);
		break;
	default:
		m->w[0] = LVD_HEADER(LVD_KIND_ERROR, index, 2);
		m->w[1] = LVD_ERR_MESSAGE;
		return -1;
	}
	m->w[0] = LVD_HEADER(LVD_KIND_REPLY, 0, 3);
	return 0;
}

static u64 secret = 0x5ec12e7;

static int init(void) {
	printk("calls: ready, secret at %p\n", &secret);
	return 0;
}
module_init(init);
