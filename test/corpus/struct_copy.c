/* Struct copies: large struct assignment (gcc emits memcpy or rep movs),
 * structs passed and returned by value (small ones in registers, large ones
 * via hidden pointer), arrays of structs, nested structs, designated and
 * compound-literal initializers, and zeroing (memset). */
#include "lvd_bare.h"

struct point { int x, y; };
struct rect { struct point lo, hi; };
struct small { unsigned char a; unsigned short b; unsigned int c; };
struct pair64 { unsigned long lo, hi; };
struct odd { char c[3]; };
struct big {
    unsigned int id;
    char name[20];
    struct rect box;
    unsigned long payload[40];
    unsigned short tail[7];
};

static struct big table[6];
static struct big global_big;

static struct point make_point(int x, int y)
{
    struct point p = { x, y };
    return p;
}

static struct point add_points(struct point a, struct point b)
{
    return make_point(a.x + b.x, a.y + b.y);
}

static struct rect grow(struct rect r, int d)
{
    r.lo.x -= d;
    r.lo.y -= d;
    r.hi.x += d;
    r.hi.y += d;
    return r;
}

static long area(const struct rect *r)
{
    return (long)(r->hi.x - r->lo.x) * (r->hi.y - r->lo.y);
}

static struct pair64 mul_wide(unsigned long a, unsigned long b)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    struct pair64 r = { (unsigned long)p, (unsigned long)(p >> 64) };
    return r;
}

static struct small make_small(int i)
{
    return (struct small){ .a = (unsigned char)(i * 37), .b = (unsigned short)(i * 1000), .c = (unsigned int)i * 100000u };
}

static struct odd make_odd(char base)
{
    struct odd o = { { base, (char)(base + 1), (char)(base + 2) } };
    return o;
}

/* noinline keeps the hidden-pointer return (and by-value passing below)
 * visible at every -O level; inlined, gcc 12 -O3 with -mcmodel=kernel also
 * reports a bogus -Waggressive-loop-optimizations warning here. */
__attribute__((noinline)) static struct big make_big(unsigned int id)
{
    struct big b;
    b.id = id;
    for (int i = 0; i < 20; i++)
        b.name[i] = (char)(i < 19 ? 'A' + (int)((id + (unsigned)i) % 26u) : 0);
    b.box.lo = make_point((int)id, -(int)id);
    b.box.hi = make_point((int)id * 3 + 10, (int)id * 2 + 5);
    for (int i = 0; i < 40; i++)
        b.payload[i] = (unsigned long)id * 0x9E3779B97F4A7C15ul + (unsigned long)i;
    for (int i = 0; i < 7; i++)
        b.tail[i] = (unsigned short)(id * 7 + (unsigned)i);
    return b; /* returned through a hidden pointer */
}

__attribute__((noinline)) static unsigned long hash_big(struct big b) /* passed by value on the stack */
{
    unsigned long h = b.id;
    for (int i = 0; b.name[i]; i++)
        h = h * 131 + (unsigned char)b.name[i];
    h ^= (unsigned long)area(&b.box);
    for (int i = 0; i < 40; i++)
        h = (h << 7 | h >> 57) ^ b.payload[i];
    for (int i = 0; i < 7; i++)
        h += b.tail[i];
    return h;
}

static void swap_big(struct big *a, struct big *b)
{
    struct big t = *a;
    *a = *b;
    *b = t;
}

int lvd_main(void)
{
    unsigned long h = 0;

    struct point p = add_points(make_point(3, -4), make_point(-10, 20));
    lvd_puts("point "); lvd_put_s64(p.x); lvd_putc(','); lvd_put_s64(p.y); lvd_putc('\n');

    struct rect r = { { 1, 2 }, { 11, 7 } };
    struct rect g = grow(r, 3);
    lvd_puts("rect area "); lvd_put_s64(area(&r));
    lvd_puts(" grown "); lvd_put_s64(area(&g));
    lvd_puts(" original lo.x "); lvd_put_s64(r.lo.x); lvd_putc('\n');

    struct pair64 w = mul_wide(0xfedcba9876543210ul, 0x0123456789abcdeful);
    lvd_puts("mul_wide "); lvd_put_hex(w.hi); lvd_putc(' '); lvd_put_hex(w.lo); lvd_putc('\n');

    struct small sm[8];
    for (int i = 0; i < 8; i++)
        sm[i] = make_small(i + 1);
    struct small sm_copy[8];
    for (int i = 0; i < 8; i++)
        sm_copy[7 - i] = sm[i];
    for (int i = 0; i < 8; i++)
        h = h * 31 + sm_copy[i].a + sm_copy[i].b + sm_copy[i].c;
    lvd_puts("small structs "); lvd_put_hex(h); lvd_putc('\n');

    struct odd o = make_odd('x');
    struct odd o2 = o;
    o2.c[1] = '!';
    lvd_putc(o.c[0]); lvd_putc(o.c[1]); lvd_putc(o.c[2]); lvd_putc(' ');
    lvd_putc(o2.c[0]); lvd_putc(o2.c[1]); lvd_putc(o2.c[2]); lvd_putc('\n');

    for (unsigned int i = 0; i < 6; i++)
        table[i] = make_big(i * 5 + 1);
    global_big = table[2];
    swap_big(&table[0], &table[5]);
    swap_big(&table[1], &table[4]);
    for (int i = 0; i < 6; i++) {
        unsigned long hb = hash_big(table[i]);
        lvd_puts("big "); lvd_put_u64(table[i].id);
        lvd_putc(' '); lvd_puts(table[i].name);
        lvd_putc(' '); lvd_put_hex(hb);
        lvd_putc('\n');
        h ^= hb;
    }
    int same = global_big.id == table[2].id && hash_big(global_big) == hash_big(table[2]);

    struct big z;
    __builtin_memset(&z, 0, sizeof z);
    struct big zero = { 0 };
    int zeros = 1;
    const unsigned char *zp = (const unsigned char *)&zero;
    for (unsigned long i = 0; i < sizeof zero; i++)
        if (zp[i] != 0)
            zeros = 0;
    z.box = table[3].box;
    lvd_puts("zeroed ok "); lvd_put_u64((unsigned long)zeros);
    lvd_puts(" copied box area "); lvd_put_s64(area(&z.box));
    lvd_puts(" same "); lvd_put_u64((unsigned long)same);
    lvd_puts(" sizeof big "); lvd_put_u64(sizeof(struct big));
    lvd_puts(" sizeof small "); lvd_put_u64(sizeof(struct small));
    lvd_putc('\n');

    struct rect arr[4] = { [1] = { { 5, 5 }, { 6, 9 } }, [3].hi.x = 4 };
    long sum = 0;
    for (int i = 0; i < 4; i++)
        sum += area(&arr[i]) * (i + 1);
    lvd_puts("designated sum "); lvd_put_s64(sum);
    lvd_puts(" final h "); lvd_put_hex(h);
    lvd_putc('\n');
    return same && zeros ? (int)(h & 0x7f) : 255;
}
