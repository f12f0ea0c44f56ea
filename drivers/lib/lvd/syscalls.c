/*
 * The domain syscalls (src/kernel/lvd/syscalls.ts serves them): a message of kind
 * LVD_KIND_SYSCALL through the springboard, the number as its index.
 */
#include <lvd/domain.h>

static u64 syscall3(u32 nr, u64 a, u64 b, u64 c) {
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_SYSCALL, nr, 4), a, b, c}};
	lvd_call_kernel(&m);
	if (LVD_HEADER_KIND(m.w[0]) != LVD_KIND_REPLY)
		return (u64)-1;
	return m.w[1];
}

static u64 syscall(u32 nr, u64 a, u64 b) {
	return syscall3(nr, a, b, 0);
}

void lvd_exit(int code) {
	syscall(LVD_SYS_EXIT, (u64)(s64)code, 0);
	for (;;)
		;
}

void *lvd_alloc_pages(u64 n) {
	return (void *)syscall(LVD_SYS_ALLOC_PAGES, n, 0);
}

long lvd_map(lvd_cptr_t cap, void *addr, u64 rights) {
	return (long)syscall3(LVD_SYS_MAP, cap, (u64)addr, rights);
}

long lvd_unmap(void *addr) {
	return (long)syscall(LVD_SYS_UNMAP, (u64)addr, 0);
}

long lvd_cap_delete(lvd_cptr_t cap) {
	return (long)syscall(LVD_SYS_CAP_DELETE, cap, 0);
}

long lvd_cap_revoke(lvd_cptr_t cap) {
	return (long)syscall(LVD_SYS_CAP_REVOKE, cap, 0);
}

long lvd_cap_grant(lvd_cptr_t cap, lvd_cptr_t domain, u64 rights) {
	return (long)syscall3(LVD_SYS_CAP_GRANT, cap, domain, rights);
}

long lvd_cap_info(lvd_cptr_t cap) {
	return (long)syscall(LVD_SYS_CAP_INFO, cap, 0);
}

/* printk: the format and up to six arguments go to the kernel, which formats them
   (reading %s strings from the domain's memory) and logs the line as this domain's. */
int printk(const char *fmt, ...) {
	__builtin_va_list ap;
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_SYSCALL, LVD_SYS_PRINTK, 8), (u64)fmt}};
	__builtin_va_start(ap, fmt);
	for (int i = 2; i < 8; i++)
		m.w[i] = __builtin_va_arg(ap, u64);
	__builtin_va_end(ap);
	lvd_call_kernel(&m);
	if (LVD_HEADER_KIND(m.w[0]) != LVD_KIND_REPLY)
		return -1;
	return (int)m.w[1];
}
