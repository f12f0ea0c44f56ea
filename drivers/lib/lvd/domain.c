/*
 * The domain library: what every isolated driver is linked with. Message dispatch (module
 * init/exit and the kernel's calls of the driver's callbacks through the generated
 * glue), the domain syscalls, printk through the kernel, and a heap.
 */
#include <lvd/domain.h>

int init_module(void) __attribute__((weak));
void cleanup_module(void) __attribute__((weak));
/* The IDL compiler's generated dispatcher, when the driver has glue. */
int lvd_dispatch(struct lvd_msg *m) __attribute__((weak));

/* Called by lvd_domain_entry with the incoming message; leaves the reply in it. */
void lvd_dispatch_message(struct lvd_msg *m) {
	u64 kind = LVD_KIND(m->w[0]);
	if (kind == LVD_KIND_INIT) {
		m->w[1] = init_module ? (u64)(s64)init_module() : 0;
	} else if (kind == LVD_KIND_EXIT) {
		if (cleanup_module)
			cleanup_module();
		m->w[1] = 0;
	} else if (kind == LVD_KIND_RPC_PTR && lvd_dispatch) {
		if (lvd_dispatch(m) != 0)
			m->w[0] = LVD_HEADER(LVD_KIND_ERROR, 0);
		return;
	} else {
		m->w[0] = LVD_HEADER(LVD_KIND_ERROR, 0);
		return;
	}
	m->w[0] = LVD_HEADER(LVD_KIND_REPLY, 0);
}

static u64 syscall(u64 nr, u64 a, u64 b) {
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_SYSCALL, nr), a, b}};
	if (lvd_call_kernel(&m) != 0)
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

int lvd_cpu(void) {
	return (int)syscall(LVD_SYS_CPU, 0, 0);
}

int smp_processor_id(void) {
	return lvd_cpu();
}

/* printk: the format and up to six arguments go to the kernel, which formats them
   (reading %s strings from the domain's memory) and logs the line as this domain's. */
int printk(const char *fmt, ...) {
	__builtin_va_list ap;
	struct lvd_msg m = {{LVD_HEADER(LVD_KIND_SYSCALL, LVD_SYS_PRINTK), (u64)fmt}};
	__builtin_va_start(ap, fmt);
	for (int i = 2; i < 8; i++)
		m.w[i] = __builtin_va_arg(ap, u64);
	__builtin_va_end(ap);
	if (lvd_call_kernel(&m) != 0)
		return -1;
	return (int)m.w[1];
}

/* The heap: first fit over blocks with a size header, grown by whole pages. */
struct block {
	size_t size; /* bytes after the header; low bit: in use */
	struct block *next;
};
static struct block *heap;

void *malloc(size_t n) {
	n = (n + 15) & ~(size_t)15;
	for (struct block *b = heap; b; b = b->next) {
		if (!(b->size & 1) && b->size >= n) {
			if (b->size >= n + sizeof(struct block) + 16) {
				struct block *rest = (struct block *)((char *)(b + 1) + n);
				rest->size = b->size - n - sizeof(struct block);
				rest->next = b->next;
				b->next = rest;
				b->size = n;
			}
			b->size |= 1;
			return b + 1;
		}
	}
	u64 pages = (n + sizeof(struct block) + 4095) / 4096;
	struct block *b = lvd_alloc_pages(pages);
	if (b == (void *)-1 || !b)
		return NULL;
	b->size = pages * 4096 - sizeof(struct block);
	b->next = heap;
	heap = b;
	return malloc(n);
}

void free(void *p) {
	if (p)
		((struct block *)p - 1)->size &= ~(size_t)1;
}

void *kmalloc(size_t n) {
	return malloc(n);
}
void kfree(void *p) {
	free(p);
}
