/* FNV-1 and FNV-1a, 32- and 64-bit, over strings and generated buffers,
 * plus djb2 and sdbm for comparison. */
#include "lvd_bare.h"

static unsigned int fnv1_32(const unsigned char *p, unsigned long n)
{
    unsigned int h = 2166136261u;
    for (unsigned long i = 0; i < n; i++) {
        h *= 16777619u;
        h ^= p[i];
    }
    return h;
}

static unsigned int fnv1a_32(const unsigned char *p, unsigned long n)
{
    unsigned int h = 2166136261u;
    for (unsigned long i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static unsigned long fnv1a_64(const unsigned char *p, unsigned long n)
{
    unsigned long h = 0xcbf29ce484222325ul;
    for (unsigned long i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ul;
    }
    return h;
}

static unsigned long djb2(const char *s)
{
    unsigned long h = 5381;
    int c;
    while ((c = (unsigned char)*s++) != 0)
        h = ((h << 5) + h) + (unsigned long)c;
    return h;
}

static unsigned long sdbm(const char *s)
{
    unsigned long h = 0;
    int c;
    while ((c = (unsigned char)*s++) != 0)
        h = (unsigned long)c + (h << 6) + (h << 16) - h;
    return h;
}

static unsigned long slen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static const char *const words[] = {
    "", "a", "foobar", "hello, world",
    "The quick brown fox jumps over the lazy dog",
    "LVD: lightweight virtualized domains",
    "\x01\x02\x03\xff\xfe\x80",
};

static unsigned char buf[4096];

int lvd_main(void)
{
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++) {
        const unsigned char *w = (const unsigned char *)words[i];
        unsigned long n = slen(words[i]);
        lvd_put_u64(i);
        lvd_puts(" fnv1="); lvd_put_hex(fnv1_32(w, n));
        lvd_puts(" fnv1a="); lvd_put_hex(fnv1a_32(w, n));
        lvd_puts(" fnv1a64="); lvd_put_hex(fnv1a_64(w, n));
        lvd_puts(" djb2="); lvd_put_hex(djb2(words[i]));
        lvd_puts(" sdbm="); lvd_put_hex(sdbm(words[i]));
        lvd_putc('\n');
    }
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + (i >> 8));
    unsigned int acc = 0;
    for (unsigned len = 1; len <= sizeof buf; len *= 2) {
        unsigned int h = fnv1a_32(buf, len);
        acc ^= h;
        lvd_puts("len "); lvd_put_u64(len);
        lvd_puts(" fnv1a32 "); lvd_put_hex(h);
        lvd_puts(" fnv1a64 "); lvd_put_hex(fnv1a_64(buf, len));
        lvd_putc('\n');
    }
    /* known answer: FNV-1a 32 of "a" is 0xe40c292c, 64 of "a" 0xaf63dc4c8601ec8c */
    int ok = fnv1a_32((const unsigned char *)"a", 1) == 0xe40c292cu &&
             fnv1a_64((const unsigned char *)"a", 1) == 0xaf63dc4c8601ec8cul &&
             fnv1a_32((const unsigned char *)"foobar", 6) == 0xbf9cf968u;
    lvd_puts("known answers "); lvd_puts(ok ? "ok" : "BAD"); lvd_putc('\n');
    return ok ? (int)(acc & 0x7f) : 255;
}
