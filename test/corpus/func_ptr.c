/* Function pointers: a table of binary operations, callbacks with a
 * context pointer, a generic qsort (byte-wise swap, comparator callback)
 * used with several comparators, function pointers stored in structs
 * (a tiny "vtable"), a function returning a function pointer, and
 * map/filter/fold over arrays. */
#include "lvd_bare.h"

typedef long (*binop)(long, long);

static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_div(long a, long b) { return b ? a / b : 0; }
static long op_mod(long a, long b) { return b ? a % b : 0; }
static long op_min(long a, long b) { return a < b ? a : b; }
static long op_max(long a, long b) { return a > b ? a : b; }
static long op_xor(long a, long b) { return a ^ b; }

static const struct {
    const char *name;
    binop fn;
} ops[] = {
    { "add", op_add }, { "sub", op_sub }, { "mul", op_mul }, { "div", op_div },
    { "mod", op_mod }, { "min", op_min }, { "max", op_max }, { "xor", op_xor },
};

static binop pick(const char *name)
{
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const char *a = ops[i].name, *b = name;
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b)
            return ops[i].fn;
    }
    return 0;
}

/* generic sort with a comparator */
typedef int (*cmp_fn)(const void *, const void *);

static void byte_swap(unsigned char *a, unsigned char *b, unsigned long size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void gsort(void *base, unsigned long n, unsigned long size, cmp_fn cmp)
{
    unsigned char *b = (unsigned char *)base;
    /* shell sort with gaps 1, 4, 13, 40... */
    unsigned long gap = 1;
    while (gap < n / 3)
        gap = gap * 3 + 1;
    for (; gap > 0; gap /= 3)
        for (unsigned long i = gap; i < n; i++)
            for (unsigned long j = i; j >= gap && cmp(b + (j - gap) * size, b + j * size) > 0; j -= gap)
                byte_swap(b + (j - gap) * size, b + j * size, size);
}

static int cmp_int_asc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_int_desc(const void *a, const void *b)
{
    return cmp_int_asc(b, a);
}

static int cmp_abs_then_sign(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    long ax = x < 0 ? -(long)x : x, ay = y < 0 ? -(long)y : y;
    if (ax != ay)
        return ax < ay ? -1 : 1;
    return (x > y) - (x < y);
}

struct person {
    char name[8];
    unsigned char age;
    unsigned short score;
};

static int cmp_person(const void *a, const void *b)
{
    const struct person *p = a, *q = b;
    if (p->age != q->age)
        return p->age - q->age;
    return (int)q->score - (int)p->score;
}

/* vtable-like shapes */
struct shape;
struct shape_ops {
    long (*area)(const struct shape *);
    long (*perimeter)(const struct shape *);
    const char *kind;
};
struct shape {
    const struct shape_ops *ops;
    long a, b;
};
static long rect_area(const struct shape *s) { return s->a * s->b; }
static long rect_perim(const struct shape *s) { return 2 * (s->a + s->b); }
static long sq_area(const struct shape *s) { return s->a * s->a; }
static long sq_perim(const struct shape *s) { return 4 * s->a; }
static long tri_area2(const struct shape *s) { return s->a * s->b; /* twice the area */ }
static long tri_perim(const struct shape *s) { return s->a + s->b + s->a + s->b / 2; }
static const struct shape_ops rect_ops = { rect_area, rect_perim, "rect" };
static const struct shape_ops square_ops = { sq_area, sq_perim, "square" };
static const struct shape_ops tri_ops = { tri_area2, tri_perim, "tri" };

/* callbacks with context */
struct stats {
    long sum, min, max;
    unsigned long count;
};
static void collect(void *ctx, long v)
{
    struct stats *s = ctx;
    s->sum += v;
    if (s->count == 0 || v < s->min) s->min = v;
    if (s->count == 0 || v > s->max) s->max = v;
    s->count++;
}
static void printer(void *ctx, long v)
{
    int *first = ctx;
    if (!*first)
        lvd_putc(',');
    *first = 0;
    lvd_put_s64(v);
}
static void for_each(const long *v, int n, void (*cb)(void *, long), void *ctx)
{
    for (int i = 0; i < n; i++)
        cb(ctx, v[i]);
}
static long fold(const long *v, int n, long init, binop f)
{
    for (int i = 0; i < n; i++)
        init = f(init, v[i]);
    return init;
}
static int filter(const long *in, int n, long *out, int (*pred)(long))
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (pred(in[i]))
            out[m++] = in[i];
    return m;
}
static int is_even(long v) { return (v & 1) == 0; }
static int is_big(long v) { return v > 50 || v < -50; }

