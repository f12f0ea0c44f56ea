/* Recursion: Ackermann (small arguments), towers of Hanoi with move
 * checking, mutual recursion, recursive fibonacci/binomials, a recursive
 * descent flood fill, and the McCarthy 91 function. */
#include "lvd_bare.h"

static unsigned long ack_calls;

static unsigned long ackermann(unsigned long m, unsigned long n)
{
    ack_calls++;
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static int pegs[3][16];
static int height[3];
static unsigned long moves, bad_moves;
static unsigned long move_hash;

static void move_disc(int from, int to)
{
    int d = pegs[from][--height[from]];
    if (height[to] > 0 && pegs[to][height[to] - 1] < d)
        bad_moves++;
    pegs[to][height[to]++] = d;
    moves++;
    move_hash = move_hash * 3 + (unsigned long)(from * 3 + to);
}

static void hanoi(int n, int from, int to, int via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    move_disc(from, to);
    hanoi(n - 1, via, to, from);
}

static int is_odd(unsigned int n);
static int is_even(unsigned int n)
{
    return n == 0 ? 1 : is_odd(n - 1);
}
static int is_odd(unsigned int n)
{
    return n == 0 ? 0 : is_even(n - 1);
}

static unsigned long fib(unsigned int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static unsigned long binom(unsigned int n, unsigned int k)
{
    if (k == 0 || k == n)
        return 1;
    return binom(n - 1, k - 1) + binom(n - 1, k);
}

static int mc91(int n)
{
    return n > 100 ? n - 10 : mc91(mc91(n + 11));
}

#define W 24
#define H 12
static char grid[H][W + 1];

static int flood(int y, int x, char from, char to)
{
    if (y < 0 || y >= H || x < 0 || x >= W || grid[y][x] != from)
        return 0;
    grid[y][x] = to;
    return 1 + flood(y + 1, x, from, to) + flood(y - 1, x, from, to) +
           flood(y, x + 1, from, to) + flood(y, x - 1, from, to);
}

static unsigned long sum_digits_rec(unsigned long v)
{
    return v < 10 ? v : v % 10 + sum_digits_rec(v / 10);
}

int lvd_main(void)
{
    for (unsigned long m = 0; m <= 3; m++) {
        for (unsigned long n = 0; n <= 4; n++) {
            if (m == 3 && n > 3)
                break;
            ack_calls = 0;
            unsigned long a = ackermann(m, n);
            lvd_puts("A("); lvd_put_u64(m); lvd_putc(','); lvd_put_u64(n);
            lvd_puts(")="); lvd_put_u64(a); lvd_puts(" calls="); lvd_put_u64(ack_calls);
            lvd_putc(n == 4 || (m == 3 && n == 3) ? '\n' : ' ');
        }
    }

    for (int n = 1; n <= 10; n += 3) {
        height[0] = height[1] = height[2] = 0;
        for (int i = 0; i < n; i++)
            pegs[0][height[0]++] = n - i;
        moves = bad_moves = move_hash = 0;
        hanoi(n, 0, 2, 1);
        lvd_puts("hanoi "); lvd_put_u64((unsigned long)n);
        lvd_puts(" moves="); lvd_put_u64(moves);
        lvd_puts(" bad="); lvd_put_u64(bad_moves);
        lvd_puts(" on target="); lvd_put_u64((unsigned long)height[2]);
        lvd_puts(" hash="); lvd_put_hex(move_hash);
        lvd_putc('\n');
    }

    lvd_puts("even(300)="); lvd_put_u64((unsigned long)is_even(300));
    lvd_puts(" odd(177)="); lvd_put_u64((unsigned long)is_odd(177));
    lvd_puts(" fib(20)="); lvd_put_u64(fib(20));
    lvd_puts(" binom(16,8)="); lvd_put_u64(binom(16, 8));
    lvd_putc('\n');
    long m91 = 0;
    for (int i = 0; i < 120; i += 7)
        m91 += mc91(i);
    lvd_puts("mc91 sum="); lvd_put_s64(m91);
    lvd_puts(" digitsum="); lvd_put_u64(sum_digits_rec(18446744073709551615ul));
    lvd_putc('\n');

    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++)
            grid[y][x] = (x == 5 + y % 3 || y == 6 || (x * y) % 17 == 3) ? '#' : '.';
        grid[y][W] = 0;
    }
    int filled = flood(0, 0, '.', 'o');
    int filled2 = flood(H - 1, W - 1, '.', '~');
    lvd_puts("flood "); lvd_put_u64((unsigned long)filled); lvd_putc(' ');
    lvd_put_u64((unsigned long)filled2); lvd_putc('\n');
    for (int y = 0; y < H; y++) {
        lvd_puts(grid[y]);
        lvd_putc('\n');
    }
    return (int)(moves & 0x7f);
}
