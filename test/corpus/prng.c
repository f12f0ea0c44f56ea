/* Pseudo-random generators: LCG (32 and 64 bit), xorshift32/64/128,
 * xorshift64*, splitmix64, PCG32 (64-bit state), a Lehmer generator with
 * unsigned __int128 multiplication, and a small chi-square-like bucket
 * test and unbiased bounded draws by rejection. */
#include "lvd_bare.h"

static unsigned int lcg32_s = 1;
static unsigned int lcg32(void) { return lcg32_s = lcg32_s * 1664525u + 1013904223u; }

static unsigned long lcg64_s = 1;
static unsigned long lcg64(void) { return lcg64_s = lcg64_s * 6364136223846793005ul + 1442695040888963407ul; }

static unsigned int xs32_s = 2463534242u;
static unsigned int xorshift32(void)
{
    unsigned int x = xs32_s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return xs32_s = x;
}

static unsigned long xs64_s = 88172645463325252ul;
static unsigned long xorshift64(void)
{
    unsigned long x = xs64_s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return xs64_s = x;
}

static unsigned long xs64star_s = 1181783497276652981ul;
static unsigned long xorshift64star(void)
{
    unsigned long x = xs64star_s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    xs64star_s = x;
    return x * 0x2545F4914F6CDD1Dul;
}

static unsigned int xs128[4] = { 123456789u, 362436069u, 521288629u, 88675123u };
static unsigned int xorshift128(void)
{
    unsigned int t = xs128[3];
    unsigned int s = xs128[0];
    xs128[3] = xs128[2];
    xs128[2] = xs128[1];
    xs128[1] = s;
    t ^= t << 11;
    t ^= t >> 8;
    return xs128[0] = t ^ s ^ (s >> 19);
}

static unsigned long sm_s = 0;
static unsigned long splitmix64(void)
{
    unsigned long z = (sm_s += 0x9e3779b97f4a7c15ul);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
    return z ^ (z >> 31);
}

static unsigned long pcg_state = 0x853c49e6748fea9bul, pcg_inc = 0xda3e39cb94b95bdbul;
static unsigned int pcg32(void)
{
    unsigned long old = pcg_state;
    pcg_state = old * 6364136223846793005ul + (pcg_inc | 1);
    unsigned int xorshifted = (unsigned int)(((old >> 18u) ^ old) >> 27u);
    unsigned int rot = (unsigned int)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((0u - rot) & 31));
}

static unsigned __int128 lehmer_s = 42;
static unsigned long lehmer64(void)
{
    lehmer_s *= 0xda942042e4dd58b5ul;
    return (unsigned long)(lehmer_s >> 64);
}

/* unbiased integer in [0, bound) via multiply-shift with rejection (Lemire) */
static unsigned int bounded(unsigned int bound)
{
    unsigned long m = (unsigned long)pcg32() * bound;
    unsigned int l = (unsigned int)m;
    if (l < bound) {
        unsigned int t = (0u - bound) % bound;
        while (l < t) {
            m = (unsigned long)pcg32() * bound;
            l = (unsigned int)m;
        }
    }
    return (unsigned int)(m >> 32);
}

static void show(const char *name, unsigned long (*gen)(void), int n)
{
    unsigned long x = 0, last = 0;
    unsigned int buckets[16] = { 0 };
    for (int i = 0; i < n; i++) {
        last = gen();
        x ^= last + (x << 6) + (x >> 2);
        buckets[last >> 60]++;
    }
    unsigned long chi = 0;
    const long expect = n / 16;
    for (int i = 0; i < 16; i++) {
        long d = (long)buckets[i] - expect;
        chi += (unsigned long)(d * d);
    }
    lvd_puts(name); lvd_puts(": last="); lvd_put_hex(last);
    lvd_puts(" mix="); lvd_put_hex(x);
    lvd_puts(" chi*E="); lvd_put_u64(chi);
    lvd_putc('\n');
}

static unsigned long g_lcg32(void) { return (unsigned long)lcg32() << 32 | lcg32(); }
static unsigned long g_xs32(void) { return (unsigned long)xorshift32() << 32 | xorshift32(); }
static unsigned long g_xs128(void) { return (unsigned long)xorshift128() << 32 | xorshift128(); }
static unsigned long g_pcg(void) { return (unsigned long)pcg32() << 32 | pcg32(); }

int lvd_main(void)
{
    show("lcg32", g_lcg32, 1600);
    show("lcg64", lcg64, 1600);
    show("xorshift32", g_xs32, 1600);
    show("xorshift64", xorshift64, 1600);
    show("xorshift64*", xorshift64star, 1600);
    show("xorshift128", g_xs128, 1600);
    show("splitmix64", splitmix64, 1600);
    show("pcg32", g_pcg, 1600);
    show("lehmer64", lehmer64, 1600);

    /* PCG32 reference: first outputs with the default seed above */
    pcg_state = 0x853c49e6748fea9bul;
    unsigned int first = pcg32();
    lvd_puts("pcg32 first "); lvd_put_hex(first); lvd_putc('\n');

    unsigned int dice[6] = { 0 };
    unsigned long dsum = 0;
    for (int i = 0; i < 1200; i++) {
        unsigned int d = bounded(6);
        dice[d]++;
        dsum += d + 1;
    }
    lvd_puts("dice");
    for (int i = 0; i < 6; i++) {
        lvd_putc(' ');
        lvd_put_u64(dice[i]);
    }
    lvd_puts(" sum "); lvd_put_u64(dsum); lvd_putc('\n');
    unsigned int big = 0;
    for (int i = 0; i < 100; i++)
        big ^= bounded(1000000007u) + bounded(3u);
    lvd_puts("bounded mix "); lvd_put_u64(big); lvd_putc('\n');

    /* shuffle (Fisher-Yates) */
    unsigned char deck[52];
    for (int i = 0; i < 52; i++)
        deck[i] = (unsigned char)i;
    for (int i = 51; i > 0; i--) {
        unsigned int j = bounded((unsigned int)i + 1);
        unsigned char t = deck[i];
        deck[i] = deck[j];
        deck[j] = t;
    }
    unsigned int seen = 0;
    unsigned long seen_hi = 0;
    for (int i = 0; i < 52; i++) {
        if (deck[i] < 32) seen |= 1u << deck[i];
        else seen_hi |= 1ul << (deck[i] - 32);
        if (i < 13) {
            lvd_putc("A23456789TJQK"[deck[i] % 13]);
            lvd_putc("cdhs"[deck[i] / 13]);
            lvd_putc(' ');
        }
    }
    int perm_ok = seen == 0xffffffffu && seen_hi == 0xfffffu;
    lvd_puts(perm_ok ? "permutation ok\n" : "permutation BAD\n");
    return perm_ok ? (int)(first & 0x7f) : 255;
}
