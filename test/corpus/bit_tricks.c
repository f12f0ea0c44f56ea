/* Bit manipulation: popcount by loops (naive, Kernighan, SWAR) checked
 * against __builtin_popcount/popcountll, __builtin_ctz/clz/ctzll/clzll,
 * __builtin_bswap16/32/64, __builtin_parity/parityll, __builtin_ffs,
 * next power of two, bit reversal, gray code, isolate/clear lowest bit,
 * log2 and morton interleaving. */
#include "lvd_bare.h"

static unsigned long acc;
static int errors;

static void feed(unsigned long v)
{
    acc = (acc ^ v) * 0x100000001b3ul;
}

static int popcount_naive(unsigned long x)
{
    int n = 0;
    for (int i = 0; i < 64; i++)
        n += (int)((x >> i) & 1);
    return n;
}

static int popcount_kernighan(unsigned long x)
{
    int n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

static int popcount_swar32(unsigned int x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (int)((x * 0x01010101u) >> 24);
}

static int ctz_loop(unsigned long x)
{
    int n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
}

static int clz_loop(unsigned long x)
{
    int n = 0;
    while (!(x & 0x8000000000000000ul)) {
        x <<= 1;
        n++;
    }
    return n;
}

static unsigned int next_pow2(unsigned int x)
{
    if (x <= 1)
        return 1;
    x--;
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    return x + 1;
}

static unsigned long next_pow2_clz(unsigned long x)
{
    return x <= 1 ? 1 : 1ul << (64 - __builtin_clzll(x - 1));
}

static unsigned int reverse_bits32(unsigned int x)
{
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    return (x >> 16) | (x << 16);
}

static unsigned long reverse_bits64_loop(unsigned long x)
{
    unsigned long r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (x & 1);
        x >>= 1;
    }
    return r;
}

static unsigned int bswap32_manual(unsigned int x)
{
    return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24);
}

static unsigned int morton2(unsigned int x, unsigned int y)
{
    unsigned int r = 0;
    for (int i = 0; i < 16; i++)
        r |= ((x >> i) & 1u) << (2 * i) | ((y >> i) & 1u) << (2 * i + 1);
    return r;
}

static void check(int cond)
{
    if (!cond)
        errors++;
}

int lvd_main(void)
{
    unsigned long x = 0x0123456789abcdeful;

    for (int i = 0; i < 400; i++) {
        /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned long v = x >> (i & 31); /* varying density */
        unsigned int v32 = (unsigned int)v;
        if (i % 3 == 0)
            v &= v >> 3;
        int pc = __builtin_popcountll(v);
        check(pc == popcount_naive(v));
        check(pc == popcount_kernighan(v));
        check(__builtin_popcount(v32) == popcount_swar32(v32));
        check(__builtin_parityll(v) == (pc & 1));
        check(__builtin_parity(v32) == (popcount_swar32(v32) & 1));
        feed((unsigned long)pc);
        if (v) {
            check(__builtin_ctzll(v) == ctz_loop(v));
            check(__builtin_clzll(v) == clz_loop(v));
            check(__builtin_ffsll((long)v) == ctz_loop(v) + 1);
            feed((unsigned long)__builtin_ctzll(v) << 8 | (unsigned long)__builtin_clzll(v));
            check(next_pow2_clz(v >> 40) == (unsigned long)next_pow2((unsigned int)(v >> 40)));
        }
        if (v32) {
            check(__builtin_ctz(v32) == ctz_loop(v32));
            check(__builtin_clz(v32) == clz_loop((unsigned long)v32 << 32));
        }
        check(__builtin_bswap32(v32) == bswap32_manual(v32));
        check(__builtin_bswap64(v) == ((unsigned long)bswap32_manual((unsigned int)v) << 32 |
                                       bswap32_manual((unsigned int)(v >> 32))));
        check(reverse_bits64_loop(v) == ((unsigned long)reverse_bits32((unsigned int)v) << 32 |
                                         reverse_bits32((unsigned int)(v >> 32))));
        feed(__builtin_bswap64(v));
        feed(__builtin_bswap16((unsigned short)v));
        feed(reverse_bits32(v32));
        feed(v32 ^ (v32 >> 1)); /* gray code */
        feed(v & (0 - v)); /* lowest set bit */
        feed(v & (v - 1)); /* clear lowest set bit */
        feed(v | (v + 1)); /* set lowest clear bit */
    }
    lvd_puts("random checks acc "); lvd_put_hex(acc);
    lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');

    static const unsigned int np[] = { 0, 1, 2, 3, 5, 17, 100, 1000, 4096, 4097, 65535, 0x40000001u, 0x80000000u };
    for (unsigned i = 0; i < sizeof np / sizeof np[0]; i++) {
        lvd_put_u64(np[i]); lvd_puts("->"); lvd_put_u64(next_pow2(np[i]));
        lvd_putc(i + 1 < sizeof np / sizeof np[0] ? ' ' : '\n');
    }
    volatile unsigned long vv = 0xf0e1d2c3b4a59687ul;
    unsigned long w = vv;
    lvd_puts("popcount "); lvd_put_u64((unsigned long)__builtin_popcountll(w));
    lvd_puts(" ctz "); lvd_put_u64((unsigned long)__builtin_ctzll(w << 5));
    lvd_puts(" clz "); lvd_put_u64((unsigned long)__builtin_clzll(w >> 9));
    lvd_puts(" ctz32 "); lvd_put_u64((unsigned long)__builtin_ctz((unsigned int)w & 0xfff00000u));
    lvd_puts(" clz32 "); lvd_put_u64((unsigned long)__builtin_clz((unsigned int)(w >> 44)));
    lvd_puts(" parity "); lvd_put_u64((unsigned long)__builtin_parityll(w));
    lvd_putc('\n');
    lvd_puts("bswap64 "); lvd_put_hex(__builtin_bswap64(w));
    lvd_puts(" bswap32 "); lvd_put_hex(__builtin_bswap32((unsigned int)w));
    lvd_puts(" bswap16 "); lvd_put_hex(__builtin_bswap16((unsigned short)w));
    lvd_puts(" rev32 "); lvd_put_hex(reverse_bits32((unsigned int)w));
    lvd_puts(" rev64 "); lvd_put_hex(reverse_bits64_loop(w));
    lvd_putc('\n');
    lvd_puts("morton(0x1234, 0xabcd) "); lvd_put_hex(morton2(0x1234u, 0xabcdu));
    int lg = 63 - __builtin_clzll(w);
    lvd_puts(" log2 "); lvd_put_u64((unsigned long)lg);
    lvd_puts(" clrsb(-5) "); lvd_put_u64((unsigned long)__builtin_clrsbl((long)(vv >> 63) * -5));
    lvd_putc('\n');
    return errors ? 255 : (int)(acc & 0x7f);
}
