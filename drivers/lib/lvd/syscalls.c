/*
 * The domain syscalls (src/kernel/lvd/syscalls.ts serves them): a message of kind
 * LVD_KIND_SYSCALL through the springboard, the number as its index.
 */
#include <lvd/domain.h>

static u64 syscall(u32 nr, u64 a, u64 b) {
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_SYSCALL, nr, 3), a, b}};
	lvd_call_kernel(&m);
	if (LVD_HEADER_KIND(m.w[0]) != LVD_KIND_REPLY)
		return (u64)-1;
	return m.w[1];
}

void lvd_exit(int code) {
	syscall(LVD_SYS_EXIT, (u64)(s64)code, 0);
	for (;;)
		;
}

void *lvd_alloc_pages(u64 n) {
	return (void *)syscall(LVD_SYS_ALLOC_PAGES, n, 0);
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
