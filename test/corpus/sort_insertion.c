/* Insertion sort, binary insertion sort, shell sort and selection sort on
 * small arrays of signed and unsigned 8/16/32-bit elements. */
#include "lvd_bare.h"

static unsigned int seed = 7;
static unsigned int next_rand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 16;
}

static void insertion_i32(int *a, int n)
{
    for (int i = 1; i < n; i++) {
        int key = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > key) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = key;
    }
}

static void binary_insertion_u16(unsigned short *a, int n)
{
    for (int i = 1; i < n; i++) {
        unsigned short key = a[i];
        int lo = 0, hi = i;
        while (lo < hi) {
            int mid = (lo + hi) >> 1;
            if (a[mid] <= key)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int j = i; j > lo; j--)
            a[j] = a[j - 1];
        a[lo] = key;
    }
}

static void shell_s8(signed char *a, int n)
{
    static const int gaps[] = { 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        int gap = gaps[g];
        for (int i = gap; i < n; i++) {
            signed char t = a[i];
            int j = i;
            while (j >= gap && a[j - gap] > t) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = t;
        }
    }
}

static void selection_desc(unsigned char *a, int n)
{
    for (int i = 0; i < n - 1; i++) {
        int m = i;
        for (int j = i + 1; j < n; j++)
            if (a[j] > a[m])
                m = j;
        unsigned char t = a[i];
        a[i] = a[m];
        a[m] = t;
    }
}

static int i32[300];
static unsigned short u16[300];
static signed char s8[300];
static unsigned char u8[200];

int lvd_main(void)
{
    int fails = 0;
    long sum = 0;

    for (int i = 0; i < 300; i++) {
        i32[i] = (int)next_rand() - 32768;
        u16[i] = (unsigned short)(next_rand() * 7u);
        s8[i] = (signed char)(next_rand() & 0xff);
        sum += i32[i];
    }
    for (int i = 0; i < 200; i++)
        u8[i] = (unsigned char)next_rand();

    insertion_i32(i32, 300);
    binary_insertion_u16(u16, 300);
    shell_s8(s8, 300);
    selection_desc(u8, 200);

    for (int i = 1; i < 300; i++) {
        fails += i32[i - 1] > i32[i];
        fails += u16[i - 1] > u16[i];
        fails += s8[i - 1] > s8[i];
        sum -= i32[i];
    }
    sum -= i32[0];
    for (int i = 1; i < 200; i++)
        fails += u8[i - 1] < u8[i];

    lvd_puts("i32: "); lvd_put_s64(i32[0]); lvd_putc(' ');
    lvd_put_s64(i32[150]); lvd_putc(' '); lvd_put_s64(i32[299]); lvd_putc('\n');
    lvd_puts("u16: "); lvd_put_u64(u16[0]); lvd_putc(' ');
    lvd_put_u64(u16[150]); lvd_putc(' '); lvd_put_u64(u16[299]); lvd_putc('\n');
    lvd_puts("s8: "); lvd_put_s64(s8[0]); lvd_putc(' ');
    lvd_put_s64(s8[150]); lvd_putc(' '); lvd_put_s64(s8[299]); lvd_putc('\n');
    lvd_puts("u8 desc: "); lvd_put_u64(u8[0]); lvd_putc(' ');
    lvd_put_u64(u8[100]); lvd_putc(' '); lvd_put_u64(u8[199]); lvd_putc('\n');
    unsigned int h = 0;
    for (int i = 0; i < 300; i++)
        h = h * 33u ^ (unsigned int)i32[i] ^ ((unsigned int)u16[i] << 8) ^ (unsigned int)(unsigned char)s8[i];
    lvd_puts("hash "); lvd_put_hex(h);
    lvd_puts(" sumcheck "); lvd_put_s64(sum);
    lvd_puts(" fails "); lvd_put_u64((unsigned long)fails);
    lvd_putc('\n');
    return fails;
}