static binop compose_choice(int k) { return k & 1 ? op_max : op_min; }

int lvd_main(void)
{
    long vals[20];
    for (int i = 0; i < 20; i++)
        vals[i] = (long)((i * 37) % 101) - 40;

    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        lvd_puts(ops[i].name);
        lvd_putc('=');
        lvd_put_s64(fold(vals, 20, i == 2 ? 1 : 0, ops[i].fn));
        lvd_putc(' ');
    }
    lvd_putc('\n');
    binop f = pick("mod");
    lvd_puts("pick(mod)(-17, 5) = "); lvd_put_s64(f(-17, 5));
    lvd_puts(" pick(nope) is null: "); lvd_put_u64(pick("nope") == 0);
    lvd_puts(" compose: "); lvd_put_s64(compose_choice(3)(4, 9)); lvd_putc(' ');
    lvd_put_s64(compose_choice(2)(4, 9));
    lvd_putc('\n');

    struct stats st = { 0, 0, 0, 0 };
    for_each(vals, 20, collect, &st);
    lvd_puts("stats sum="); lvd_put_s64(st.sum); lvd_puts(" min="); lvd_put_s64(st.min);
    lvd_puts(" max="); lvd_put_s64(st.max); lvd_puts(" n="); lvd_put_u64(st.count); lvd_putc('\n');
    long ev[20];
    int ne = filter(vals, 20, ev, is_even);
    int first = 1;
    lvd_puts("even: ");
    for_each(ev, ne, printer, &first);
    ne = filter(vals, 20, ev, is_big);
    first = 1;
    lvd_puts("\nbig: ");
    for_each(ev, ne, printer, &first);
    lvd_putc('\n');

    int ints[40];
    for (int i = 0; i < 40; i++)
        ints[i] = (i * 7919) % 83 - 41;
    static const cmp_fn cmps[] = { cmp_int_asc, cmp_int_desc, cmp_abs_then_sign };
    for (int c = 0; c < 3; c++) {
        gsort(ints, 40, sizeof ints[0], cmps[c]);
        int sorted = 1;
        for (int i = 1; i < 40; i++)
            if (cmps[c](&ints[i - 1], &ints[i]) > 0)
                sorted = 0;
        lvd_puts("sort "); lvd_put_u64((unsigned long)c); lvd_puts(sorted ? " ok:" : " BAD:");
        for (int i = 0; i < 40; i += 5) {
            lvd_putc(' ');
            lvd_put_s64(ints[i]);
        }
        lvd_putc('\n');
    }

    struct person people[7] = {
        { "ann", 31, 500 }, { "bob", 25, 700 }, { "cyd", 31, 900 }, { "dee", 19, 100 },
        { "eve", 25, 650 }, { "fay", 44, 300 }, { "gus", 19, 100 },
    };
    gsort(people, 7, sizeof people[0], cmp_person);
    for (int i = 0; i < 7; i++) {
        lvd_puts(people[i].name);
        lvd_putc('/');
        lvd_put_u64(people[i].age);
        lvd_putc(i == 6 ? '\n' : ' ');
    }

    struct shape shapes[5] = {
        { &rect_ops, 3, 4 }, { &square_ops, 5, 0 }, { &tri_ops, 6, 8 },
        { &rect_ops, 10, 1 }, { &square_ops, 7, 0 },
    };
    long total = 0;
    for (int i = 0; i < 5; i++) {
        long a = shapes[i].ops->area(&shapes[i]);
        long p = shapes[i].ops->perimeter(&shapes[i]);
        total += a * 3 + p;
        lvd_puts(shapes[i].ops->kind); lvd_putc(':'); lvd_put_s64(a);
        lvd_putc('/'); lvd_put_s64(p); lvd_putc(' ');
    }
    lvd_puts("total "); lvd_put_s64(total); lvd_putc('\n');
    return (int)(total & 0x7f);
}
