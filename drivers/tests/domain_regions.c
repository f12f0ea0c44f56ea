/*
 * An isolated driver that uses kernel-granted memory through the capability syscalls.
 * The kernel calls its functions by RPC_PTR index (test/lvd/syscalls.test.ts); offsets are
 * from the start of the window's mappings area, so a test can also name places outside it.
 *   0 map(cptr, offset, rights)     lvd_map at the mappings area + offset
 *   1 peek(offset)                  reads a quadword there
 *   2 poke(offset, v)               writes one
 *   3 unmap(offset)                 lvd_unmap
 *   4 delete(cptr)                  lvd_cap_delete
 *   5 revoke(cptr)                  lvd_cap_revoke
 *   6 grant(cptr, domain, rights)   lvd_cap_grant
 *   7 info(cptr)                    lvd_cap_info
 *   8 say(offset)                   printk of the string there (the kernel reads it too)
 *   9 add(a, b)                     a + b: the domain still answers
 */
#include <lvd/domain.h>

int lvd_dispatch(struct lvd_msg *m) {
	u64 index = m->w[0] & 0xffff;
	char *area = lvd_mappings();
	switch (index) {
	case 0:
		m->w[1] = (u64)lvd_map(m->w[1], area + (s64)m->w[2], m->w[3]);
		break;
	case 1:
		m->w[1] = *(volatile u64 *)(area + (s64)m->w[1]);
		break;
	case 2:
		*(volatile u64 *)(area + (s64)m->w[1]) = m->w[2];
		break;
	case 3:
		m->w[1] = (u64)lvd_unmap(area + (s64)m->w[1]);
		break;
	case 4:
		m->w[1] = (u64)lvd_cap_delete(m->w[1]);
		break;
	case 5:
		m->w[1] = (u64)lvd_cap_revoke(m->w[1]);
		break;
	case 6:
		m->w[1] = (u64)lvd_cap_grant(m->w[1], m->w[2], m->w[3]);
		break;
	case 7:
		m->w[1] = (u64)lvd_cap_info(m->w[1]);
		break;
	case 8:
		printk("regions: the kernel says \"%s\"\n", area + (s64)m->w[1]);
		break;
	case 9:
		m->w[1] = m->w[1] + m->w[2];
		break;
	default:
		m->w[0] = LVD_HEADER(LVD_KIND_ERROR, index, 2);
		m->w[1] = LVD_ERR_MESSAGE;
		return -1;
	}
	m->w[0] = LVD_HEADER(LVD_KIND_REPLY, 0, 2);
	return 0;
}
