/*
 * lvd_bare.h - the tiny API of a "bare" LVD program.
 *
 * A bare program is freestanding gcc-compiled C (no libc, no floating point,
 * built with -mgeneral-regs-only) that defines
 *
 *     int lvd_main(void);
 *
 * and returns its exit status (only the low 8 bits are meaningful).
 * It prints with the helpers below:
 *
 *     void lvd_putc(char c);                 one byte
 *     void lvd_puts(const char *s);          a NUL-terminated string (no newline added)
 *     void lvd_put_u64(unsigned long v);     unsigned decimal
 *     void lvd_put_s64(long v);              signed decimal
 *     void lvd_put_hex(unsigned long v);     lower-case hex, "0x" prefix, no leading zeros
 *
 * Build modes:
 *   - default (the emulated machine): lvd_putc writes the byte to I/O port
 *     0xE9 with an `outb` instruction (the debug console port).
 *   - -DLVD_NATIVE (a user-space native build, for reference output):
 *     lvd_putc calls `void lvd_native_putc(char c)`, which the native
 *     harness (test/helpers/native_main.c) provides.
 *
 * All the print helpers live in this header as `static inline` functions, so
 * no extra object file is needed and unused ones cause no -Wunused-function
 * warnings.  They are written so that they need nothing from the runtime
 * (drivers/lib/bare_runtime.c), although a program may of course call gcc
 * builtins that end up there (memcpy, memset, ...).
 */
#ifndef LVD_BARE_H
#define LVD_BARE_H

#ifdef LVD_NATIVE
void lvd_native_putc(char c);
#endif

/* The program's entry point, defined by each bare program. */
int lvd_main(void);

static inline void lvd_putc(char c)
{
#ifdef LVD_NATIVE
    lvd_native_putc(c);
#else
    __asm__ volatile("outb %b0, %w1" : : "a"(c), "Nd"((unsigned short)0xE9));
#endif
}

static inline void lvd_puts(const char *s)
{
    while (*s)
        lvd_putc(*s++);
}

static inline void lvd_put_u64(unsigned long v)
{
    char buf[24];
    int i = 0;
    do {
        buf[i++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while (i > 0)
        lvd_putc(buf[--i]);
}

static inline void lvd_put_s64(long v)
{
    if (v < 0) {
        lvd_putc('-');
        /* negate in unsigned arithmetic: well defined for LONG_MIN too */
        lvd_put_u64(0ul - (unsigned long)v);
    } else {
        lvd_put_u64((unsigned long)v);
    }
}

static inline void lvd_put_hex(unsigned long v)
{
    static const char digits[16] = "0123456789abcdef";
    char buf[16];
    int i = 0;
    do {
        buf[i++] = digits[v & 15u];
        v >>= 4;
    } while (v != 0);
    lvd_putc('0');
    lvd_putc('x');
    while (i > 0)
        lvd_putc(buf[--i]);
}

#endif /* LVD_BARE_H */
