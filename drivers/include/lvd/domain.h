/*
 * The domain's world (src/kernel/lvd): what an isolated driver can use. Kernel functions
 * the driver imports come from its IDL's generated glue; these are the domain library's
 * own (drivers/lib/lvd) and the domain syscalls.
 */
#ifndef LVD_DOMAIN_H
#define LVD_DOMAIN_H

#include <lvd/kernel.h>
#include <lvd/glue.h> /* the wire format, struct lvd_msg, the CSpace */

/* Domain syscalls (LVD_KIND_SYSCALL, the index is the number). */
#define LVD_SYS_EXIT 0
#define LVD_SYS_PRINTK 1
#define LVD_SYS_ALLOC_PAGES 2
#define LVD_SYS_CPU 3

/* The syscalls (lvd_call_kernel, lvd_ext_words and the CSpace are declared in glue.h). */
void lvd_exit(int code) __attribute__((noreturn));
void *lvd_alloc_pages(u64 n);
int lvd_cpu(void);

/* The domain's heap. */
void *malloc(size_t n);
void free(void *p);

#endif
