/* N-queens: backtracking with arrays for N = 1..8 (count all solutions,
 * print the first solution of 8), and a bitmask solver cross-check. */
#include "lvd_bare.h"

static int col_of[12];
static int used_col[12], used_d1[24], used_d2[24];
static unsigned long nodes;
static int first[12];
static int have_first;

static unsigned long solve(int row, int n)
{
    nodes++;
    if (row == n) {
        if (!have_first) {
            for (int i = 0; i < n; i++)
                first[i] = col_of[i];
            have_first = 1;
        }
        return 1;
    }
    unsigned long count = 0;
    for (int c = 0; c < n; c++) {
        if (used_col[c] || used_d1[row + c] || used_d2[row - c + n - 1])
            continue;
        used_col[c] = used_d1[row + c] = used_d2[row - c + n - 1] = 1;
        col_of[row] = c;
        count += solve(row + 1, n);
        used_col[c] = used_d1[row + c] = used_d2[row - c + n - 1] = 0;
    }
    return count;
}

static unsigned long solve_bits(unsigned int cols, unsigned int d1, unsigned int d2, unsigned int all)
{
    if (cols == all)
        return 1;
    unsigned long count = 0;
    unsigned int avail = all & ~(cols | d1 | d2);
    while (avail) {
        unsigned int bit = avail & (0u - avail);
        avail ^= bit;
        count += solve_bits(cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1, all);
    }
    return count;
}

int lvd_main(void)
{
    static const unsigned long expected[] = { 0, 1, 0, 0, 2, 10, 4, 40, 92 };
    int ok = 1;

    for (int n = 1; n <= 8; n++) {
        nodes = 0;
        have_first = 0;
        unsigned long c = solve(0, n);
        unsigned long cb = solve_bits(0, 0, 0, (1u << n) - 1);
        lvd_puts("n="); lvd_put_u64((unsigned long)n);
        lvd_puts(" solutions="); lvd_put_u64(c);
        lvd_puts(" bits="); lvd_put_u64(cb);
        lvd_puts(" nodes="); lvd_put_u64(nodes);
        lvd_putc('\n');
        if (c != expected[n] || cb != c)
            ok = 0;
    }
    lvd_puts("first solution for 8:\n");
    for (int r = 0; r < 8; r++) {
        for (int c = 0; c < 8; c++)
            lvd_putc(first[r] == c ? 'Q' : '.');
        lvd_putc('\n');
    }
    return ok ? 92 : 0;
}
