/* MurmurHash3 x86_32, the 64-bit fmix finalizer, a murmur-style 64-bit
 * hash (MurmurHash64A) and xxhash32-style rounds; rotates everywhere. */
#include "lvd_bare.h"

static inline unsigned int rotl32(unsigned int x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static unsigned int murmur3_32(const unsigned char *data, unsigned long len, unsigned int seed)
{
    const unsigned long nblocks = len / 4;
    unsigned int h1 = seed;
    const unsigned int c1 = 0xcc9e2d51u, c2 = 0x1b873593u;

    for (unsigned long i = 0; i < nblocks; i++) {
        const unsigned char *p = data + i * 4;
        unsigned int k1 = (unsigned int)p[0] | (unsigned int)p[1] << 8 |
                          (unsigned int)p[2] << 16 | (unsigned int)p[3] << 24;
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64u;
    }
    const unsigned char *tail = data + nblocks * 4;
    unsigned int k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (unsigned int)tail[2] << 16;
        /* fall through */
    case 2:
        k1 ^= (unsigned int)tail[1] << 8;
        /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (unsigned int)len;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    return h1;
}

static unsigned long fmix64(unsigned long k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdul;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ul;
    k ^= k >> 33;
    return k;
}

static unsigned long murmur64a(const unsigned char *data, unsigned long len, unsigned long seed)
{
    const unsigned long m = 0xc6a4a7935bd1e995ul;
    const int r = 47;
    unsigned long h = seed ^ (len * m);
    unsigned long nblocks = len / 8;

    for (unsigned long i = 0; i < nblocks; i++) {
        unsigned long k = 0;
        for (int b = 7; b >= 0; b--)
            k = (k << 8) | data[i * 8 + (unsigned long)b];
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    const unsigned char *tail = data + nblocks * 8;
    switch (len & 7) {
    case 7: h ^= (unsigned long)tail[6] << 48; /* fall through */
    case 6: h ^= (unsigned long)tail[5] << 40; /* fall through */
    case 5: h ^= (unsigned long)tail[4] << 32; /* fall through */
    case 4: h ^= (unsigned long)tail[3] << 24; /* fall through */
    case 3: h ^= (unsigned long)tail[2] << 16; /* fall through */
    case 2: h ^= (unsigned long)tail[1] << 8; /* fall through */
    case 1: h ^= (unsigned long)tail[0]; h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

static unsigned int xxh32_round(unsigned int acc, unsigned int input)
{
    acc += input * 0x85EBCA77u;
    acc = rotl32(acc, 13);
    acc *= 0x9E3779B1u;
    return acc;
}

static unsigned char data[1000];

int lvd_main(void)
{
    int ok = 1;
    /* known answers for MurmurHash3_x86_32 */
    unsigned int k0 = murmur3_32((const unsigned char *)"", 0, 0);
    unsigned int k1 = murmur3_32((const unsigned char *)"", 0, 1);
    unsigned int k2 = murmur3_32((const unsigned char *)"Hello, world!", 13, 1234);
    unsigned int k3 = murmur3_32((const unsigned char *)"The quick brown fox jumps over the lazy dog", 43, 0x9747b28c);
    ok &= k0 == 0;
    ok &= k1 == 0x514E28B7u;
    ok &= k2 == 0xfaf6cdb3u;
    ok &= k3 == 0x2FA826CDu;
    lvd_puts("murmur3 kat: "); lvd_put_hex(k0); lvd_putc(' '); lvd_put_hex(k1);
    lvd_putc(' '); lvd_put_hex(k2); lvd_putc(' '); lvd_put_hex(k3);
    lvd_puts(ok ? " ok\n" : " BAD\n");

    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(fmix64(i) >> 56);
    unsigned int x32 = 0;
    unsigned long x64 = 0;
    for (unsigned len = 0; len < 40; len++) {
        unsigned int h = murmur3_32(data, len, len * 31u);
        unsigned long h64 = murmur64a(data + len, len * 3, 0x1234567ul * len);
        x32 ^= h;
        x64 += h64;
        if (len % 8 == 0 || len > 36) {
            lvd_puts("len "); lvd_put_u64(len);
            lvd_puts(" m3 "); lvd_put_hex(h);
            lvd_puts(" m64a "); lvd_put_hex(h64);
            lvd_putc('\n');
        }
    }
    unsigned int full = murmur3_32(data, sizeof data, 42);
    unsigned long full64 = murmur64a(data, sizeof data, 42);
    lvd_puts("full m3 "); lvd_put_hex(full);
    lvd_puts(" m64a "); lvd_put_hex(full64); lvd_putc('\n');
    lvd_puts("xor32 "); lvd_put_hex(x32); lvd_puts(" sum64 "); lvd_put_hex(x64); lvd_putc('\n');

    unsigned long f = 0;
    for (unsigned long i = 0; i < 64; i++)
        f ^= fmix64(1ul << i);
    lvd_puts("fmix64 fold "); lvd_put_hex(f); lvd_putc('\n');

    unsigned int acc[4] = { 1u + 0x9E3779B1u + 0x85EBCA77u, 0x85EBCA77u, 0, 0u - 0x9E3779B1u };
    for (unsigned i = 0; i + 16 <= sizeof data; i += 16)
        for (int lane = 0; lane < 4; lane++) {
            unsigned int w = (unsigned int)data[i + 4 * (unsigned)lane] |
                             (unsigned int)data[i + 4 * (unsigned)lane + 1] << 8 |
                             (unsigned int)data[i + 4 * (unsigned)lane + 2] << 16 |
                             (unsigned int)data[i + 4 * (unsigned)lane + 3] << 24;
            acc[lane] = xxh32_round(acc[lane], w);
        }
    unsigned int xx = rotl32(acc[0], 1) + rotl32(acc[1], 7) + rotl32(acc[2], 12) + rotl32(acc[3], 18);
    lvd_puts("xxh32 lanes "); lvd_put_hex(xx); lvd_putc('\n');
    return ok ? (int)(full & 0x7f) : 255;
}
