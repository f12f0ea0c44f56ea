/* Overflow-checked arithmetic with __builtin_add_overflow,
 * __builtin_sub_overflow and __builtin_mul_overflow over signed and
 * unsigned 8/16/32/64-bit types (including mixed result types), compared
 * with reference checks done in wider arithmetic; saturating helpers built
 * on them; and checked factorial / power / sum loops that stop cleanly. */
#include "lvd_bare.h"

static unsigned long acc;
static int errors;

static void feed(unsigned long v)
{
    acc = (acc ^ v) * 0x100000001b3ul;
}

static volatile long vals64[] = { 0, 1, -1, 2, -2, 1000, -1000, 3037000499l, -3037000499l,
                                  3037000500l, 4294967295l, 4294967296l, -4294967296l,
                                  9223372036854775807l, -9223372036854775807l - 1,
                                  4611686018427387904l, -4611686018427387904l };

static int sat_add32(int a, int b)
{
    int r;
    if (__builtin_add_overflow(a, b, &r))
        return a > 0 ? 2147483647 : -2147483647 - 1;
    return r;
}

static unsigned int sat_mul_u32(unsigned int a, unsigned int b)
{
    unsigned int r;
    return __builtin_mul_overflow(a, b, &r) ? 0xffffffffu : r;
}

int lvd_main(void)
{
    const unsigned n = sizeof vals64 / sizeof vals64[0];

    /* 32-bit signed, checked against 64-bit reference */
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            int a = (int)(unsigned int)(unsigned long)vals64[i];
            int b = (int)(unsigned int)(unsigned long)vals64[j];
            int r;
            long wide;
            int o = __builtin_add_overflow(a, b, &r);
            wide = (long)a + b;
            if (o != (wide != (int)wide) || (unsigned int)r != (unsigned int)wide)
                errors++;
            feed((unsigned long)o << 32 | (unsigned int)r);
            o = __builtin_sub_overflow(a, b, &r);
            wide = (long)a - b;
            if (o != (wide != (int)wide) || (unsigned int)r != (unsigned int)wide)
                errors++;
            feed((unsigned long)o << 32 | (unsigned int)r);
            o = __builtin_mul_overflow(a, b, &r);
            wide = (long)a * b;
            if (o != (wide != (int)wide) || (unsigned int)r != (unsigned int)wide)
                errors++;
            feed((unsigned long)o << 32 | (unsigned int)r);
        }
    }
    lvd_puts("s32 acc "); lvd_put_hex(acc); lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');

    /* 64-bit signed and unsigned, reference via __int128 multiplication / wide add */
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            long a = vals64[i], b = vals64[j], r;
            unsigned long ua = (unsigned long)a, ub = (unsigned long)b, ur;
            int o = __builtin_add_overflow(a, b, &r);
            __int128 w = (__int128)a + b;
            if (o != (w != (long)w))
                errors++;
            feed((unsigned long)r ^ (unsigned long)o);
            o = __builtin_sub_overflow(a, b, &r);
            w = (__int128)a - b;
            if (o != (w != (long)w))
                errors++;
            feed((unsigned long)r ^ (unsigned long)o << 1);
            o = __builtin_mul_overflow(a, b, &r);
            w = (__int128)a * b;
            if (o != (w != (long)w) || r != (long)(unsigned long)w)
                errors++;
            feed((unsigned long)r ^ (unsigned long)o << 2);
            o = __builtin_add_overflow(ua, ub, &ur);
            if (o != (ur < ua))
                errors++;
            feed(ur + (unsigned long)o);
            o = __builtin_sub_overflow(ua, ub, &ur);
            if (o != (ua < ub))
                errors++;
            feed(ur + (unsigned long)o);
            o = __builtin_mul_overflow(ua, ub, &ur);
            unsigned __int128 uw = (unsigned __int128)ua * ub;
            if (o != ((uw >> 64) != 0) || ur != (unsigned long)uw)
                errors++;
            feed(ur + (unsigned long)o);
            /* mixed: signed operands, unsigned result */
            unsigned int u32;
            o = __builtin_add_overflow(a, b, &u32);
            feed((unsigned long)u32 << 1 | (unsigned long)o);
            short s16;
            o = __builtin_mul_overflow(a, b, &s16);
            feed((unsigned long)(unsigned short)s16 << 1 | (unsigned long)o);
        }
    }
    lvd_puts("64 acc "); lvd_put_hex(acc); lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');

    /* 8 and 16 bit */
    unsigned int ov8 = 0, ov16 = 0;
    for (int a = -128; a < 128; a += 5)
        for (int b = -128; b < 128; b += 7) {
            signed char r8;
            unsigned char u8;
            short r16;
            ov8 += (unsigned)__builtin_add_overflow((signed char)a, (signed char)b, &r8);
            ov8 += (unsigned)__builtin_mul_overflow((signed char)a, (signed char)b, &r8);
            ov8 += (unsigned)__builtin_sub_overflow((unsigned char)a, (unsigned char)b, &u8);
            ov16 += (unsigned)__builtin_mul_overflow((short)(a * 200), (short)(b * 3), &r16);
            feed((unsigned long)(unsigned char)r8 | (unsigned long)u8 << 8 | (unsigned long)(unsigned short)r16 << 16);
        }
    lvd_puts("8/16 overflows "); lvd_put_u64(ov8); lvd_putc(' '); lvd_put_u64(ov16);
    lvd_puts(" acc "); lvd_put_hex(acc); lvd_putc('\n');

    /* checked factorial: largest n with n! in 64-bit signed / unsigned */
    long f = 1;
    int nmax = 0;
    for (int k = 2;; k++) {
        if (__builtin_mul_overflow(f, (long)k, &f))
            break;
        nmax = k;
    }
    unsigned long uf = 1;
    int unmax = 0;
    for (unsigned long k = 2;; k++) {
        if (__builtin_mul_overflow(uf, k, &uf))
            break;
        unmax = (int)k;
    }
    /* largest power of 3 in int32 */
    int p3 = 1, e3 = 0;
    while (!__builtin_mul_overflow(p3, 3, &p3))
        e3++;
    lvd_puts("max n! s64 "); lvd_put_u64((unsigned long)nmax);
    lvd_puts(" u64 "); lvd_put_u64((unsigned long)unmax);
    lvd_puts(" 3^e in s32 e="); lvd_put_u64((unsigned long)e3);
    lvd_putc('\n');
    lvd_puts("sat_add "); lvd_put_s64(sat_add32(2147483000, 1000));
    lvd_putc(' '); lvd_put_s64(sat_add32(-2147483000, -1000));
    lvd_putc(' '); lvd_put_s64(sat_add32(5, -7));
    lvd_puts(" sat_mul "); lvd_put_u64(sat_mul_u32(70000, 70000));
    lvd_putc(' '); lvd_put_u64(sat_mul_u32(65535, 65537));
    lvd_putc('\n');
    return errors ? 255 : (int)(acc & 0x7f);
}
