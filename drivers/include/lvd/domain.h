/*
 * The domain's world (src/kernel/lvd): what an isolated driver can use. Kernel functions
 * the driver imports come from its IDL's generated glue; these are the domain library's
 * own (drivers/lib/lvd) and the domain syscalls.
 */
#ifndef LVD_DOMAIN_H
#define LVD_DOMAIN_H

#include <lvd/kernel.h>

/* Message kinds (docs/glue-abi.md). */
#define LVD_KIND_RPC 1
#define LVD_KIND_RPC_PTR 2
#define LVD_KIND_INIT 3
#define LVD_KIND_EXIT 4
#define LVD_KIND_SYSCALL 5
#define LVD_KIND_REPLY 0x80
#define LVD_KIND_ERROR 0x81
#define LVD_HEADER(kind, index) (((u64)(kind) << 16) | (u64)(index))
#define LVD_KIND(header) (((header) >> 16) & 0xff)

/* Domain syscalls (LVD_KIND_SYSCALL, the index is the number). */
#define LVD_SYS_EXIT 0
#define LVD_SYS_PRINTK 1
#define LVD_SYS_ALLOC_PAGES 2
#define LVD_SYS_CPU 3

struct lvd_msg {
	u64 w[8];
};

/* Sends m to the kernel through the springboard; the reply replaces it. Returns 0, or -1
   if the kernel answered ERROR. */
int lvd_call_kernel(struct lvd_msg *m);

/* The syscalls. */
void lvd_exit(int code) __attribute__((noreturn));
void *lvd_alloc_pages(u64 n);
int lvd_cpu(void);

/* The domain's heap. */
void *malloc(size_t n);
void free(void *p);

#endif
