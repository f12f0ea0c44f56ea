/* 32- and 64-bit signed/unsigned arithmetic: division and modulo with all
 * sign combinations (never INT_MIN / -1), shifts by variable counts,
 * rotates written as (x << n) | (x >> (32 - n)), sign and zero extension
 * between widths, comparisons, and wrap-around of unsigned arithmetic.
 * Operands come through volatile variables so the CPU does the work at
 * every optimization level. */
#include "lvd_bare.h"

static unsigned long acc = 0x243F6A8885A308D3ul;
static void feed(unsigned long v)
{
    acc ^= v;
    acc = (acc << 13) | (acc >> 51);
    acc *= 0x9E3779B97F4A7C15ul;
}

static volatile int vi[] = { 0, 1, -1, 2, -2, 3, -3, 7, -7, 100, -100, 65536, -65536,
                             2147483647, -2147483647, -2147483647 - 1, 123456789, -987654321 };
static volatile long vl[] = { 0, 1, -1, 2, -2, 3, -3, 10, -10, 1000000007, -1000000007,
                              4294967296l, -4294967296l, 9223372036854775807l,
                              -9223372036854775807l, -9223372036854775807l - 1,
                              0x123456789abcdefl, -0x76543210fedcbal };

static inline unsigned int rotl32(unsigned int x, unsigned int n)
{
    n &= 31;
    return n ? (x << n) | (x >> (32 - n)) : x;
}

static inline unsigned int rotr32(unsigned int x, unsigned int n)
{
    return (x >> (n & 31)) | (x << ((32 - n) & 31));
}

static inline unsigned long rotl64(unsigned long x, unsigned int n)
{
    return (x << (n & 63)) | (x >> ((64 - n) & 63));
}

int lvd_main(void)
{
    const unsigned ni = sizeof vi / sizeof vi[0], nl = sizeof vl / sizeof vl[0];
    unsigned long divs = 0;

    /* 32-bit signed and unsigned division */
    for (unsigned i = 0; i < ni; i++) {
        for (unsigned j = 0; j < ni; j++) {
            int a = vi[i], b = vi[j];
            unsigned int ua = (unsigned int)a, ub = (unsigned int)b;
            feed(ua + ub);
            feed((unsigned long)((long)a + b)); /* widened first: no overflow */
            feed((unsigned int)(ua * ub));
            feed(ua - ub);
            if (b != 0 && !(a == -2147483647 - 1 && b == -1)) {
                feed((unsigned long)(long)(a / b));
                feed((unsigned long)(long)(a % b));
                divs++;
            }
            if (ub != 0) {
                feed(ua / ub);
                feed(ua % ub);
            }
            feed((unsigned long)(a < b) << 1 | (ua < ub));
        }
    }
    lvd_puts("32-bit acc "); lvd_put_hex(acc); lvd_puts(" divs "); lvd_put_u64(divs); lvd_putc('\n');

    /* 64-bit */
    divs = 0;
    for (unsigned i = 0; i < nl; i++) {
        for (unsigned j = 0; j < nl; j++) {
            long a = vl[i], b = vl[j];
            unsigned long ua = (unsigned long)a, ub = (unsigned long)b;
            feed(ua + ub);
            feed(ua * ub);
            feed(ua - ub);
            if (b != 0 && !(a == -9223372036854775807l - 1 && b == -1)) {
                feed((unsigned long)(a / b));
                feed((unsigned long)(a % b));
                divs++;
            }
            if (ub != 0) {
                feed(ua / ub);
                feed(ua % ub);
            }
            feed((unsigned long)(a < b) << 1 | (ua < ub));
            feed((unsigned long)(long)(int)a); /* truncate then sign extend */
            feed((unsigned long)(unsigned int)b); /* zero extend */
        }
    }
    lvd_puts("64-bit acc "); lvd_put_hex(acc); lvd_puts(" divs "); lvd_put_u64(divs); lvd_putc('\n');

    /* variable shifts and rotates */
    volatile unsigned int x32 = 0x80000001u;
    volatile unsigned long x64 = 0x8000000000000001ul;
    volatile int neg32 = -123456;
    volatile long neg64 = -123456789012l;
    for (unsigned int n = 0; n < 64; n++) {
        unsigned int s = n & 31;
        feed(x32 << s);
        feed(x32 >> s);
        feed((unsigned long)(long)(neg32 >> s)); /* arithmetic shift right */
        feed(x64 << n);
        feed(x64 >> n);
        feed((unsigned long)(neg64 >> n));
        feed(rotl32(x32 ^ n, n));
        feed(rotr32(x32 + n, n));
        feed(rotl64(x64 * n, n));
        if (s) {
            unsigned int r = (x32 << s) | (x32 >> (32 - s));
            if (r != rotl32(x32, s))
                feed(0xbad);
        }
    }
    lvd_puts("shift acc "); lvd_put_hex(acc); lvd_putc('\n');

    /* concrete values */
    for (unsigned i = 5; i < 10; i++) {
        int a = vi[i + 4], b = vi[i];
        lvd_put_s64(a); lvd_puts(" / "); lvd_put_s64(b); lvd_puts(" = ");
        lvd_put_s64(a / b); lvd_puts(" rem "); lvd_put_s64(a % b); lvd_putc('\n');
    }
    long big = vl[13], m = vl[9];
    lvd_puts("LONG_MAX % 1000000007 = "); lvd_put_s64(big % m);
    lvd_puts(", LONG_MIN / 10 = "); lvd_put_s64(vl[15] / vl[7]);
    lvd_puts(", LONG_MIN % -10 = "); lvd_put_s64(vl[15] % vl[8]);
    lvd_putc('\n');
    lvd_puts("-7 >> 1 = "); lvd_put_s64(vi[8] >> 1);
    lvd_puts(", (unsigned)-7 >> 1 = "); lvd_put_u64((unsigned int)vi[8] >> 1);
    lvd_puts(", -7L >> 40 = "); lvd_put_s64(vl[6] >> 40);
    lvd_puts(", rotl32(0x12345678, 8) = "); lvd_put_hex(rotl32(0x12345678u, (unsigned)vi[7] + 1));
    lvd_putc('\n');

    /* 32-bit ops must clear the upper half of 64-bit registers */
    volatile unsigned int a32 = 0xffffffffu, b32 = 2;
    unsigned long widened = a32 + b32;
    unsigned long prod = a32 * b32;
    unsigned long full = (unsigned long)a32 * b32;
    lvd_puts("wrap "); lvd_put_hex(widened); lvd_putc(' '); lvd_put_hex(prod);
    lvd_putc(' '); lvd_put_hex(full); lvd_putc('\n');
    return (int)(acc & 0x7f);
}
