/* A recursive-descent expression evaluator: integer literals (decimal and
 * hex), variables a..z, unary - ~ !, binary * / % + - << >> < <= > >= ==
 * != & ^ | && || with C precedence, parentheses, the ternary operator and
 * assignment; division by zero and syntax errors are reported, never UB. */
#include "lvd_bare.h"

static const char *p;
static long vars[26];
static int error;
static const char *error_msg;

static void fail(const char *msg)
{
    if (!error) {
        error = 1;
        error_msg = msg;
    }
}

static void skip(void)
{
    while (*p == ' ')
        p++;
}

static int accept(const char *tok)
{
    skip();
    int n = 0;
    while (tok[n] && p[n] == tok[n])
        n++;
    if (tok[n])
        return 0;
    /* don't split "<<" into "<" "<", "&&" into "&", etc. */
    if (n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '&' || tok[0] == '|' || tok[0] == '=' || tok[0] == '!')) {
        char c = p[1];
        if ((tok[0] == '<' && (c == '<' || c == '=')) || (tok[0] == '>' && (c == '>' || c == '=')) ||
            (tok[0] == '&' && c == '&') || (tok[0] == '|' && c == '|') || (tok[0] == '=' && c == '=') ||
            (tok[0] == '!' && c == '='))
            return 0;
    }
    p += n;
    return 1;
}

static long wrap(unsigned long v) { return (long)v; } /* two's complement wrap, no signed overflow */

static long expr(void);

static long primary(void)
{
    skip();
    if (accept("(")) {
        long v = expr();
        if (!accept(")"))
            fail("expected )");
        return v;
    }
    if (*p == '0' && (p[1] == 'x' || p[1] == 'X')) {
        unsigned long v = 0;
        p += 2;
        int digits = 0;
        for (;; p++, digits++) {
            int d;
            if (*p >= '0' && *p <= '9') d = *p - '0';
            else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
            else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
            else break;
            v = v << 4 | (unsigned long)d;
        }
        if (!digits)
            fail("bad hex");
        return wrap(v);
    }
    if (*p >= '0' && *p <= '9') {
        unsigned long v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (unsigned long)(*p++ - '0');
        return wrap(v);
    }
    if (*p >= 'a' && *p <= 'z') {
        int idx = *p++ - 'a';
        skip();
        if (*p == '=' && p[1] != '=') {
            p++;
            long v = expr();
            vars[idx] = v;
            return v;
        }
        return vars[idx];
    }
    fail("unexpected character");
    return 0;
}

static long unary(void)
{
    if (accept("-")) return wrap(0ul - (unsigned long)unary());
    if (accept("~")) return ~unary();
    if (accept("!")) return !unary();
    return primary();
}

static long mul(void)
{
    long v = unary();
    for (;;) {
        if (accept("*")) v = wrap((unsigned long)v * (unsigned long)unary());
        else if (accept("/") || accept("%")) {
            char op = p[-1];
            long r = unary();
            if (r == 0) { fail("division by zero"); return 0; }
            if (v == (-9223372036854775807l - 1) && r == -1) { fail("overflow"); return 0; }
            v = op == '/' ? v / r : v % r;
        } else return v;
    }
}

static long add(void)
{
    long v = mul();
    for (;;) {
        if (accept("+")) v = wrap((unsigned long)v + (unsigned long)mul());
        else if (accept("-")) v = wrap((unsigned long)v - (unsigned long)mul());
        else return v;
    }
}

static long shift(void)
{
    long v = add();
    for (;;) {
        if (accept("<<")) v = wrap((unsigned long)v << (add() & 63));
        else if (accept(">>")) v = v >> (add() & 63);
        else return v;
    }
}

static long rel(void)
{
    long v = shift();
    for (;;) {
        if (accept("<=")) v = v <= shift();
        else if (accept(">=")) v = v >= shift();
        else if (accept("<")) v = v < shift();
        else if (accept(">")) v = v > shift();
        else return v;
    }
}

static long eq(void)
{
    long v = rel();
    for (;;) {
        if (accept("==")) v = v == rel();
        else if (accept("!=")) v = v != rel();
        else return v;
    }
}

static long band(void) { long v = eq(); while (accept("&")) v &= eq(); return v; }
static long bxor(void) { long v = band(); while (accept("^")) v ^= band(); return v; }
static long bor(void) { long v = bxor(); while (accept("|")) v |= bxor(); return v; }

static long land(void)
{
    long v = bor();
    while (accept("&&")) {
        long r = bor(); /* no short circuit for side effects here: both parsed */
        v = v && r;
    }
    return v;
}

static long lor(void)
{
    long v = land();
    while (accept("||")) {
        long r = land();
        v = v || r;
    }
    return v;
}

static long expr(void)
{
    long c = lor();
    if (accept("?")) {
        long a = expr();
        if (!accept(":"))
            fail("expected :");
        long b = expr();
        return c ? a : b;
    }
    return c;
}

static const char *const tests[] = {
    "1 + 2 * 3",
    "(1 + 2) * 3",
    "100 / 7 % 4",
    "-100 / 7",
    "-100 % 7",
    "1 << 62 >> 60",
    "-1 >> 5",
    "0xdeadbeef & 0xffff | 0x10000",
    "5 ^ 3 ^ 1",
    "~0 == -1",
    "3 < 4 == 4 > 3",
    "!0 + !5",
    "a = 5",
    "b = a * a - 1",
    "c = (a + b) * (b - a)",
    "a > b ? a : b",
    "a < b ? a < 3 ? 111 : 222 : 333",
    "z = 0x7fffffffffffffff + 1",
    "z - 1",
    "9223372036854775807 * 3",
    "1 && 0 || 2",
    "(1 || 0) && (0 || 0)",
    "x = y = 42",
    "x + y",
    "7 / 0",
    "(1 + 2",
    "3 + @",
    "0x",
    "((((((((((1+1)*2)+1)*2)+1)*2)+1)*2)+1)*2)",
    "1 - - - 1",
    "2 <= 2 >= 1",
    "100 >> 65",
};

int lvd_main(void)
{
    unsigned long h = 0;
    int errors = 0;
    for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        p = tests[i];
        error = 0;
        long v = expr();
        skip();
        if (!error && *p)
            fail("trailing input");
        lvd_puts(tests[i]);
        lvd_puts(" => ");
        if (error) {
            lvd_puts("error: ");
            lvd_puts(error_msg);
            errors++;
        } else {
            lvd_put_s64(v);
            h = h * 1000003 ^ (unsigned long)v;
        }
        lvd_putc('\n');
    }
    lvd_puts("hash "); lvd_put_hex(h); lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');
    return errors;
}
