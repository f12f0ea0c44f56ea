/* Multi-limb long division (Knuth algorithm D, 32-bit limbs, 64-bit
 * intermediates), multi-limb subtraction and comparison, a bignum gcd and a
 * modular exponentiation, verified by q*d + r == n. */
#include "lvd_bare.h"

#define L 24

typedef struct {
    int n;
    unsigned int d[L];
} num;

static void norm(num *a)
{
    while (a->n > 0 && a->d[a->n - 1] == 0)
        a->n--;
}

static int cmp(const num *a, const num *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static void add(num *r, const num *a, const num *b)
{
    unsigned long c = 0;
    int n = a->n > b->n ? a->n : b->n;
    for (int i = 0; i < n; i++) {
        c += (i < a->n ? a->d[i] : 0u);
        c += (i < b->n ? b->d[i] : 0u);
        r->d[i] = (unsigned int)c;
        c >>= 32;
    }
    r->n = n;
    if (c)
        r->d[r->n++] = (unsigned int)c;
}

/* r = a - b, requires a >= b */
static void sub(num *r, const num *a, const num *b)
{
    long borrow = 0;
    for (int i = 0; i < a->n; i++) {
        long t = (long)a->d[i] - (i < b->n ? (long)b->d[i] : 0) - borrow;
        borrow = t < 0;
        r->d[i] = (unsigned int)t;
    }
    r->n = a->n;
    norm(r);
}

static void mul(num *r, const num *a, const num *b)
{
    num t;
    int n = a->n + b->n;
    for (int i = 0; i < n; i++)
        t.d[i] = 0;
    for (int i = 0; i < a->n; i++) {
        unsigned long c = 0;
        for (int j = 0; j < b->n; j++) {
            c += (unsigned long)a->d[i] * b->d[j] + t.d[i + j];
            t.d[i + j] = (unsigned int)c;
            c >>= 32;
        }
        t.d[i + b->n] = (unsigned int)c;
    }
    t.n = n;
    norm(&t);
    *r = t;
}

static int nlz32(unsigned int x)
{
    int n = 0;
    if (x == 0)
        return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

/* q = u / v, r = u % v (Knuth D). v must be nonzero. */
static void divmod(num *q, num *r, const num *u, const num *v)
{
    int m = u->n, n = v->n;
    if (cmp(u, v) < 0) {
        q->n = 0;
        *r = *u;
        return;
    }
    if (n == 1) {
        unsigned long rem = 0;
        for (int i = m - 1; i >= 0; i--) {
            unsigned long cur = rem << 32 | u->d[i];
            q->d[i] = (unsigned int)(cur / v->d[0]);
            rem = cur % v->d[0];
        }
        q->n = m;
        norm(q);
        r->d[0] = (unsigned int)rem;
        r->n = 1;
        norm(r);
        return;
    }
    unsigned int un[L + 1], vn[L];
    int s = nlz32(v->d[n - 1]);
    for (int i = n - 1; i > 0; i--)
        vn[i] = (v->d[i] << s) | (unsigned int)(s ? (unsigned long)v->d[i - 1] >> (32 - s) : 0);
    vn[0] = v->d[0] << s;
    un[m] = (unsigned int)(s ? (unsigned long)u->d[m - 1] >> (32 - s) : 0);
    for (int i = m - 1; i > 0; i--)
        un[i] = (u->d[i] << s) | (unsigned int)(s ? (unsigned long)u->d[i - 1] >> (32 - s) : 0);
    un[0] = u->d[0] << s;

    for (int j = m - n; j >= 0; j--) {
        unsigned long num2 = (unsigned long)un[j + n] << 32 | un[j + n - 1];
        unsigned long qhat = num2 / vn[n - 1];
        unsigned long rhat = num2 % vn[n - 1];
        while (qhat >= (1ul << 32) ||
               qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
            qhat--;
            rhat += vn[n - 1];
            if (rhat >= (1ul << 32))
                break;
        }
        /* multiply and subtract */
        long borrow = 0;
        unsigned long carry = 0;
        for (int i = 0; i < n; i++) {
            unsigned long p = qhat * vn[i] + carry;
            carry = p >> 32;
            long t = (long)un[i + j] - borrow - (long)(p & 0xffffffffu);
            un[i + j] = (unsigned int)t;
            borrow = t < 0 ? 1 : 0;
        }
        long t = (long)un[j + n] - borrow - (long)carry;
        un[j + n] = (unsigned int)t;
        if (t < 0) {
            /* add back */
            qhat--;
            unsigned long c = 0;
            for (int i = 0; i < n; i++) {
                c += (unsigned long)un[i + j] + vn[i];
                un[i + j] = (unsigned int)c;
                c >>= 32;
            }
            un[j + n] += (unsigned int)c;
        }
        q->d[j] = (unsigned int)qhat;
    }
    q->n = m - n + 1;
    norm(q);
    for (int i = 0; i < n; i++)
        r->d[i] = (un[i] >> s) | (unsigned int)(s ? (unsigned long)un[i + 1] << (32 - s) : 0);
    r->n = n;
    norm(r);
}

static unsigned int rs = 0x12345678u;
static unsigned int rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static void random_num(num *a, int limbs)
{
    for (int i = 0; i < limbs; i++)
        a->d[i] = rnd();
    /* sometimes make the top limb small or the number sparse */
    if (limbs > 1 && (rnd() & 3) == 0)
        a->d[limbs - 1] &= 0xff;
    if ((rnd() & 7) == 0)
        for (int i = 0; i < limbs - 1; i++)
            a->d[i] = (rnd() & 1) ? 0xffffffffu : 0;
    a->n = limbs;
    norm(a);
    if (a->n == 0) {
        a->d[0] = 1;
        a->n = 1;
    }
}

static unsigned int hash_num(const num *a, unsigned int h)
{
    for (int i = 0; i < a->n; i++)
        h = (h ^ a->d[i]) * 16777619u;
    return h ^ (unsigned int)a->n;
}

static void print_hex(const num *a)
{
    if (a->n == 0) {
        lvd_puts("0x0");
        return;
    }
    lvd_put_hex(a->d[a->n - 1]);
    for (int i = a->n - 2; i >= 0; i--) {
        for (int sh = 28; sh >= 0; sh -= 4)
            lvd_putc("0123456789abcdef"[(a->d[i] >> sh) & 15]);
    }
}

int lvd_main(void)
{
    num u, v, q, r, t, back;
    unsigned int h = 2166136261u;
    int bad = 0;

    for (int iter = 0; iter < 60; iter++) {
        random_num(&u, 2 + iter % 11);
        random_num(&v, 1 + (iter * 7) % 6);
        divmod(&q, &r, &u, &v);
        mul(&t, &q, &v);
        add(&back, &t, &r);
        if (cmp(&back, &u) != 0 || cmp(&r, &v) >= 0)
            bad++;
        h = hash_num(&q, h);
        h = hash_num(&r, h);
        if (iter % 12 == 5) {
            lvd_puts("u="); print_hex(&u);
            lvd_puts("\nv="); print_hex(&v);
            lvd_puts("\nq="); print_hex(&q);
            lvd_puts("\nr="); print_hex(&r);
            lvd_putc('\n');
        }
    }
    lvd_puts("divisions hash "); lvd_put_hex(h);
    lvd_puts(" bad "); lvd_put_u64((unsigned long)bad); lvd_putc('\n');

    /* gcd of two bignums by Euclid */
    num a, b;
    random_num(&a, 8);
    random_num(&b, 5);
    random_num(&t, 3);
    mul(&a, &a, &t);
    mul(&b, &b, &t);
    int steps = 0;
    while (b.n != 0) {
        divmod(&q, &r, &a, &b);
        a = b;
        b = r;
        steps++;
    }
    lvd_puts("gcd steps "); lvd_put_u64((unsigned long)steps);
    lvd_puts(" gcd "); print_hex(&a);
    divmod(&q, &r, &a, &t);
    lvd_puts(" gcd mod common "); print_hex(&r);
    lvd_putc('\n');
    if (r.n != 0)
        bad++;

    /* 3^1000 mod (2^127 - 1) by square and multiply */
    num m, base, res;
    m.n = 4;
    m.d[0] = m.d[1] = m.d[2] = 0xffffffffu;
    m.d[3] = 0x7fffffffu;
    base.n = 1;
    base.d[0] = 3;
    res.n = 1;
    res.d[0] = 1;
    for (unsigned int e = 1000; e; e >>= 1) {
        if (e & 1) {
            mul(&t, &res, &base);
            divmod(&q, &res, &t, &m);
        }
        mul(&t, &base, &base);
        divmod(&q, &base, &t, &m);
    }
    lvd_puts("3^1000 mod (2^127-1) = "); print_hex(&res); lvd_putc('\n');
    sub(&t, &m, &res);
    lvd_puts("m - that = "); print_hex(&t); lvd_putc('\n');
    return bad;
}
