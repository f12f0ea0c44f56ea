/* 128-bit intermediates through unsigned __int128 multiplication only
 * (plus 128-bit add/sub/shift, never 128-bit division, which would call
 * __udivti3): 64x64->128 products checked against a 32-bit-limb schoolbook
 * implementation, mulhi, multiply-shift hashing, a 128-bit accumulator,
 * fixed-point (Q32.32 and Q64.64) arithmetic, and division by a constant
 * via a precomputed reciprocal (magic number). */
#include "lvd_bare.h"

typedef unsigned __int128 u128;

static void mul_schoolbook(unsigned long a, unsigned long b, unsigned long *hi, unsigned long *lo)
{
    unsigned long a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    unsigned long p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    unsigned long mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static unsigned long mulhi(unsigned long a, unsigned long b)
{
    return (unsigned long)(((u128)a * b) >> 64);
}

static long smulhi(long a, long b)
{
    return (long)(((__int128)a * b) >> 64);
}

/* x / 10 for any 64-bit x via multiplication by ceil(2^67 / 10) */
static unsigned long div10(unsigned long x)
{
    return mulhi(x, 0xCCCCCCCCCCCCCCCDul) >> 3;
}

/* x / 7: magic 0x2492492492492493 with add-and-shift fixup */
static unsigned long div7(unsigned long x)
{
    unsigned long q = mulhi(x, 0x2492492492492493ul);
    return (((x - q) >> 1) + q) >> 2;
}

static unsigned long xs = 0x0DDB1A5E5BADD00Dul;
static unsigned long rnd(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

static void print_u128_hex(u128 v)
{
    unsigned long hi = (unsigned long)(v >> 64), lo = (unsigned long)v;
    if (hi) {
        lvd_put_hex(hi);
        for (int s = 60; s >= 0; s -= 4)
            lvd_putc("0123456789abcdef"[(lo >> s) & 15]);
    } else {
        lvd_put_hex(lo);
    }
}

int lvd_main(void)
{
    int errors = 0;
    unsigned long h = 0;

    for (int i = 0; i < 500; i++) {
        unsigned long a = rnd(), b = rnd();
        if (i % 5 == 0) a >>= (i % 64);
        if (i % 7 == 0) b = ~0ul - (unsigned long)i;
        u128 p = (u128)a * b;
        unsigned long hi, lo;
        mul_schoolbook(a, b, &hi, &lo);
        if ((unsigned long)(p >> 64) != hi || (unsigned long)p != lo)
            errors++;
        h = h * 31 + hi + (lo >> 7);
        if (div10(a) != a / 10 || div7(b) != b / 7)
            errors++;
        long sa = (long)a, sb = (long)b;
        long sh = smulhi(sa, sb);
        /* signed high = unsigned high - (a<0 ? b : 0) - (b<0 ? a : 0) */
        unsigned long expect = hi - (sa < 0 ? b : 0) - (sb < 0 ? a : 0);
        if ((unsigned long)sh != expect)
            errors++;
    }
    lvd_puts("products hash "); lvd_put_hex(h); lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');

    /* 128-bit accumulation of squares: sum_{i<2000} (i * 2^40)^2 */
    u128 sum = 0;
    for (unsigned long i = 0; i < 2000; i++) {
        unsigned long v = i << 40;
        sum += (u128)v * v;
    }
    lvd_puts("sum of squares "); print_u128_hex(sum); lvd_putc('\n');
    /* shifts across the 64-bit boundary */
    u128 one = 1;
    lvd_puts("1<<100 "); print_u128_hex(one << 100);
    lvd_puts(" (1<<127)>>63 "); print_u128_hex((one << 127) >> 63);
    u128 big = ((u128)0x0123456789abcdeful << 64) | 0xfedcba9876543210ul;
    lvd_puts(" rot "); print_u128_hex((big << 36) | (big >> 92));
    lvd_puts(" neg "); print_u128_hex(0 - big);
    lvd_putc('\n');

    /* Q32.32 fixed point: compute sqrt(2) by Newton with fixed-point division done by
     * multiplying with a reciprocal obtained by Newton too. */
    unsigned long two = 2ul << 32, x = 1ul << 32;
    for (int it = 0; it < 6; it++) {
        /* r ~= 1/x in Q32.32: r = r * (2 - x*r) */
        unsigned long r = 1ul << 31;
        for (int k = 0; k < 8; k++) {
            unsigned long xr = (unsigned long)(((u128)x * r) >> 32);
            r = (unsigned long)(((u128)r * ((2ul << 32) - xr)) >> 32);
        }
        unsigned long q = (unsigned long)(((u128)two * r) >> 32);
        x = (x + q) >> 1;
    }
    lvd_puts("sqrt2 Q32.32 "); lvd_put_hex(x);
    unsigned long frac = x & 0xffffffffu, digits = 0;
    for (int d = 0; d < 9; d++) {
        frac *= 10;
        digits = digits * 10 + (frac >> 32);
        frac &= 0xffffffffu;
    }
    lvd_puts(" = "); lvd_put_u64(x >> 32); lvd_putc('.'); lvd_put_u64(digits); lvd_putc('\n');

    /* Q64.64: 1/3 * 3 and golden-ratio hashing */
    unsigned long third64 = 0x5555555555555555ul; /* floor(2^64 / 3) */
    u128 prod = (u128)third64 * 3;
    lvd_puts("third*3 "); print_u128_hex(prod); lvd_putc('\n');
    unsigned int buckets[16] = { 0 };
    for (unsigned long k = 0; k < 1000; k++) {
        unsigned long hh = mulhi(k * 0x9E3779B97F4A7C15ul, 16);
        buckets[hh]++;
    }
    lvd_puts("fibonacci hashing buckets:");
    for (int i = 0; i < 16; i++) {
        lvd_putc(' ');
        lvd_put_u64(buckets[i]);
    }
    lvd_putc('\n');
    return errors ? 255 : (int)(h & 0x7f);
}
