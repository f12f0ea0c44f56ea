/* Sieve of Eratosthenes (byte array and bit array), prime counting,
 * twin primes, Goldbach partitions, and a Miller-Rabin primality test
 * (64-bit moduli via Montgomery multiplication on unsigned __int128). */
#include "lvd_bare.h"

#define LIMIT 10000

static unsigned char composite[LIMIT + 1];
static unsigned int bits[(LIMIT >> 6) + 1]; /* odd numbers only, 1 bit each */
static unsigned int primes[1300];
static int nprimes;

static void sieve_bytes(void)
{
    composite[0] = composite[1] = 1;
    for (unsigned int i = 2; i * i <= LIMIT; i++)
        if (!composite[i])
            for (unsigned int j = i * i; j <= LIMIT; j += i)
                composite[j] = 1;
    for (unsigned int i = 2; i <= LIMIT; i++)
        if (!composite[i])
            primes[nprimes++] = i;
}

static int bit_is_composite(unsigned int n) /* n odd */
{
    unsigned int k = n >> 1;
    return (int)((bits[k >> 5] >> (k & 31)) & 1u);
}

static void sieve_bits(void)
{
    for (unsigned int i = 3; i * i <= LIMIT; i += 2)
        if (!bit_is_composite(i))
            for (unsigned int j = i * i; j <= LIMIT; j += 2 * i) {
                unsigned int k = j >> 1;
                bits[k >> 5] |= 1u << (k & 31);
            }
}

/* Montgomery arithmetic modulo an odd 64-bit n, using only 64x64->128
 * multiplication and 128-bit addition (no 128-bit division). */
struct mont {
    unsigned long n, nneg_inv, r1, r2; /* nneg_inv = -n^-1 mod 2^64, r1 = 2^64 mod n, r2 = 2^128 mod n */
};

static unsigned long addmod(unsigned long a, unsigned long b, unsigned long n)
{
    unsigned long s;
    int carry = __builtin_add_overflow(a, b, &s);
    if (carry || s >= n)
        s -= n;
    return s;
}

static void mont_init(struct mont *m, unsigned long n)
{
    unsigned long x = n; /* n * n == 1 mod 8 for odd n: 3 correct bits */
    for (int i = 0; i < 5; i++)
        x *= 2 - n * x; /* Newton iteration doubles the correct bits */
    m->n = n;
    m->nneg_inv = 0 - x;
    m->r1 = (0 - n) % n;
    unsigned long r = m->r1;
    for (int i = 0; i < 64; i++)
        r = addmod(r, r, n);
    m->r2 = r;
}

static unsigned long redc(const struct mont *m, unsigned __int128 t)
{
    unsigned long tl = (unsigned long)t, th = (unsigned long)(t >> 64);
    unsigned long q = tl * m->nneg_inv;
    unsigned __int128 qn = (unsigned __int128)q * m->n;
    unsigned long ql = (unsigned long)qn, qh = (unsigned long)(qn >> 64);
    unsigned long carry = (unsigned long)(tl + ql < tl); /* low half sums to 0 mod 2^64 */
    unsigned __int128 sum = (unsigned __int128)th + qh + carry;
    if (sum >= m->n)
        sum -= m->n;
    return (unsigned long)sum;
}

static unsigned long mont_mul(const struct mont *m, unsigned long a, unsigned long b)
{
    return redc(m, (unsigned __int128)a * b);
}

static unsigned long to_mont(const struct mont *m, unsigned long a)
{
    return mont_mul(m, a % m->n, m->r2);
}

static unsigned long powmod_small(unsigned long b, unsigned long e, unsigned long n)
{
    /* n < 2^32: products fit in 64 bits */
    unsigned long r = 1 % n;
    b %= n;
    while (e) {
        if (e & 1)
            r = r * b % n;
        b = b * b % n;
        e >>= 1;
    }
    return r;
}

