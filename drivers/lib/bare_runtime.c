/*
 * bare_runtime.c - the few functions gcc may call from freestanding code.
 *
 * Even with -ffreestanding gcc emits calls to memcpy/memset/memmove/memcmp
 * (struct copies, zeroing of large locals, __builtin_mem* that it does not
 * expand inline), and it lowers a few builtins to libgcc helpers when the
 * target lacks the instruction (without -mpopcnt, __builtin_popcount* becomes
 * a call to __popcountdi2; at -Os __builtin_clrsb* becomes __clrsbdi2).
 * This file provides all of them, so a bare program links with nothing but
 * this object (no libc, no libgcc).
 *
 * Provided: memcpy, memset, memmove, memcmp, strlen,
 *           __popcountdi2, __paritydi2, __clrsbdi2.
 *
 * Important: none of these functions may be compiled into a call to itself.
 * gcc's loop-distribution pass turns "copy/set loops" into memcpy/memset
 * calls (-ftree-loop-distribute-patterns, on at -O2 and up), and since gcc 12
 * can do the same for strlen-like loops.  Every loop below therefore contains
 * an empty asm statement that "modifies" the running pointer (LVD_RT_OPAQUE),
 * which hides the access pattern from the optimizer at any -O level without
 * costing an instruction; the functions are additionally marked with
 * optimize("no-tree-loop-distribute-patterns").  The popcount/parity helpers
 * use loop-free bit arithmetic so that gcc's popcount-idiom recognition
 * cannot turn them back into __builtin_popcount (i.e. into a self-call).
 *
 * Plain C, no floating point; builds cleanly with the machine flags
 * (-ffreestanding -mcmodel=kernel -mno-red-zone -mgeneral-regs-only ... -Wall
 * -Werror) at every -O level, and natively (-DLVD_NATIVE does not matter here).
 */
#include <stddef.h>

typedef unsigned long __attribute__((may_alias)) lvd_rt_word;

#define LVD_RT_FN __attribute__((optimize("no-tree-loop-distribute-patterns")))
#define LVD_RT_OPAQUE(p) __asm__("" : "+r"(p))

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int __popcountdi2(unsigned long x);
int __paritydi2(unsigned long x);
int __clrsbdi2(long x);

LVD_RT_FN void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;

    if ((((unsigned long)d | (unsigned long)s) & 7u) == 0) {
        while (n >= 8) {
            LVD_RT_OPAQUE(d);
            *(lvd_rt_word *)d = *(const lvd_rt_word *)s;
            d += 8;
            s += 8;
            n -= 8;
        }
    }
    while (n != 0) {
        LVD_RT_OPAQUE(d);
        *d++ = *s++;
        n--;
    }
    return dst;
}

LVD_RT_FN void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    unsigned char b = (unsigned char)c;

    while (n != 0 && ((unsigned long)d & 7u) != 0) {
        LVD_RT_OPAQUE(d);
        *d++ = b;
        n--;
    }
    if (n >= 8) {
        unsigned long w = 0x0101010101010101ul * b;
        while (n >= 8) {
            LVD_RT_OPAQUE(d);
            *(lvd_rt_word *)d = w;
            d += 8;
            n -= 8;
        }
    }
    while (n != 0) {
        LVD_RT_OPAQUE(d);
        *d++ = b;
        n--;
    }
    return dst;
}

LVD_RT_FN void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    unsigned long da = (unsigned long)d, sa = (unsigned long)s;

    if (da == sa || n == 0)
        return dst;
    if (da < sa || da - sa >= n) {
        /* forward copy is safe: dst below src, or no overlap */
        if (((da | sa) & 7u) == 0) {
            while (n >= 8) {
                LVD_RT_OPAQUE(d);
                *(lvd_rt_word *)d = *(const lvd_rt_word *)s;
                d += 8;
                s += 8;
                n -= 8;
            }
        }
        while (n != 0) {
            LVD_RT_OPAQUE(d);
            *d++ = *s++;
            n--;
        }
    } else {
        /* dst overlaps the tail of src: copy backwards */
        d += n;
        s += n;
        if (((da | sa | n) & 7u) == 0) {
            while (n >= 8) {
                LVD_RT_OPAQUE(d);
                d -= 8;
                s -= 8;
                *(lvd_rt_word *)d = *(const lvd_rt_word *)s;
                n -= 8;
            }
        }
        while (n != 0) {
            LVD_RT_OPAQUE(d);
            *--d = *--s;
            n--;
        }
    }
    return dst;
}

LVD_RT_FN int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (n != 0) {
        LVD_RT_OPAQUE(p);
        if (*p != *q)
            return (int)*p - (int)*q;
        p++;
        q++;
        n--;
    }
    return 0;
}

LVD_RT_FN size_t strlen(const char *s)
{
    const char *p = s;

    while (*p != '\0') {
        LVD_RT_OPAQUE(p);
        p++;
    }
    return (size_t)(p - s);
}

int __popcountdi2(unsigned long x)
{
    x = x - ((x >> 1) & 0x5555555555555555ul);
    x = (x & 0x3333333333333333ul) + ((x >> 2) & 0x3333333333333333ul);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0ful;
    return (int)((x * 0x0101010101010101ul) >> 56);
}

int __paritydi2(unsigned long x)
{
    x ^= x >> 32;
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    return (int)((0x6996u >> (x & 15u)) & 1u);
}

/* number of leading redundant sign bits (copies of the sign bit after it) */
int __clrsbdi2(long x)
{
    unsigned long u = (unsigned long)x;
    int n = 0;

    if (x < 0)
        u = ~u;
    /* u now has a 0 sign bit; count its leading zeros, minus the sign bit */
    if (u == 0)
        return 63;
    if ((u >> 32) == 0) { n += 32; u <<= 32; }
    if ((u >> 48) == 0) { n += 16; u <<= 16; }
    if ((u >> 56) == 0) { n += 8; u <<= 8; }
    if ((u >> 60) == 0) { n += 4; u <<= 4; }
    if ((u >> 62) == 0) { n += 2; u <<= 2; }
    if ((u >> 63) == 0) { n += 1; }
    return n - 1;
}
