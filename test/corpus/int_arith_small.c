/* 8- and 16-bit signed and unsigned arithmetic: integer promotions,
 * truncation on store, sign/zero extension, wrap-around of unsigned
 * types, division and modulo with negative operands, comparisons between
 * mixed signedness after promotion, and char/short arrays. */
#include "lvd_bare.h"

static volatile unsigned int vol_seed = 0xC0FFEEu; /* defeat constant folding */

static unsigned int rnd(void)
{
    unsigned int x = vol_seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    vol_seed = x;
    return x;
}

static unsigned long mix;
static void feed(long v)
{
    mix = (mix ^ (unsigned long)v) * 0x100000001b3ul;
}

static void test_u8(unsigned char a, unsigned char b)
{
    unsigned char s = (unsigned char)(a + b), d = (unsigned char)(a - b), m = (unsigned char)(a * b);
    int promoted = a - b; /* int arithmetic: may be negative */
    feed(s); feed(d); feed(m); feed(promoted);
    if (b) {
        feed(a / b);
        feed(a % b);
    }
    feed((unsigned char)(a << 3));
    feed(a >> 2);
    feed((unsigned char)~a);
    feed(a > b);
}

static void test_s8(signed char a, signed char b)
{
    signed char s = (signed char)(a + b), d = (signed char)(a - b), m = (signed char)(a * b);
    feed(s); feed(d); feed(m);
    if (b) {
        feed(a / b);
        feed(a % b);
    }
    feed(a >> 1); /* arithmetic shift of a possibly negative value (promoted) */
    feed((signed char)(-a));
    feed(a < b);
    feed((unsigned char)a);
}

static void test_u16(unsigned short a, unsigned short b)
{
    unsigned short s = (unsigned short)(a + b), d = (unsigned short)(a - b);
    unsigned int m = (unsigned int)a * b; /* fits in 32 bits */
    feed(s); feed(d); feed(m); feed((unsigned short)m);
    if (b) {
        feed(a / b);
        feed(a % b);
    }
    feed((unsigned short)(a << 5));
    feed(a >> 7);
    feed((unsigned short)((a << 4) | (a >> 12)));
}

static void test_s16(short a, short b)
{
    short s = (short)(a + b), d = (short)(a - b);
    int m = a * b; /* |a*b| <= 2^30 fits in int */
    feed(s); feed(d); feed(m); feed((short)m);
    if (b) {
        feed(a / b);
        feed(a % b);
    }
    feed(a >> 3);
    feed((short)(a * 3));
    feed((unsigned short)a);
    feed(a <= b);
}

int lvd_main(void)
{
    /* exhaustive-ish over interesting 8-bit values */
    static const unsigned char u8v[] = { 0, 1, 2, 3, 7, 10, 100, 127, 128, 129, 200, 254, 255 };
    static const signed char s8v[] = { 0, 1, -1, 2, -2, 7, -7, 100, -100, 127, -127, -128 };
    for (unsigned i = 0; i < sizeof u8v; i++)
        for (unsigned j = 0; j < sizeof u8v; j++)
            test_u8(u8v[i], u8v[j]);
    lvd_puts("u8 mix "); lvd_put_hex(mix); lvd_putc('\n');
    for (unsigned i = 0; i < sizeof s8v; i++)
        for (unsigned j = 0; j < sizeof s8v; j++)
            test_s8(s8v[i], s8v[j]);
    lvd_puts("s8 mix "); lvd_put_hex(mix); lvd_putc('\n');

    static const unsigned short u16v[] = { 0, 1, 2, 255, 256, 1000, 32767, 32768, 40000, 65534, 65535 };
    static const short s16v[] = { 0, 1, -1, 3, -3, 255, -256, 1000, -1000, 32767, -32767, -32768 };
    for (unsigned i = 0; i < sizeof u16v / 2; i++)
        for (unsigned j = 0; j < sizeof u16v / 2; j++)
            test_u16(u16v[i], u16v[j]);
    lvd_puts("u16 mix "); lvd_put_hex(mix); lvd_putc('\n');
    for (unsigned i = 0; i < sizeof s16v / 2; i++)
        for (unsigned j = 0; j < sizeof s16v / 2; j++)
            if (!(s16v[i] == -32768 && s16v[j] == -1)) /* fine in int, but keep symmetric */
                test_s16(s16v[i], s16v[j]);
    lvd_puts("s16 mix "); lvd_put_hex(mix); lvd_putc('\n');

    /* random values through volatile */
    for (int i = 0; i < 300; i++) {
        unsigned int r = rnd();
        test_u8((unsigned char)r, (unsigned char)(r >> 8));
        test_s8((signed char)(r >> 16), (signed char)(r >> 24));
        test_u16((unsigned short)r, (unsigned short)(r >> 16));
        test_s16((short)(r >> 3), (short)(r >> 13));
    }
    lvd_puts("random mix "); lvd_put_hex(mix); lvd_putc('\n');

    /* show some concrete results */
    signed char sc = -100;
    unsigned char uc = 200;
    short ss = -30000;
    unsigned short us = 60000;
    lvd_puts("-100/7="); lvd_put_s64(sc / 7);
    lvd_puts(" -100%7="); lvd_put_s64(sc % 7);
    lvd_puts(" 200/-7="); lvd_put_s64(uc / -7);
    lvd_puts(" 200%-7="); lvd_put_s64(uc % -7);
    lvd_puts(" -30000/-7="); lvd_put_s64(ss / -7);
    lvd_puts(" -30000%-7="); lvd_put_s64(ss % -7);
    lvd_putc('\n');
    lvd_puts("(u8)(200+100)="); lvd_put_u64((unsigned char)(uc + 100));
    lvd_puts(" (s8)200="); lvd_put_s64((signed char)uc);
    lvd_puts(" (u16)-30000="); lvd_put_u64((unsigned short)ss);
    lvd_puts(" (s16)60000="); lvd_put_s64((short)us);
    lvd_puts(" us*us="); lvd_put_u64((unsigned long)us * us);
    lvd_puts(" -1<(u8)1: "); lvd_put_u64(-1 < (unsigned char)1);
    volatile int minus_one = -1;
    lvd_puts(" (unsigned)-1<1u: "); lvd_put_u64((unsigned long)((unsigned int)minus_one < 1u));
    lvd_putc('\n');

    unsigned char bytes[64];
    short shorts[64];
    int acc = 0;
    for (int i = 0; i < 64; i++) {
        bytes[i] = (unsigned char)(i * 37 + 11);
        shorts[i] = (short)(i * -997 + 12345);
    }
    for (int i = 0; i < 64; i++)
        acc += bytes[i] * shorts[63 - i];
    lvd_puts("dot "); lvd_put_s64(acc); lvd_putc('\n');
    return (int)(mix & 0x7f);
}
