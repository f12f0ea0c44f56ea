/* Unstructured and unusual control flow without setjmp: goto-based state
 * machines and error-cleanup chains, do/while loops (including do/while(0)
 * macros), nested loops with labelled breaks via goto, continue in
 * do/while, computed results of the comma and conditional operators,
 * short-circuit evaluation with side effects, and a switch inside loops. */
#include "lvd_bare.h"

#define SWAP_INT(a, b) do { int t_ = (a); (a) = (b); (b) = t_; } while (0)

static int side_effects;
static int touch(int v)
{
    side_effects++;
    return v;
}

/* goto-driven parser of numbers separated by commas and spaces */
static long parse_list(const char *s, int *count)
{
    long total = 0, cur = 0;
    int neg = 0;
    *count = 0;
start:
    if (*s == 0) goto done;
    if (*s == ' ' || *s == ',') { s++; goto start; }
    if (*s == '-') { neg = 1; s++; goto digits; }
    if (*s >= '0' && *s <= '9') goto digits;
    s++;
    goto start; /* skip garbage */
digits:
    cur = 0;
    while (*s >= '0' && *s <= '9')
        cur = cur * 10 + (*s++ - '0');
    total += neg ? -cur : cur;
    neg = 0;
    (*count)++;
    goto start;
done:
    return total;
}

/* error-cleanup chain: acquire up to 4 resources, fail at step fail_at */
static int acquired[4];
static int release_log;
static int do_work(int fail_at)
{
    int rc = 0;
    if (fail_at == 0) { rc = -1; goto out0; }
    acquired[0] = 1;
    if (fail_at == 1) { rc = -2; goto out1; }
    acquired[1] = 1;
    if (fail_at == 2) { rc = -3; goto out2; }
    acquired[2] = 1;
    if (fail_at == 3) { rc = -4; goto out3; }
    acquired[3] = 1;
    rc = 10;
    acquired[3] = 0;
    release_log = release_log * 10 + 4;
out3:
    acquired[2] = 0;
    release_log = release_log * 10 + 3;
out2:
    acquired[1] = 0;
    release_log = release_log * 10 + 2;
out1:
    acquired[0] = 0;
    release_log = release_log * 10 + 1;
out0:
    return rc;
}

/* find the first (i, j, k) with i*i + j*j == k*k, breaking out of 3 loops with goto */
static int pythagoras(int start, int *oi, int *oj, int *ok)
{
    for (int i = start; i < 100; i++)
        for (int j = i; j < 100; j++)
            for (int k = j; k < 150; k++) {
                if (k * k > i * i + j * j)
                    break;
                if (i * i + j * j == k * k) {
                    *oi = i; *oj = j; *ok = k;
                    goto found;
                }
            }
    return 0;
found:
    return 1;
}

/* traffic-light-like state machine using a switch inside a loop */
enum state { RED, RED_YELLOW, GREEN, YELLOW, BLINK, OFF };
static enum state step(enum state s, int tick)
{
    switch (s) {
    case RED: return tick % 5 == 4 ? RED_YELLOW : RED;
    case RED_YELLOW: return GREEN;
    case GREEN: return tick % 7 == 6 ? YELLOW : GREEN;
    case YELLOW: return tick % 50 > 45 ? BLINK : RED;
    case BLINK: return tick % 3 == 0 ? OFF : BLINK;
    case OFF: return RED;
    }
    return OFF;
}

int lvd_main(void)
{
    int count;
    long t = parse_list("12, -7,  300 ,abc 45,-1000,7x8", &count);
    lvd_puts("parse_list total "); lvd_put_s64(t); lvd_puts(" count "); lvd_put_s64(count); lvd_putc('\n');

    for (int f = 0; f <= 4; f++) {
        release_log = 0;
        int rc = do_work(f);
        int leaks = acquired[0] + acquired[1] + acquired[2] + acquired[3];
        lvd_puts("do_work("); lvd_put_s64(f); lvd_puts(") rc "); lvd_put_s64(rc);
        lvd_puts(" release order "); lvd_put_s64(release_log); lvd_puts(" leaks "); lvd_put_s64(leaks);
        lvd_putc('\n');
    }

    int i, j, k;
    lvd_puts("pythagorean:");
    for (int s = 1; s < 40; s += 6)
        if (pythagoras(s, &i, &j, &k)) {
            lvd_putc(' ');
            lvd_put_s64(i); lvd_putc('-'); lvd_put_s64(j); lvd_putc('-'); lvd_put_s64(k);
        }
    lvd_putc('\n');

    /* do/while with continue: continue jumps to the condition */
    int n = 0, odd_sum = 0;
    do {
        n++;
        if (n % 2 == 0)
            continue;
        odd_sum += n;
    } while (n < 99);
    lvd_puts("odd sum "); lvd_put_s64(odd_sum);

    /* a do/while that runs exactly once even though the condition is false */
    int once = 0;
    do once++; while (0);
    lvd_puts(" once "); lvd_put_s64(once);

    /* collatz with do/while */
    unsigned long c = 27, steps = 0, peak = 0;
    do {
        c = (c & 1) ? 3 * c + 1 : c / 2;
        if (c > peak) peak = c;
        steps++;
    } while (c != 1);
    lvd_puts(" collatz(27) steps "); lvd_put_u64(steps); lvd_puts(" peak "); lvd_put_u64(peak);
    lvd_putc('\n');

    int a = 3, b = 9;
    SWAP_INT(a, b);
    if (a > b)
        SWAP_INT(a, b);
    else
        a = -a;
    lvd_puts("swap "); lvd_put_s64(a); lvd_putc(' '); lvd_put_s64(b);

    side_effects = 0;
    int r1 = touch(0) && touch(1);
    int r2 = touch(1) || touch(2);
    int r3 = touch(1) && touch(0) && touch(5);
    int r4 = (touch(3), touch(4), touch(5));
    int r5 = touch(0) ? touch(10) : touch(20);
    lvd_puts(" short-circuit "); lvd_put_s64(r1); lvd_put_s64(r2); lvd_put_s64(r3);
    lvd_putc(' '); lvd_put_s64(r4); lvd_putc(' '); lvd_put_s64(r5);
    lvd_puts(" calls "); lvd_put_s64(side_effects);
    lvd_putc('\n');

    enum state s = RED;
    unsigned int hist[6] = { 0 };
    unsigned long trace = 0;
    for (int tick = 0; tick < 500; tick++) {
        s = step(s, tick);
        hist[s]++;
        trace = trace * 6 + (unsigned long)s;
    }
    lvd_puts("states");
    for (int q = 0; q < 6; q++) {
        lvd_putc(' ');
        lvd_put_u64(hist[q]);
    }
    lvd_puts(" trace "); lvd_put_hex(trace); lvd_putc('\n');

    /* loop with multiple exits */
    int found = -1;
    for (int x = 0;; x++) {
        if (x > 1000) break;
        if (x * x % 97 != 3) continue;
        found = x;
        break;
    }
    lvd_puts("first x with x^2 = 3 mod 97: "); lvd_put_s64(found); lvd_putc('\n');
    return (int)(trace & 0x7f);
}
