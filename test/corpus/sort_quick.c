/* Quicksort (Hoare partition, median of three, insertion sort for small
 * ranges, recursion on the smaller half) of pseudo-random 32-bit keys,
 * plus a quicksort of signed 64-bit values with many duplicates. */
#include "lvd_bare.h"

#define N 1500

static unsigned int keys[N];
static long vals[N];
static unsigned int lcg_state;

static unsigned int lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return lcg_state;
}

static void swap_u(unsigned int *a, unsigned int *b)
{
    unsigned int t = *a;
    *a = *b;
    *b = t;
}

static unsigned long depth_max, calls;

static void insertion_u(unsigned int *a, long lo, long hi)
{
    for (long i = lo + 1; i <= hi; i++) {
        unsigned int v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quicksort_u(unsigned int *a, long lo, long hi, unsigned long depth)
{
    calls++;
    if (depth > depth_max)
        depth_max = depth;
    while (hi - lo > 12) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap_u(&a[mid], &a[lo]);
        if (a[hi] < a[lo]) swap_u(&a[hi], &a[lo]);
        if (a[hi] < a[mid]) swap_u(&a[hi], &a[mid]);
        unsigned int pivot = a[mid];
        long i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j)
                break;
            swap_u(&a[i], &a[j]);
        }
        /* recurse into the smaller part, loop on the larger */
        if (j - lo < hi - j) {
            quicksort_u(a, lo, j, depth + 1);
            lo = j + 1;
        } else {
            quicksort_u(a, j + 1, hi, depth + 1);
            hi = j;
        }
    }
    insertion_u(a, lo, hi);
}

/* simple Lomuto quicksort on signed values (exercises signed compares) */
static void quicksort_s(long *a, int lo, int hi)
{
    if (lo >= hi)
        return;
    long pivot = a[hi];
    int i = lo;
    for (int j = lo; j < hi; j++) {
        if (a[j] < pivot) {
            long t = a[i]; a[i] = a[j]; a[j] = t;
            i++;
        }
    }
    long t = a[i]; a[i] = a[hi]; a[hi] = t;
    quicksort_s(a, lo, i - 1);
    quicksort_s(a, i + 1, hi);
}

int lvd_main(void)
{
    unsigned long sum = 0, hash = 2166136261u;
    int ok = 1;

    lcg_state = 12345;
    for (int i = 0; i < N; i++) {
        keys[i] = lcg();
        sum += keys[i];
    }
    quicksort_u(keys, 0, N - 1, 0);
    for (int i = 0; i < N; i++) {
        if (i > 0 && keys[i - 1] > keys[i])
            ok = 0;
        hash = (hash ^ keys[i]) * 16777619u;
        hash &= 0xffffffffu;
        sum -= keys[i];
    }
    lvd_puts("quicksort u32 n="); lvd_put_u64(N);
    lvd_puts(" sorted="); lvd_put_u64((unsigned long)ok);
    lvd_puts(" sumdiff="); lvd_put_u64(sum);
    lvd_puts(" hash="); lvd_put_hex(hash);
    lvd_puts("\n");
    lvd_puts("min="); lvd_put_u64(keys[0]);
    lvd_puts(" median="); lvd_put_u64(keys[N / 2]);
    lvd_puts(" max="); lvd_put_u64(keys[N - 1]);
    lvd_puts(" calls="); lvd_put_u64(calls);
    lvd_puts(" maxdepth="); lvd_put_u64(depth_max);
    lvd_puts("\n");

    for (int i = 0; i < 400; i++)
        vals[i] = (long)(lcg() % 61u) - 30;
    quicksort_s(vals, 0, 399);
    long ssum = 0;
    int sok = 1;
    for (int i = 0; i < 400; i++) {
        if (i > 0 && vals[i - 1] > vals[i])
            sok = 0;
        ssum = ssum * 3 + vals[i];
        ssum %= 1000003;
    }
    lvd_puts("quicksort s64 sorted="); lvd_put_u64((unsigned long)sok);
    lvd_puts(" first="); lvd_put_s64(vals[0]);
    lvd_puts(" last="); lvd_put_s64(vals[399]);
    lvd_puts(" mix="); lvd_put_s64(ssum);
    lvd_puts("\n");
    for (int i = 0; i < 400; i += 40) {
        lvd_put_s64(vals[i]);
        lvd_putc(i + 40 < 400 ? ' ' : '\n');
    }
    return ok && sok ? 0 : 1;
}