static int miller_rabin(unsigned long n)
{
    if (n < 2)
        return 0;
    static const unsigned long bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
    for (unsigned i = 0; i < 12; i++) {
        if (n == bases[i])
            return 1;
        if (n % bases[i] == 0)
            return 0;
    }
    unsigned long d = n - 1;
    int s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    /* bases 2, 3, 5, 7 are enough below 3215031751 */
    unsigned nb = n < 3215031751ul ? 4 : 12;
    if (n < 0x100000000ul) {
        for (unsigned i = 0; i < nb; i++) {
            unsigned long x = powmod_small(bases[i], d, n);
            if (x == 1 || x == n - 1)
                continue;
            int witness = 1;
            for (int r = 1; r < s && witness; r++) {
                x = x * x % n;
                if (x == n - 1)
                    witness = 0;
            }
            if (witness)
                return 0;
        }
        return 1;
    }
    struct mont m;
    mont_init(&m, n);
    const unsigned long one = m.r1, minus_one = n - m.r1;
    for (unsigned i = 0; i < nb; i++) {
        unsigned long x = one, b = to_mont(&m, bases[i]);
        for (unsigned long e = d; e; e >>= 1) {
            if (e & 1)
                x = mont_mul(&m, x, b);
            b = mont_mul(&m, b, b);
        }
        if (x == one || x == minus_one)
            continue;
        int witness = 1;
        for (int r = 1; r < s && witness; r++) {
            x = mont_mul(&m, x, x);
            if (x == minus_one)
                witness = 0;
        }
        if (witness)
            return 0;
    }
    return 1;
}

int lvd_main(void)
{
    int errors = 0;
    sieve_bytes();
    sieve_bits();
    for (unsigned int n = 3; n <= LIMIT; n += 2)
        if (bit_is_composite(n) != composite[n])
            errors++;
    lvd_puts("pi(10000) = "); lvd_put_u64((unsigned long)nprimes);
    lvd_puts(" last = "); lvd_put_u64(primes[nprimes - 1]);
    lvd_puts(" bit-sieve mismatches = "); lvd_put_u64((unsigned long)errors);
    lvd_putc('\n');

    static const unsigned int checkpoints[] = { 10, 100, 1000, 5000, 10000 };
    for (unsigned c = 0; c < 5; c++) {
        int cnt = 0;
        for (int i = 0; i < nprimes && primes[i] <= checkpoints[c]; i++)
            cnt++;
        lvd_puts("pi("); lvd_put_u64(checkpoints[c]); lvd_puts(")="); lvd_put_u64((unsigned long)cnt);
        lvd_putc(c == 4 ? '\n' : ' ');
    }
    int twins = 0;
    unsigned long psum = 0;
    for (int i = 0; i < nprimes; i++) {
        psum += primes[i];
        if (i && primes[i] - primes[i - 1] == 2)
            twins++;
    }
    unsigned int maxgap = 0, gap_at = 0;
    for (int i = 1; i < nprimes; i++)
        if (primes[i] - primes[i - 1] > maxgap) {
            maxgap = primes[i] - primes[i - 1];
            gap_at = primes[i - 1];
        }
    lvd_puts("twin pairs "); lvd_put_u64((unsigned long)twins);
    lvd_puts(" sum "); lvd_put_u64(psum);
    lvd_puts(" max gap "); lvd_put_u64(maxgap); lvd_puts(" after "); lvd_put_u64(gap_at);
    lvd_putc('\n');

    lvd_puts("goldbach partitions:");
    for (unsigned int even = 100; even <= 1000; even += 300) {
        int parts = 0;
        for (int i = 0; primes[i] <= even / 2; i++)
            if (!composite[even - primes[i]])
                parts++;
        lvd_putc(' ');
        lvd_put_u64(even); lvd_putc(':'); lvd_put_u64((unsigned long)parts);
    }
    lvd_putc('\n');

    /* Miller-Rabin agrees with the sieve on a range */
    int mr_err = 0;
    for (unsigned long n = 0; n <= 1000; n++)
        if (miller_rabin(n) != !composite[n])
            mr_err++;
    static const unsigned long bigs[] = { 1000000007ul, 1000000009ul, 4294967291ul, 4294967297ul,
                                          18446744073709551557ul, 18446744073709551555ul,
                                          3215031751ul, 9223372036854775783ul, 3825123056546413051ul,
                                          18446743979220271189ul, 18446744073709551533ul,
                                          2305843009213693951ul };
    lvd_puts("miller-rabin errors "); lvd_put_u64((unsigned long)mr_err); lvd_puts(" big:");
    for (unsigned i = 0; i < sizeof bigs / sizeof bigs[0]; i++) {
        lvd_putc(' ');
        lvd_put_u64((unsigned long)miller_rabin(bigs[i]));
    }
    lvd_putc('\n');
    return errors + mr_err;
}
