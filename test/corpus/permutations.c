/* Permutations: lexicographic next_permutation over 6 elements (720
 * permutations), Heap's algorithm (recursive) with a checksum, ranking and
 * unranking via the factorial number system, and derangement counting. */
#include "lvd_bare.h"

static int next_permutation(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i]; a[i] = a[j]; a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l]; a[l] = a[r]; a[r] = t;
    }
    return 1;
}

static unsigned long heap_count, heap_hash;
static int derangements;

static void visit(const int *a, int n)
{
    unsigned long v = 0;
    int fixed = 0;
    for (int i = 0; i < n; i++) {
        v = v * 10 + (unsigned long)a[i];
        fixed += a[i] == i;
    }
    heap_count++;
    heap_hash = (heap_hash ^ v) * 0x100000001b3ul;
    if (!fixed)
        derangements++;
}

static void heap_perm(int *a, int k, int n)
{
    if (k == 1) {
        visit(a, n);
        return;
    }
    heap_perm(a, k - 1, n);
    for (int i = 0; i < k - 1; i++) {
        int j = (k % 2 == 0) ? i : 0;
        int t = a[j]; a[j] = a[k - 1]; a[k - 1] = t;
        heap_perm(a, k - 1, n);
    }
}

static unsigned long rank(const int *p, int n)
{
    unsigned long r = 0;
    for (int i = 0; i < n; i++) {
        int smaller = 0;
        for (int j = i + 1; j < n; j++)
            smaller += p[j] < p[i];
        r = r * (unsigned long)(n - i) + (unsigned long)smaller;
    }
    return r;
}

static void unrank(unsigned long r, int *p, int n)
{
    int digits[12], avail[12];
    for (int i = n - 1; i >= 0; i--) {
        digits[i] = (int)(r % (unsigned long)(n - i));
        r /= (unsigned long)(n - i);
    }
    for (int i = 0; i < n; i++)
        avail[i] = i;
    int m = n;
    for (int i = 0; i < n; i++) {
        int d = digits[i];
        p[i] = avail[d];
        for (int k = d; k < m - 1; k++)
            avail[k] = avail[k + 1];
        m--;
    }
}

int lvd_main(void)
{
    int a[8];
    int ok = 1;

    for (int i = 0; i < 6; i++)
        a[i] = i;
    unsigned long count = 0, h = 0;
    unsigned long expected_rank = 0;
    do {
        unsigned long r = rank(a, 6);
        if (r != expected_rank)
            ok = 0;
        expected_rank++;
        int b[8];
        unrank(r, b, 6);
        for (int i = 0; i < 6; i++)
            if (b[i] != a[i])
                ok = 0;
        count++;
        for (int i = 0; i < 6; i++)
            h = h * 7 + (unsigned long)a[i];
        if (count % 120 == 1) {
            for (int i = 0; i < 6; i++)
                lvd_putc((char)('a' + a[i]));
            lvd_putc(' ');
        }
    } while (next_permutation(a, 6));
    lvd_puts("\nlexicographic count="); lvd_put_u64(count);
    lvd_puts(" hash="); lvd_put_hex(h);
    lvd_puts(" final="); for (int i = 0; i < 6; i++) lvd_putc((char)('a' + a[i]));
    lvd_putc('\n');

    /* multiset permutations */
    int ms[6] = { 1, 1, 2, 2, 2, 3 };
    unsigned long mcount = 1;
    while (next_permutation(ms, 6))
        mcount++;
    lvd_puts("multiset {1,1,2,2,2,3} permutations="); lvd_put_u64(mcount); lvd_putc('\n');

    for (int n = 1; n <= 6; n++) {
        for (int i = 0; i < n; i++)
            a[i] = i;
        heap_count = 0;
        heap_hash = 0xcbf29ce484222325ul;
        derangements = 0;
        heap_perm(a, n, n);
        lvd_puts("heap n="); lvd_put_u64((unsigned long)n);
        lvd_puts(" count="); lvd_put_u64(heap_count);
        lvd_puts(" derangements="); lvd_put_u64((unsigned long)derangements);
        lvd_puts(" hash="); lvd_put_hex(heap_hash);
        lvd_putc('\n');
    }
    int p[10];
    unrank(1234567, p, 10);
    lvd_puts("unrank(1234567, 10) = ");
    for (int i = 0; i < 10; i++)
        lvd_putc((char)('0' + p[i]));
    lvd_puts(" rank back = "); lvd_put_u64(rank(p, 10));
    lvd_putc('\n');
    if (rank(p, 10) != 1234567 || count != 720 || mcount != 60)
        ok = 0;
    return ok ? 0 : 1;
}
