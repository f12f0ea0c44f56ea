/* SHA-256 (FIPS 180-4) over the standard test vectors, 2000 'a's hashed
 * in one shot and incrementally in odd-sized chunks, and HMAC-SHA256
 * (RFC 4231 test case 2). Heavy on 32-bit rotates, adds and big-endian
 * loads/stores. */
#include "lvd_bare.h"

struct sha256 {
    unsigned int h[8];
    unsigned char block[64];
    unsigned int used;
    unsigned long total;
};

static const unsigned int K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static inline unsigned int rotr(unsigned int x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(struct sha256 *s, const unsigned char *p)
{
    unsigned int w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (unsigned int)p[4 * i] << 24 | (unsigned int)p[4 * i + 1] << 16 |
               (unsigned int)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        unsigned int s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        unsigned int s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    unsigned int a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    unsigned int e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        unsigned int S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        unsigned int ch = (e & f) ^ (~e & g);
        unsigned int t1 = h + S1 + ch + K[i] + w[i];
        unsigned int S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        unsigned int maj = (a & b) ^ (a & c) ^ (b & c);
        unsigned int t2 = S0 + maj;
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(struct sha256 *s)
{
    static const unsigned int iv[8] = { 0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                        0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u };
    for (int i = 0; i < 8; i++)
        s->h[i] = iv[i];
    s->used = 0;
    s->total = 0;
}

static void sha_update(struct sha256 *s, const unsigned char *p, unsigned long n)
{
    s->total += n;
    while (n) {
        unsigned int take = 64 - s->used;
        if (take > n)
            take = (unsigned int)n;
        for (unsigned int i = 0; i < take; i++)
            s->block[s->used + i] = p[i];
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            compress(s, s->block);
            s->used = 0;
        }
    }
}

static void sha_final(struct sha256 *s, unsigned char out[32])
{
    unsigned long bits = s->total * 8;
    unsigned char pad = 0x80;
    sha_update(s, &pad, 1);
    pad = 0;
    while (s->used != 56)
        sha_update(s, &pad, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

static void sha(const unsigned char *p, unsigned long n, unsigned char out[32])
{
    struct sha256 s;
    sha_init(&s);
    sha_update(&s, p, n);
    sha_final(&s, out);
}

static void hmac(const unsigned char *key, unsigned long klen, const unsigned char *msg, unsigned long mlen,
                 unsigned char out[32])
{
    unsigned char k[64], inner[32];
    for (int i = 0; i < 64; i++)
        k[i] = 0;
    if (klen > 64)
        sha(key, klen, k);
    else
        for (unsigned long i = 0; i < klen; i++)
            k[i] = key[i];
    struct sha256 s;
    unsigned char pad[64];
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    sha_init(&s);
    sha_update(&s, pad, 64);
    sha_update(&s, msg, mlen);
    sha_final(&s, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    sha_init(&s);
    sha_update(&s, pad, 64);
    sha_update(&s, inner, 32);
    sha_final(&s, out);
}

static void print_digest(const unsigned char d[32])
{
    for (int i = 0; i < 32; i++) {
        lvd_putc("0123456789abcdef"[d[i] >> 4]);
        lvd_putc("0123456789abcdef"[d[i] & 15]);
    }
    lvd_putc('\n');
}

static unsigned long slen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static int starts_with_hex(const unsigned char d[32], unsigned int first_word)
{
    return ((unsigned int)d[0] << 24 | (unsigned int)d[1] << 16 | (unsigned int)d[2] << 8 | d[3]) == first_word;
}

int lvd_main(void)
{
    unsigned char d[32];
    int ok = 1;

    sha((const unsigned char *)"abc", 3, d);
    print_digest(d);
    ok &= starts_with_hex(d, 0xba7816bfu);
    sha((const unsigned char *)"", 0, d);
    print_digest(d);
    ok &= starts_with_hex(d, 0xe3b0c442u);
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha((const unsigned char *)m2, slen(m2), d);
    print_digest(d);
    ok &= starts_with_hex(d, 0x248d6a61u);

    /* 2000 'a's fed in odd-sized chunks must equal one-shot */
    static unsigned char as[2000];
    for (int i = 0; i < 2000; i++)
        as[i] = 'a';
    unsigned char d1[32], d2[32];
    sha(as, 2000, d1);
    struct sha256 s;
    sha_init(&s);
    unsigned long off = 0, chunk = 1;
    while (off < 2000) {
        unsigned long take = chunk > 2000 - off ? 2000 - off : chunk;
        sha_update(&s, as + off, take);
        off += take;
        chunk = chunk * 3 % 257 + 1;
    }
    sha_final(&s, d2);
    print_digest(d1);
    for (int i = 0; i < 32; i++)
        if (d1[i] != d2[i])
            ok = 0;
    ok &= starts_with_hex(d1, 0xc4a700f8u);

    const char *key = "Jefe";
    const char *msg = "what do ya want for nothing?";
    hmac((const unsigned char *)key, 4, (const unsigned char *)msg, slen(msg), d);
    print_digest(d);
    ok &= starts_with_hex(d, 0x5bdcc146u);
    lvd_puts(ok ? "sha256 ok\n" : "sha256 FAILED\n");
    return ok ? d[31] & 0x7f : 255;
}
