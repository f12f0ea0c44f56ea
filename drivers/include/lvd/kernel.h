/*
 * What the LVD kernel exports to modules (src/kernel/modules/exports.ts). A module is a
 * gcc-compiled ELF relocatable object, linked into kernel space at load; these names are
 * resolved against the kernel's export table (each one a native gate into the kernel).
 */
#ifndef LVD_KERNEL_H
#define LVD_KERNEL_H

#include <lvd/types.h>

/* Logs a line through the kernel console (printf-style: %d %i %u %x %X %p %s %c %%,
   with l/ll/z/h modifiers, field width and 0 padding). Returns the characters logged. */
int printk(const char *fmt, ...);

void *kmalloc(size_t size);
void kfree(void *p);

/* The vCPU the caller runs on, and the kernel thread it runs as. */
int smp_processor_id(void);
int current_thread_id(void);

/* Gives up the vCPU (stays runnable); sleeps for a number of cycles. */
void schedule(void);
void sleep_cycles(u64 cycles);

/* Runs fn(arg) in a new kernel thread; returns its id. kthread_join waits for it and
   returns fn's result (or -1 if the thread was killed). */
int kthread_run(long (*fn)(void *), void *arg, const char *name);
long kthread_join(int id);

/* The caller starts (ends) using x87/SSE state in kernel code: crossings into domains
   save and restore it from then on (Inv 5). */
void kernel_fpu_begin(void);
void kernel_fpu_end(void);

/* Reads the time-stamp counter. */
static inline u64 rdtsc(void) {
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* Module entry points, as in Linux: module_init(fn) runs fn at load (non-zero fails the
   load), module_exit(fn) runs fn at unload. */
#define module_init(fn) int init_module(void) __attribute__((alias(#fn)));
#define module_exit(fn) void cleanup_module(void) __attribute__((alias(#fn)));

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
