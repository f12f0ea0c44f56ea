/* Adler-32 (straightforward and with deferred modulo), Fletcher-16 and
 * Fletcher-32, with the usual check values and a rolling-window variant. */
#include "lvd_bare.h"

#define MOD_ADLER 65521u

static unsigned int adler32_simple(const unsigned char *p, unsigned long n)
{
    unsigned int a = 1, b = 0;
    for (unsigned long i = 0; i < n; i++) {
        a = (a + p[i]) % MOD_ADLER;
        b = (b + a) % MOD_ADLER;
    }
    return (b << 16) | a;
}

static unsigned int adler32_fast(unsigned int adler, const unsigned char *p, unsigned long n)
{
    unsigned long a = adler & 0xffff, b = adler >> 16;
    while (n > 0) {
        unsigned long chunk = n < 5552 ? n : 5552;
        n -= chunk;
        while (chunk--) {
            a += *p++;
            b += a;
        }
        a %= MOD_ADLER;
        b %= MOD_ADLER;
    }
    return (unsigned int)((b << 16) | a);
}

static unsigned short fletcher16(const unsigned char *p, unsigned long n)
{
    unsigned int s1 = 0, s2 = 0;
    for (unsigned long i = 0; i < n; i++) {
        s1 = (s1 + p[i]) % 255;
        s2 = (s2 + s1) % 255;
    }
    return (unsigned short)(s2 << 8 | s1);
}

static unsigned int fletcher32(const unsigned char *p, unsigned long n)
{
    unsigned int s1 = 0xffff, s2 = 0xffff;
    unsigned long words = n / 2;
    while (words) {
        unsigned long t = words > 359 ? 359 : words;
        words -= t;
        do {
            s1 += (unsigned int)p[0] | (unsigned int)p[1] << 8;
            s2 += s1;
            p += 2;
        } while (--t);
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    if (n & 1) {
        s1 += *p;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    return s2 << 16 | s1;
}

/* rolling adler over a window of w bytes (as in rsync) */
static unsigned int roll(unsigned int sum, unsigned char out, unsigned char in, unsigned int w)
{
    unsigned int a = sum & 0xffff, b = sum >> 16;
    a = (a + MOD_ADLER - out + in) % MOD_ADLER;
    b = (b + MOD_ADLER - (unsigned int)((w * (unsigned long)out) % MOD_ADLER) + a - 1 + MOD_ADLER) % MOD_ADLER;
    return b << 16 | a;
}

static unsigned char buf[6000];

int lvd_main(void)
{
    int ok = 1;
    const unsigned char *wiki = (const unsigned char *)"Wikipedia";
    unsigned int a1 = adler32_simple(wiki, 9);
    ok &= a1 == 0x11E60398u;
    ok &= adler32_fast(1, wiki, 9) == a1;
    unsigned short f1 = fletcher16((const unsigned char *)"abcde", 5);
    unsigned short f2 = fletcher16((const unsigned char *)"abcdef", 6);
    ok &= f1 == 0xC8F0 && f2 == 0x2057;
    unsigned int f3 = fletcher32((const unsigned char *)"abcde", 5);
    unsigned int f4 = fletcher32((const unsigned char *)"abcdef", 6);
    lvd_puts("adler32(Wikipedia) "); lvd_put_hex(a1);
    lvd_puts(" fletcher16 "); lvd_put_hex(f1); lvd_putc(' '); lvd_put_hex(f2);
    lvd_puts(" fletcher32 "); lvd_put_hex(f3); lvd_putc(' '); lvd_put_hex(f4);
    lvd_putc('\n');

    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(255 - (i * i) % 251);
    unsigned int big = adler32_fast(1, buf, sizeof buf);
    unsigned int big_s = adler32_simple(buf, 1500);
    ok &= adler32_fast(1, buf, 1500) == big_s;
    unsigned int split = adler32_fast(adler32_fast(1, buf, 2345), buf + 2345, sizeof buf - 2345);
    ok &= split == big;
    lvd_puts("adler32 big "); lvd_put_hex(big);
    lvd_puts(" first1500 "); lvd_put_hex(big_s);
    lvd_puts(" fletcher32 "); lvd_put_hex(fletcher32(buf, sizeof buf));
    lvd_putc('\n');

    const unsigned int w = 32;
    unsigned int sum = adler32_simple(buf, w);
    unsigned int mismatches = 0, xr = 0;
    for (unsigned i = 1; i + w <= 600; i++) {
        sum = roll(sum, buf[i - 1], buf[i + w - 1], w);
        if (sum != adler32_simple(buf + i, w))
            mismatches++;
        xr ^= sum;
    }
    ok &= mismatches == 0;
    lvd_puts("rolling xor "); lvd_put_hex(xr);
    lvd_puts(" mismatches "); lvd_put_u64(mismatches);
    lvd_putc('\n');
    lvd_puts(ok ? "ok\n" : "FAILED\n");
    return ok ? 0 : 1;
}
