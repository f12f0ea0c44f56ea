/* Multi-limb arithmetic with 32-bit limbs: addition, multiplication by a
 * small number and by another bignum, conversion to decimal by repeated
 * division by 10^9.  Prints 50!, fibonacci(300), 2^200 and 3^100 * 7^50. */
#include "lvd_bare.h"

#define LIMBS 40

struct big {
    int n; /* number of limbs in use */
    unsigned int d[LIMBS]; /* little endian */
};

static void big_set(struct big *a, unsigned int v)
{
    a->n = v ? 1 : 0;
    a->d[0] = v;
}

static void big_norm(struct big *a)
{
    while (a->n > 0 && a->d[a->n - 1] == 0)
        a->n--;
}

static void big_add(struct big *r, const struct big *a, const struct big *b)
{
    unsigned long carry = 0;
    int n = a->n > b->n ? a->n : b->n;
    for (int i = 0; i < n; i++) {
        unsigned long s = carry;
        if (i < a->n) s += a->d[i];
        if (i < b->n) s += b->d[i];
        r->d[i] = (unsigned int)s;
        carry = s >> 32;
    }
    if (carry)
        r->d[n++] = (unsigned int)carry;
    r->n = n;
}

static void big_mul_small(struct big *a, unsigned int m)
{
    unsigned long carry = 0;
    for (int i = 0; i < a->n; i++) {
        unsigned long p = (unsigned long)a->d[i] * m + carry;
        a->d[i] = (unsigned int)p;
        carry = p >> 32;
    }
    if (carry)
        a->d[a->n++] = (unsigned int)carry;
    big_norm(a);
}

static void big_mul(struct big *r, const struct big *a, const struct big *b)
{
    struct big t;
    for (int i = 0; i < a->n + b->n; i++)
        t.d[i] = 0;
    for (int i = 0; i < a->n; i++) {
        unsigned long carry = 0;
        for (int j = 0; j < b->n; j++) {
            unsigned long p = (unsigned long)a->d[i] * b->d[j] + t.d[i + j] + carry;
            t.d[i + j] = (unsigned int)p;
            carry = p >> 32;
        }
        t.d[i + b->n] = (unsigned int)carry;
    }
    t.n = a->n + b->n;
    big_norm(&t);
    *r = t; /* struct copy */
}

/* divides a by m in place, returns the remainder */
static unsigned int big_divmod_small(struct big *a, unsigned int m)
{
    unsigned long rem = 0;
    for (int i = a->n - 1; i >= 0; i--) {
        unsigned long cur = (rem << 32) | a->d[i];
        a->d[i] = (unsigned int)(cur / m);
        rem = cur % m;
    }
    big_norm(a);
    return (unsigned int)rem;
}

static unsigned int digit_sum;

static void big_print(const char *label, const struct big *a)
{
    struct big t = *a;
    unsigned int chunks[64];
    int nc = 0;
    digit_sum = 0;
    if (t.n == 0)
        chunks[nc++] = 0;
    while (t.n > 0)
        chunks[nc++] = big_divmod_small(&t, 1000000000u);
    lvd_puts(label);
    lvd_puts(" = ");
    for (int i = nc - 1; i >= 0; i--) {
        char buf[9];
        unsigned int c = chunks[i];
        for (int k = 8; k >= 0; k--) {
            buf[k] = (char)('0' + c % 10);
            c /= 10;
        }
        int start = 0;
        if (i == nc - 1)
            while (start < 8 && buf[start] == '0')
                start++;
        for (int k = start; k < 9; k++) {
            lvd_putc(buf[k]);
            digit_sum += (unsigned int)(buf[k] - '0');
        }
    }
    lvd_puts("\n");
}

int lvd_main(void)
{
    struct big f, a, b, c, p;

    big_set(&f, 1);
    for (unsigned int i = 2; i <= 50; i++)
        big_mul_small(&f, i);
    big_print("50!", &f);
    unsigned int fact_sum = digit_sum;
    lvd_puts("digit sum "); lvd_put_u64(digit_sum);
    lvd_puts(" limbs "); lvd_put_u64((unsigned long)f.n); lvd_putc('\n');

    big_set(&a, 0);
    big_set(&b, 1);
    for (int i = 0; i < 300; i++) {
        big_add(&c, &a, &b);
        a = b;
        b = c;
    }
    big_print("fib(300)", &a);
    lvd_puts("digit sum "); lvd_put_u64(digit_sum); lvd_putc('\n');

    big_set(&p, 1);
    for (int i = 0; i < 200; i++)
        big_mul_small(&p, 2);
    big_print("2^200", &p);

    struct big x, y;
    big_set(&x, 1);
    for (int i = 0; i < 100; i++)
        big_mul_small(&x, 3);
    big_set(&y, 1);
    for (int i = 0; i < 50; i++)
        big_mul_small(&y, 7);
    big_mul(&x, &x, &y);
    big_print("3^100*7^50", &x);

    /* (50!)^2 via big_mul, then divide back by 50..2 */
    big_mul(&c, &f, &f);
    big_print("(50!)^2", &c);
    unsigned int rems = 0;
    for (unsigned int i = 2; i <= 50; i++)
        rems += big_divmod_small(&c, i);
    int ok = rems == 0 && c.n == f.n;
    for (int i = 0; ok && i < f.n; i++)
        ok = c.d[i] == f.d[i];
    lvd_puts(ok ? "division check ok\n" : "division check FAILED\n");
    return ok ? (int)(fact_sum & 0x7f) : 255;
}
