/* Calling-convention stress: functions with 6..16 integer arguments of
 * mixed widths (the rest go on the stack), small and medium structs
 * passed and returned by value, variadic functions with many arguments,
 * variable-length arrays and __builtin_alloca, recursion keeping many
 * values live across calls (callee-saved registers), and noinline
 * functions so the calls really happen at every -O level. */
#include <stdarg.h>
#include "lvd_bare.h"

#define NOINLINE __attribute__((noinline))

NOINLINE static long six(long a, long b, long c, long d, long e, long f)
{
    return a - 2 * b + 3 * c - 4 * d + 5 * e - 6 * f;
}

NOINLINE static long many(signed char a, unsigned char b, short c, unsigned short d, int e,
                          unsigned int f, long g, unsigned long h, signed char i, short j,
                          int k, long l, unsigned char m, unsigned short n, unsigned int o, long p)
{
    /* unsigned arithmetic: wraps instead of overflowing */
    unsigned long r = (unsigned long)(long)a;
    r = r * 3 + b;
    r = r * 3 + (unsigned long)(long)c;
    r = r * 3 + d;
    r = r * 3 + (unsigned long)(long)e;
    r = r * 3 + f;
    r = r * 3 + (unsigned long)g;
    r = r * 3 + h;
    r = r * 3 + (unsigned long)(long)i;
    r = r * 3 + (unsigned long)(long)j;
    r = r * 3 + (unsigned long)(long)k;
    r = r * 3 + (unsigned long)l;
    r = r * 3 + m;
    r = r * 3 + n;
    r = r * 3 + o;
    return (long)(r ^ (unsigned long)p);
}

struct s8 { int a, b; };
struct s16 { long x; int y; };
struct s24 { long x, y, z; };
struct mixed { char c; short s; int i; };

NOINLINE static struct s8 swap8(struct s8 v) { struct s8 r = { v.b, v.a }; return r; }
NOINLINE static struct s16 scale16(struct s16 v, long k) { v.x *= k; v.y = (int)(v.y * k); return v; }
NOINLINE static struct s24 rot24(struct s24 v) { struct s24 r = { v.y, v.z, v.x }; return r; }
NOINLINE static struct mixed bump(struct mixed m, int by)
{
    m.c = (char)(m.c + by);
    m.s = (short)(m.s + by * 100);
    m.i += by * 10000;
    return m;
}

/* struct arguments after six integer args go on the stack */
NOINLINE static long after_six(long a, long b, long c, long d, long e, long f, struct s24 s, struct s8 t)
{
    return a + b + c + d + e + f + s.x * 7 + s.y * 11 + s.z * 13 + t.a * 17 + t.b * 19;
}

NOINLINE static unsigned long vsum(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    unsigned long s = 0;
    for (int i = 0; i < n; i++) {
        unsigned long v = va_arg(ap, unsigned long);
        s = s * 31 + v;
    }
    va_end(ap);
    return s;
}

NOINLINE static unsigned long vla_sum(int n)
{
    long arr[n]; /* variable-length array */
    for (int i = 0; i < n; i++)
        arr[i] = (long)i * i - 3 * i;
    unsigned long s = 0;
    for (int i = n - 1; i >= 0; i--)
        s = s * 3 + (unsigned long)arr[i];
    return s;
}

NOINLINE static unsigned int alloca_hash(unsigned int n)
{
    unsigned char *buf = __builtin_alloca(n);
    for (unsigned int i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7 + n);
    unsigned int h = 0;
    for (unsigned int i = 0; i < n; i++)
        h = h * 33 + buf[i];
    return h;
}

/* lots of values live across a recursive call */
NOINLINE static long pressure(int depth, long a, long b, long c)
{
    if (depth == 0)
        return a ^ b ^ c;
    long d = a * 3 + 1, e = b * 5 + 2, f = c * 7 + 3, g = a + b + c, h = a - c, i = b ^ c;
    long r = pressure(depth - 1, d & 0xffff, e & 0xffff, f & 0xffff);
    return r + d + e * 2 + f * 3 + g * 4 + h * 5 + i * 6;
}

static long (*const fptrs[])(long, long, long, long, long, long) = { six };

int lvd_main(void)
{
    unsigned long h = 0;
    long r1 = six(1, 2, 3, 4, 5, 6);
    long r2 = fptrs[0](-1, -2, -3, -4, -5, -6);
    lvd_puts("six "); lvd_put_s64(r1); lvd_putc(' '); lvd_put_s64(r2); lvd_putc('\n');

    long m = many(-5, 250, -30000, 60000, -2000000000, 4000000000u, -5000000000000l,
                  18000000000000000000ul, 127, -1, 12345, -9, 0, 65535, 1, 42);
    lvd_puts("many "); lvd_put_s64(m); lvd_putc('\n');

    struct s8 a = swap8((struct s8){ 11, -22 });
    struct s16 b = scale16((struct s16){ 1000000007, -3 }, -4);
    struct s24 c = rot24((struct s24){ 1, 2, 3 });
    struct mixed d = bump((struct mixed){ 'a', 1000, -7 }, 3);
    lvd_puts("structs "); lvd_put_s64(a.a); lvd_putc(','); lvd_put_s64(a.b);
    lvd_putc(' '); lvd_put_s64(b.x); lvd_putc(','); lvd_put_s64(b.y);
    lvd_putc(' '); lvd_put_s64(c.x); lvd_put_s64(c.y); lvd_put_s64(c.z);
    lvd_putc(' '); lvd_putc(d.c); lvd_putc(','); lvd_put_s64(d.s); lvd_putc(','); lvd_put_s64(d.i);
    lvd_putc('\n');
    long as = after_six(1, 2, 3, 4, 5, 6, (struct s24){ 100, 200, 300 }, (struct s8){ -1, -2 });
    lvd_puts("after_six "); lvd_put_s64(as); lvd_putc('\n');

    unsigned long v = vsum(12, 1ul, 2ul, 3ul, 4ul, 5ul, 6ul, 7ul, 8ul, 9ul, 10ul, 11ul, 0xfffffffffffffffful);
    unsigned long v0 = vsum(0);
    lvd_puts("vsum "); lvd_put_hex(v); lvd_putc(' '); lvd_put_u64(v0); lvd_putc('\n');

    lvd_puts("vla");
    for (int n = 1; n <= 64; n *= 2) {
        unsigned long s = vla_sum(n);
        h = h * 7 + s;
        lvd_putc(' ');
        lvd_put_hex(s);
    }
    lvd_putc('\n');
    lvd_puts("alloca");
    for (unsigned int n = 1; n <= 300; n = n * 3 + 1) {
        unsigned int ah = alloca_hash(n);
        h = h * 7 + ah;
        lvd_putc(' ');
        lvd_put_hex(ah);
    }
    lvd_putc('\n');
    long p = pressure(40, 1, 2, 3);
    lvd_puts("pressure "); lvd_put_s64(p); lvd_putc('\n');
    h ^= (unsigned long)p ^ (unsigned long)m ^ v;
    lvd_puts("h "); lvd_put_hex(h); lvd_putc('\n');
    return (int)(h & 0x7f);
}
