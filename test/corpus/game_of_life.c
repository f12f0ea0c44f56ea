/* Conway's game of life on a 32x24 torus stored as one 32-bit word per row:
 * neighbour counting with bit-parallel adders (rotates for wrap-around),
 * cross-checked against a simple cell-by-cell byte-array implementation;
 * a glider's period and displacement; population history. */
#include "lvd_bare.h"

#define ROWS 24

static unsigned int grid[ROWS], next_grid[ROWS];
static unsigned char cells[ROWS][32], next_cells[ROWS][32];

static inline unsigned int rol1(unsigned int x) { return x << 1 | x >> 31; }
static inline unsigned int ror1(unsigned int x) { return x >> 1 | x << 31; }

static void step_bits(void)
{
    for (int r = 0; r < ROWS; r++) {
        unsigned int up = grid[(r + ROWS - 1) % ROWS], mid = grid[r], dn = grid[(r + 1) % ROWS];
        unsigned int n[8] = { rol1(up), up, ror1(up), rol1(mid), ror1(mid), rol1(dn), dn, ror1(dn) };
        /* bit-sliced counter: s0 (1s), s1 (2s), s2 (4s); s2 set means >= 4 */
        unsigned int s0 = 0, s1 = 0, s2 = 0;
        for (int i = 0; i < 8; i++) {
            unsigned int c0 = s0 & n[i];
            s0 ^= n[i];
            unsigned int c1 = s1 & c0;
            s1 ^= c0;
            s2 |= c1;
        }
        /* alive next: count == 3, or count == 2 and alive now */
        next_grid[r] = ~s2 & s1 & (s0 | mid);
    }
    for (int r = 0; r < ROWS; r++)
        grid[r] = next_grid[r];
}

static void step_cells(void)
{
    for (int r = 0; r < ROWS; r++) {
        const unsigned char *up = cells[(r + ROWS - 1) % ROWS], *mid = cells[r], *dn = cells[(r + 1) % ROWS];
        for (int c = 0; c < 32; c++) {
            int l = (c + 31) & 31, rt = (c + 1) & 31;
            int n = up[l] + up[c] + up[rt] + mid[l] + mid[rt] + dn[l] + dn[c] + dn[rt];
            next_cells[r][c] = (unsigned char)(n == 3 || (n == 2 && mid[c]));
        }
    }
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < 32; c++)
            cells[r][c] = next_cells[r][c];
}

static int population(void)
{
    int p = 0;
    for (int r = 0; r < ROWS; r++)
        p += __builtin_popcount(grid[r]);
    return p;
}

static int same(void)
{
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < 32; c++)
            if (((grid[r] >> c) & 1u) != cells[r][c])
                return 0;
    return 1;
}

static void set_cell(int r, int c)
{
    grid[r] |= 1u << c;
    cells[r][c] = 1;
}

static void clear(void)
{
    for (int r = 0; r < ROWS; r++) {
        grid[r] = 0;
        for (int c = 0; c < 32; c++)
            cells[r][c] = 0;
    }
}

static void show(void)
{
    for (int r = 0; r < ROWS; r++) {
        for (int c = 31; c >= 0; c--)
            lvd_putc((grid[r] >> c) & 1u ? '#' : '.');
        lvd_putc('\n');
    }
}

int lvd_main(void)
{
    int mismatches = 0;

    /* glider: after 4 generations it moves by one cell diagonally */
    clear();
    set_cell(1, 2); set_cell(2, 3); set_cell(3, 1); set_cell(3, 2); set_cell(3, 3);
    unsigned int before[ROWS];
    for (int r = 0; r < ROWS; r++)
        before[r] = grid[r];
    for (int g = 0; g < 4; g++) {
        step_bits();
        step_cells();
        mismatches += !same();
    }
    int moved = 1;
    for (int r = 0; r < ROWS; r++)
        if (grid[(r + 1) % ROWS] != rol1(before[r]))
            moved = 0;
    lvd_puts("glider moved diagonally: "); lvd_put_u64((unsigned long)moved); lvd_putc('\n');

    /* R-pentomino-like soup from an LCG */
    clear();
    unsigned int s = 0xC0DE;
    for (int r = 4; r < 20; r++)
        for (int c = 8; c < 24; c++) {
            s = s * 1103515245u + 12345u;
            if ((s >> 16) % 3u == 0)
                set_cell(r, c);
        }
    lvd_puts("population:");
    unsigned long hist = 0;
    for (int g = 0; g < 40; g++) {
        int p = population();
        hist = hist * 131 + (unsigned long)p;
        if (g % 5 == 0) {
            lvd_putc(' ');
            lvd_put_u64((unsigned long)p);
        }
        step_bits();
    }
    lvd_putc('\n');
    /* cross-check 4 more generations in lockstep after resyncing */
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < 32; c++)
            cells[r][c] = (unsigned char)((grid[r] >> c) & 1u);
    for (int g = 0; g < 4; g++) {
        step_bits();
        step_cells();
        mismatches += !same();
    }
    show();
    lvd_puts("history "); lvd_put_hex(hist);
    lvd_puts(" final population "); lvd_put_u64((unsigned long)population());
    lvd_puts(" mismatches "); lvd_put_u64((unsigned long)mismatches);
    lvd_putc('\n');
    return mismatches || !moved ? 255 : population() & 0x7f;
}
