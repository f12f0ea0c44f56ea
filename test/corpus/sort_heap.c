/* Heapsort (sift-down, in place) on 64-bit keys, a min-heap priority queue
 * used to merge sorted runs, and a k-smallest selection. */
#include "lvd_bare.h"

#define N 1200

static unsigned long v[N];
static unsigned long sifts;

static unsigned long splitmix_state = 0x9E3779B97F4A7C15ul;
static unsigned long splitmix64(void)
{
    unsigned long z = (splitmix_state += 0x9E3779B97F4A7C15ul);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
    return z ^ (z >> 31);
}

static void sift_down(unsigned long *h, unsigned long start, unsigned long end)
{
    unsigned long root = start;
    while (2 * root + 1 <= end) {
        unsigned long child = 2 * root + 1, sw = root;
        sifts++;
        if (h[sw] < h[child])
            sw = child;
        if (child + 1 <= end && h[sw] < h[child + 1])
            sw = child + 1;
        if (sw == root)
            return;
        unsigned long t = h[root];
        h[root] = h[sw];
        h[sw] = t;
        root = sw;
    }
}

static void heapsort(unsigned long *h, unsigned long n)
{
    if (n < 2)
        return;
    for (unsigned long s = (n - 2) / 2 + 1; s-- > 0;)
        sift_down(h, s, n - 1);
    for (unsigned long end = n - 1; end > 0; end--) {
        unsigned long t = h[end];
        h[end] = h[0];
        h[0] = t;
        sift_down(h, 0, end - 1);
    }
}

/* min-heap of (value, run) pairs */
struct item {
    unsigned int value;
    unsigned int run;
};
static struct item pq[16];
static int pq_n;

static void pq_push(struct item it)
{
    int i = pq_n++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (pq[p].value <= it.value)
            break;
        pq[i] = pq[p];
        i = p;
    }
    pq[i] = it;
}

static struct item pq_pop(void)
{
    struct item top = pq[0];
    struct item last = pq[--pq_n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= pq_n)
            break;
        if (c + 1 < pq_n && pq[c + 1].value < pq[c].value)
            c++;
        if (last.value <= pq[c].value)
            break;
        pq[i] = pq[c];
        i = c;
    }
    pq[i] = last;
    return top;
}

static unsigned int runs[8][40];

int lvd_main(void)
{
    int ok = 1;
    unsigned long x = 0;

    for (int i = 0; i < N; i++)
        v[i] = splitmix64();
    heapsort(v, N);
    for (int i = 1; i < N; i++)
        if (v[i - 1] > v[i])
            ok = 0;
    for (int i = 0; i < N; i++)
        x = (x ^ v[i]) * 0x100000001B3ul;
    lvd_puts("heapsort n="); lvd_put_u64(N);
    lvd_puts(" ok="); lvd_put_u64((unsigned long)ok);
    lvd_puts(" sifts="); lvd_put_u64(sifts);
    lvd_puts(" fnv="); lvd_put_hex(x);
    lvd_putc('\n');
    lvd_puts("v[0]="); lvd_put_hex(v[0]);
    lvd_puts(" v[mid]="); lvd_put_hex(v[N / 2]);
    lvd_puts(" v[last]="); lvd_put_hex(v[N - 1]);
    lvd_putc('\n');

    /* k-way merge of 8 sorted runs */
    for (int r = 0; r < 8; r++) {
        unsigned int cur = (unsigned int)(splitmix64() % 50u);
        for (int i = 0; i < 40; i++) {
            cur += (unsigned int)(splitmix64() % 100u);
            runs[r][i] = cur;
        }
    }
    int pos[8] = {0};
    for (int r = 0; r < 8; r++) {
        struct item it = { runs[r][0], (unsigned int)r };
        pq_push(it);
        pos[r] = 1;
    }
    unsigned int prev = 0, count = 0;
    unsigned long h = 0;
    int mok = 1;
    while (pq_n > 0) {
        struct item it = pq_pop();
        if (it.value < prev)
            mok = 0;
        prev = it.value;
        count++;
        h = h * 131 + it.value + it.run;
        int r = (int)it.run;
        if (pos[r] < 40) {
            struct item nx = { runs[r][pos[r]], it.run };
            pos[r]++;
            pq_push(nx);
        }
        if (count % 64 == 0) {
            lvd_put_u64(it.value);
            lvd_putc(' ');
        }
    }
    lvd_puts("\nmerged count="); lvd_put_u64(count);
    lvd_puts(" ok="); lvd_put_u64((unsigned long)mok);
    lvd_puts(" h="); lvd_put_hex(h);
    lvd_putc('\n');
    return ok && mok ? 0 : 1;
}
