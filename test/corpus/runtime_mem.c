/* Exercises drivers/lib/bare_runtime.c directly and through the compiler:
 * explicit memcpy/memset/memmove/memcmp/strlen calls with every small size
 * and alignment (overlapping memmove both ways), plus a 16 KiB struct
 * assignment and clearing that gcc turns into memcpy/memset calls, and
 * variable-length __builtin_memcpy/__builtin_memset. */
#include "lvd_bare.h"

typedef unsigned long size_t;
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#define W 64 /* working window of the buffers */
static unsigned char src[W], dst[W], ref[W];
static const size_t lens[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 40 };
static const size_t offs[] = { 0, 1, 5, 8, 13 };

struct huge {
    unsigned long words[2048]; /* 16 KiB: copied with a memcpy call */
};
static struct huge h1, h2;

static void ref_move(unsigned char *d, const unsigned char *s, size_t n)
{
    unsigned char tmp[W];
    for (size_t i = 0; i < n; i++)
        tmp[i] = s[i];
    for (size_t i = 0; i < n; i++)
        d[i] = tmp[i];
}

static unsigned long hash(const unsigned char *p, size_t n)
{
    unsigned long h = 0xcbf29ce484222325ul;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ul;
    return h;
}

static unsigned char base_dst[W];

static void init_patterns(void)
{
    for (int i = 0; i < W; i++) {
        src[i] = (unsigned char)(i * 29 + 3);
        base_dst[i] = (unsigned char)(0xa0 ^ i);
    }
}

static void fill(void)
{
    for (int i = 0; i < W; i++)
        dst[i] = ref[i] = base_dst[i];
}

static int check(void)
{
    for (int i = 0; i < W; i++)
        if (dst[i] != ref[i])
            return 1;
    return 0;
}

static __attribute__((noinline)) void copy_var(void *d, const void *s, size_t n)
{
    __builtin_memcpy(d, s, n);
}

static __attribute__((noinline)) void clear_var(void *d, size_t n)
{
    __builtin_memset(d, 0, n);
}

int lvd_main(void)
{
    int errors = 0;
    unsigned long h = 0;

    init_patterns();

    /* memcpy / memset / memmove over several offsets (alignments) and lengths */
    for (unsigned si = 0; si < 4; si++)
        for (unsigned di = 0; di < 2; di++)
            for (unsigned li = 0; li < 12; li++) {
                size_t so = offs[si], dof = offs[di * 3], n = lens[li];
                fill();
                void *r = memcpy(dst + dof, src + so, n);
                for (size_t i = 0; i < n; i++)
                    ref[dof + i] = src[so + i];
                errors += check() + (r != dst + dof);
                h = h * 3 + hash(dst, 56);
            }
    lvd_puts("memcpy errors "); lvd_put_u64((unsigned long)errors); lvd_puts(" h "); lvd_put_hex(h); lvd_putc('\n');

    for (unsigned oi = 0; oi < 5; oi++)
        for (unsigned li = 0; li < 12; li++) {
            size_t off = offs[oi], n = lens[li] + li / 2;
            fill();
            int c = (int)(off * 37 + n) - 100; /* memset uses (unsigned char)c */
            void *r = memset(dst + off, c, n);
            for (size_t i = 0; i < n; i++)
                ref[off + i] = (unsigned char)c;
            errors += check() + (r != dst + off);
            h = h * 3 + hash(dst, W);
        }
    lvd_puts("memset errors "); lvd_put_u64((unsigned long)errors); lvd_puts(" h "); lvd_put_hex(h); lvd_putc('\n');

    /* overlapping memmove in both directions, inside one buffer */
    for (unsigned ai = 0; ai < 5; ai++)
        for (unsigned bi = 0; bi < 5; bi++)
            for (unsigned li = 0; li < 12; li += 2) {
                size_t a = offs[ai], b = offs[bi], n = lens[li] + li;
                for (int i = 0; i < W; i++)
                    dst[i] = ref[i] = src[i];
                void *r = memmove(dst + a, dst + b, n);
                ref_move(ref + a, ref + b, n);
                errors += check() + (r != dst + a);
                h = h * 5 + hash(dst, W);
            }
    lvd_puts("memmove errors "); lvd_put_u64((unsigned long)errors); lvd_puts(" h "); lvd_put_hex(h); lvd_putc('\n');

    /* memcmp sign and zero cases */
    static const char *const pairs[][2] = {
        { "abcdef", "abcdef" }, { "abcdef", "abcdeg" }, { "abcdeg", "abcdef" },
        { "\x80xyz", "\x7fxyz" }, { "", "" }, { "same prefix A", "same prefix B" },
    };
    lvd_puts("memcmp:");
    for (unsigned i = 0; i < 6; i++) {
        size_t n = strlen(pairs[i][0]);
        int c = memcmp(pairs[i][0], pairs[i][1], n);
        lvd_putc(' ');
        lvd_put_s64(c > 0 ? 1 : c < 0 ? -1 : 0);
    }
    lvd_puts(" memcmp(n=0) "); lvd_put_s64(memcmp("a", "b", 0));
    lvd_puts(" strlen "); lvd_put_u64(strlen("")); lvd_putc(' ');
    lvd_put_u64(strlen("hello, bare metal")); lvd_putc('\n');

    /* compiler-generated calls: big struct copy and clearing */
    for (int i = 0; i < 2048; i++)
        h1.words[i] = (unsigned long)i * 0x0101010101010101ul;
    h2 = h1;
    unsigned long sum = 0;
    for (int i = 0; i < 2048; i += 97)
        sum += h2.words[i];
    memset(&h1, 0, sizeof h1);
    unsigned long z = 0;
    for (int i = 0; i < 2048; i += 31)
        z |= h1.words[i];
    lvd_puts("huge copy sum "); lvd_put_hex(sum); lvd_puts(" cleared "); lvd_put_u64(z == 0); lvd_putc('\n');

    fill();
    copy_var(dst + 3, src + 1, 40);
    clear_var(dst + 45, 16);
    for (size_t i = 0; i < 40; i++)
        ref[3 + i] = src[1 + i];
    for (size_t i = 0; i < 16; i++)
        ref[45 + i] = 0;
    errors += check();
    lvd_puts("builtin var-size errors "); lvd_put_u64((unsigned long)errors);
    lvd_puts(" final "); lvd_put_hex(hash(dst, W)); lvd_putc('\n');
    return errors ? 255 : (int)(h & 0x7f);
}
