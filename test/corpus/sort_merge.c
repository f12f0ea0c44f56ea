/* Mergesort: top-down recursive with a static scratch buffer, bottom-up
 * iterative, and a stability check on (key, index) records. */
#include "lvd_bare.h"

#define N 1024

struct rec {
    unsigned short key;
    unsigned short idx;
};

static int a[N], tmp[N], b[N];
static struct rec recs[300], rtmp[300];
static unsigned long comparisons;

static unsigned int xs32 = 2463534242u;
static unsigned int xorshift32(void)
{
    unsigned int x = xs32;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    xs32 = x;
    return x;
}

static void merge(int *v, int lo, int mid, int hi)
{
    int i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        comparisons++;
        if (v[i] <= v[j])
            tmp[k++] = v[i++];
        else
            tmp[k++] = v[j++];
    }
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < hi)
        tmp[k++] = v[j++];
    for (k = lo; k < hi; k++)
        v[k] = tmp[k];
}

static void msort_td(int *v, int lo, int hi)
{
    if (hi - lo < 2)
        return;
    int mid = lo + (hi - lo) / 2;
    msort_td(v, lo, mid);
    msort_td(v, mid, hi);
    merge(v, lo, mid, hi);
}

static void msort_bu(int *v, int n)
{
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n - width; lo += 2 * width) {
            int hi = lo + 2 * width;
            if (hi > n)
                hi = n;
            merge(v, lo, lo + width, hi);
        }
    }
}

static void msort_rec(struct rec *v, int n)
{
    if (n < 2)
        return;
    int h = n / 2;
    msort_rec(v, h);
    msort_rec(v + h, n - h);
    int i = 0, j = h, k = 0;
    while (i < h && j < n)
        rtmp[k++] = (v[j].key < v[i].key) ? v[j++] : v[i++];
    while (i < h)
        rtmp[k++] = v[i++];
    while (j < n)
        rtmp[k++] = v[j++];
    for (k = 0; k < n; k++)
        v[k] = rtmp[k];
}

static unsigned int checksum(const int *v, int n)
{
    unsigned int h = 0;
    for (int i = 0; i < n; i++)
        h = (h << 5 | h >> 27) ^ (unsigned int)v[i];
    return h;
}

int lvd_main(void)
{
    int bad = 0;

    for (int i = 0; i < N; i++) {
        a[i] = (int)(xorshift32() % 200001u) - 100000;
        b[i] = a[i];
    }
    lvd_puts("input checksum "); lvd_put_hex(checksum(a, N)); lvd_putc('\n');
    msort_td(a, 0, N);
    lvd_puts("top-down comparisons "); lvd_put_u64(comparisons); lvd_putc('\n');
    comparisons = 0;
    msort_bu(b, N);
    lvd_puts("bottom-up comparisons "); lvd_put_u64(comparisons); lvd_putc('\n');
    for (int i = 0; i < N; i++) {
        if (a[i] != b[i])
            bad++;
        if (i && a[i - 1] > a[i])
            bad++;
    }
    lvd_puts("sorted checksum "); lvd_put_hex(checksum(a, N));
    lvd_puts(" min "); lvd_put_s64(a[0]);
    lvd_puts(" max "); lvd_put_s64(a[N - 1]);
    lvd_puts(" bad "); lvd_put_u64((unsigned long)bad);
    lvd_putc('\n');

    for (int i = 0; i < 300; i++) {
        recs[i].key = (unsigned short)(xorshift32() % 10u);
        recs[i].idx = (unsigned short)i;
    }
    msort_rec(recs, 300);
    int stable = 1;
    unsigned long mix = 0;
    for (int i = 1; i < 300; i++) {
        if (recs[i - 1].key > recs[i].key)
            stable = 0;
        if (recs[i - 1].key == recs[i].key && recs[i - 1].idx > recs[i].idx)
            stable = 0;
    }
    for (int i = 0; i < 300; i++)
        mix = mix * 31 + recs[i].idx;
    lvd_puts("stable "); lvd_put_u64((unsigned long)stable);
    lvd_puts(" mix "); lvd_put_hex(mix);
    lvd_putc('\n');
    for (int k = 0; k < 10; k++) {
        int cnt = 0;
        for (int i = 0; i < 300; i++)
            cnt += recs[i].key == k;
        lvd_put_u64((unsigned long)k); lvd_putc(':'); lvd_put_u64((unsigned long)cnt);
        lvd_putc(k == 9 ? '\n' : ' ');
    }
    return bad == 0 && stable ? 0 : 1;
}
