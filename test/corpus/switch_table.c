/* Dense switches (gcc emits jump tables), a switch over a negative range,
 * a sparse switch (compare tree), fall-through chains, a switch on chars
 * driving a tokenizer, and a switch-based state machine (Duff's device). */
#include "lvd_bare.h"

static unsigned int dense(unsigned int op, unsigned int x)
{
    switch (op) {
    case 0: return x + 1;
    case 1: return x * 3;
    case 2: return x ^ 0x5a5a5a5au;
    case 3: return x >> 3;
    case 4: return x << 2;
    case 5: return ~x;
    case 6: return x - 77;
    case 7: return (x << 7) | (x >> 25);
    case 8: return x & 0xff00ff00u;
    case 9: return x | 0x10001u;
    case 10: return x / 7;
    case 11: return x % 1000;
    case 12: return x * x;
    case 13: return 0u - x;
    case 14: return x + (x >> 16);
    case 15: return x ^ (x >> 11);
    default: return x;
    }
}

static long negative_range(int k, long v)
{
    switch (k) {
    case -6: return v - 6;
    case -5: return v * -5;
    case -4: return v / 4;
    case -3: return v % 3;
    case -2: return -v;
    case -1: return v - 1;
    case 0: return 0;
    case 1: return v + 1;
    case 2: return v * 2;
    case 3: return v / -3;
    case 4: return v % -4;
    case 5: return v >> 1;
    case 6: return v & -16;
    default: return 1000000;
    }
}

static int sparse(unsigned long v)
{
    switch (v) {
    case 1: return 10;
    case 10: return 20;
    case 100: return 30;
    case 1000: return 40;
    case 10000: return 50;
    case 65535: return 60;
    case 1000000: return 70;
    case 0xffffffffu: return 80;
    case 0x100000000ul: return 90;
    case 0xfffffffffffffffful: return 99;
    default: return -1;
    }
}

static int fallthrough(int n)
{
    int acc = 0;
    switch (n) {
    case 7: acc += 64; /* fall through */
    case 6: acc += 32; /* fall through */
    case 5: acc += 16; /* fall through */
    case 4: acc += 8; /* fall through */
    case 3: acc += 4; /* fall through */
    case 2: acc += 2; /* fall through */
    case 1: acc += 1; break;
    case 0: acc = -1; break;
    default: acc = -100;
    }
    return acc;
}

enum tok { T_NUM, T_IDENT, T_OP, T_SPACE, T_PUNCT, T_OTHER };

static enum tok classify(char c)
{
    switch (c) {
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return T_NUM;
    case 'a': case 'b': case 'c': case 'd': case 'e': case 'f': case 'g':
    case 'h': case 'i': case 'j': case 'k': case 'l': case 'm': case 'n':
    case 'o': case 'p': case 'q': case 'r': case 's': case 't': case 'u':
    case 'v': case 'w': case 'x': case 'y': case 'z': case '_':
        return T_IDENT;
    case '+': case '-': case '*': case '/': case '%': case '=': case '<': case '>':
        return T_OP;
    case ' ': case '\t': case '\n':
        return T_SPACE;
    case '(': case ')': case ';': case ',': case '{': case '}':
        return T_PUNCT;
    default:
        return T_OTHER;
    }
}

/* Duff's device copy */
static void duff_copy(unsigned char *to, const unsigned char *from, int count)
{
    if (count <= 0)
        return;
    int n = (count + 7) / 8;
    switch (count % 8) {
    case 0: do { *to++ = *from++; /* fall through */
    case 7: *to++ = *from++; /* fall through */
    case 6: *to++ = *from++; /* fall through */
    case 5: *to++ = *from++; /* fall through */
    case 4: *to++ = *from++; /* fall through */
    case 3: *to++ = *from++; /* fall through */
    case 2: *to++ = *from++; /* fall through */
    case 1: *to++ = *from++;
            } while (--n > 0);
    }
}

static const char program[] =
    "int main() { x1 = 42 + y_2 * (7 - z); if (x1 >= 10) return x1 % 3; } @#$";

int lvd_main(void)
{
    unsigned int x = 0x12345678u, h = 0;
    for (unsigned int i = 0; i < 2000; i++) {
        x = dense((x ^ i) % 18u, x);
        h = h * 31u + x;
    }
    lvd_puts("dense x="); lvd_put_hex(x); lvd_puts(" h="); lvd_put_hex(h); lvd_putc('\n');
    for (unsigned int op = 0; op < 17; op++) {
        lvd_put_hex(dense(op, 0xdeadbeefu));
        lvd_putc(op == 16 ? '\n' : ' ');
    }

    long acc = 0;
    for (int k = -8; k <= 8; k++) {
        long r = negative_range(k, -12345);
        long r2 = negative_range(k, 9876);
        acc = acc * 7 + r + r2;
        acc %= 1000000007l;
        lvd_put_s64(r);
        lvd_putc('/');
        lvd_put_s64(r2);
        lvd_putc(k == 8 ? '\n' : ' ');
    }
    lvd_puts("negative acc "); lvd_put_s64(acc); lvd_putc('\n');

    static const unsigned long probes[] = { 0, 1, 10, 11, 100, 1000, 10000, 65535, 65536,
                                            1000000, 0xffffffffu, 0x100000000ul,
                                            0xfffffffffffffffful, 12345 };
    int s = 0;
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int r = sparse(probes[i]);
        s += r;
        lvd_put_s64(r);
        lvd_putc(' ');
    }
    lvd_puts("sum "); lvd_put_s64(s); lvd_putc('\n');

    for (int n = -1; n <= 8; n++) {
        lvd_put_s64(fallthrough(n));
        lvd_putc(n == 8 ? '\n' : ' ');
    }

    int counts[6] = { 0, 0, 0, 0, 0, 0 };
    enum tok prev = T_SPACE;
    int tokens = 0;
    for (const char *p = program; *p; p++) {
        enum tok t = classify(*p);
        counts[t]++;
        if (t != T_SPACE && (t != prev || t == T_PUNCT || t == T_OTHER))
            tokens++;
        prev = t;
    }
    lvd_puts("classes:");
    for (int i = 0; i < 6; i++) {
        lvd_putc(' ');
        lvd_put_u64((unsigned long)counts[i]);
    }
    lvd_puts(" tokens "); lvd_put_u64((unsigned long)tokens); lvd_putc('\n');

    unsigned char src[40], dst[40];
    unsigned int dsum = 0;
    for (int i = 0; i < 40; i++)
        src[i] = (unsigned char)(i * 13 + 5);
    for (int len = 0; len <= 20; len++) {
        for (int i = 0; i < 40; i++)
            dst[i] = 0xee;
        duff_copy(dst, src + len, len);
        for (int i = 0; i < 40; i++)
            dsum = dsum * 3 + dst[i];
    }
    lvd_puts("duff "); lvd_put_hex(dsum); lvd_putc('\n');
    return (int)(h & 0x7f);
}
