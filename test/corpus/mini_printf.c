/* A tiny printf-like formatter using <stdarg.h> (freestanding header):
 * %d %i %u %x %X %o %b %c %s %p %% with flags '-', '0', '+', ' ', '#',
 * field width and precision (also '*'), and length modifiers h, hh, l, ll,
 * z.  Formats into a buffer (snprintf-like, with truncation) and prints. */
#include <stdarg.h>
#include "lvd_bare.h"

struct out {
    char *buf;
    unsigned long cap, len; /* len counts all produced chars, even if truncated */
};

static void out_c(struct out *o, char c)
{
    if (o->len + 1 < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        out_c(o, c);
}

static int vfmt(char *buf, unsigned long cap, const char *fmt, va_list ap)
{
    struct out o = { buf, cap, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_c(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, plus = 0, space = 0, alt = 0;
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') zero = 1;
            else if (*fmt == '+') plus = 1;
            else if (*fmt == ' ') space = 1;
            else if (*fmt == '#') alt = 1;
            else break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long, 3 size_t */
        if (*fmt == 'h') {
            lng = -1;
            if (*++fmt == 'h') { lng = -2; fmt++; }
        } else if (*fmt == 'l') {
            lng = 1;
            if (*++fmt == 'l') { lng = 2; fmt++; }
        } else if (*fmt == 'z') {
            lng = 3;
            fmt++;
        }
        char conv = *fmt;
        if (conv == 0)
            break;
        char tmp[72];
        int n = 0, neg = 0;
        const char *prefix = "";
        unsigned long u = 0;
        unsigned base = 10;
        int upper = 0;
        switch (conv) {
        case 'd':
        case 'i': {
            long v;
            if (lng >= 1) v = va_arg(ap, long);
            else v = va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng == -2) v = (signed char)v;
            neg = v < 0;
            u = neg ? 0ul - (unsigned long)v : (unsigned long)v;
            break;
        }
        case 'u': case 'x': case 'X': case 'o': case 'b':
            if (lng >= 1) u = va_arg(ap, unsigned long);
            else u = va_arg(ap, unsigned int);
            if (lng == -1) u = (unsigned short)u;
            if (lng == -2) u = (unsigned char)u;
            base = conv == 'u' ? 10 : conv == 'o' ? 8 : conv == 'b' ? 2 : 16;
            upper = conv == 'X';
            if (alt && u) prefix = conv == 'x' ? "0x" : conv == 'X' ? "0X" : conv == 'b' ? "0b" : conv == 'o' ? "0" : "";
            break;
        case 'p':
            u = (unsigned long)va_arg(ap, void *);
            base = 16;
            prefix = "0x";
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!left) out_pad(&o, ' ', width - 1);
            out_c(&o, c);
            if (left) out_pad(&o, ' ', width - 1);
            continue;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int len = 0;
            while (s[len] && (prec < 0 || len < prec))
                len++;
            if (!left) out_pad(&o, ' ', width - len);
            for (int i = 0; i < len; i++)
                out_c(&o, s[i]);
            if (left) out_pad(&o, ' ', width - len);
            continue;
        }
        case '%':
            out_c(&o, '%');
            continue;
        default:
            out_c(&o, '%');
            out_c(&o, conv);
            continue;
        }
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        if (!(u == 0 && prec == 0)) {
            do {
                tmp[n++] = digits[u % base];
                u /= base;
            } while (u);
        }
        int ndig = n;
        int zeros = prec > ndig ? prec - ndig : 0;
        char sign = neg ? '-' : plus ? '+' : space ? ' ' : 0;
        if (conv != 'd' && conv != 'i')
            sign = 0;
        int plen = 0;
        while (prefix[plen])
            plen++;
        int total = ndig + zeros + plen + (sign ? 1 : 0);
        if (zero && !left && prec < 0 && width > total) {
            zeros += width - total;
            total = width;
        }
        if (!left) out_pad(&o, ' ', width - total);
        if (sign) out_c(&o, sign);
        for (int i = 0; i < plen; i++) out_c(&o, prefix[i]);
        out_pad(&o, '0', zeros);
        while (n > 0) out_c(&o, tmp[--n]);
        if (left) out_pad(&o, ' ', width - total);
    }
    if (o.cap)
        o.buf[o.len < o.cap ? o.len : o.cap - 1] = 0;
    return (int)o.len;
}

static int fmt(char *buf, unsigned long cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = vfmt(buf, cap, f, ap);
    va_end(ap);
    return r;
}

static unsigned long total_len, hash;

static void pr(const char *f, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, f);
    int n = vfmt(buf, sizeof buf, f, ap);
    va_end(ap);
    total_len += (unsigned long)n;
    for (const char *p = buf; *p; p++)
        hash = hash * 33 + (unsigned char)*p;
    lvd_puts(buf);
}

static long sum_ints(int count, ...)
{
    va_list ap;
    long s = 0;
    va_start(ap, count);
    for (int i = 0; i < count; i++)
        s += va_arg(ap, int);
    va_end(ap);
    return s;
}

int lvd_main(void)
{
    pr("[%d] [%i] [%u] [%x] [%X] [%o] [%b]\n", 42, -42, 3000000000u, 0xbeefu, 0xbeefu, 8u, 5u);
    pr("[%5d] [%-5d] [%05d] [%+d] [% d] [%+d]\n", 42, 42, 42, 42, 42, -42);
    pr("[%.3d] [%8.3d] [%-8.3d|] [%08.3d] [%.0d] [%.0d]\n", 7, -7, 7, 7, 0, 1);
    pr("[%#x] [%#X] [%#o] [%#b] [%#x]\n", 255u, 255u, 8u, 5u, 0u);
    pr("[%ld] [%lu] [%lx] [%lld]\n", -9223372036854775807l - 1, 18446744073709551615ul,
       0xdeadbeefcafebabeul, 1234567890123456789l);
    pr("[%hd] [%hhd] [%hu] [%hhu] [%hhx]\n", 70000, 300, 70000u, 300u, 0x1234u);
    pr("[%zu] [%c%c%c] [%-3c|] [%3c]\n", sizeof(long), 'a', 'b', 'c', 'x', 'y');
    pr("[%s] [%10s] [%-10s|] [%.2s] [%*s] [%-*s|] [%.*s]\n", "hello", "right", "left", "truncate",
       6, "star", 6, "star", 3, "precision");
    pr("[%*d] [%-*d|] [%*d]\n", 6, 123, 6, 123, -6, 123);
    pr("[%s] [%%] [%q]\n", (const char *)0);
    char small[8];
    int n = fmt(small, sizeof small, "%s-%d", "abcdef", 12345);
    pr("truncated: \"%s\" wanted %d\n", small, n);
    n = fmt(0, 0, "%d%d%d", 111, 222, 333);
    pr("length only: %d\n", n);
    pr("sum_ints: %ld %ld\n", sum_ints(5, 1, 2, 3, 4, 5), sum_ints(8, -1, -2, -3, -4, 100, 200, 300, 400));
    int x = 5;
    char pbuf[40];
    fmt(pbuf, sizeof pbuf, "%p", (void *)&x);
    pr("pointer formatted with %d chars, starts %.2s\n", pbuf[0] ? (int)(sizeof "0x" - 1) : 0, pbuf);
    for (int i = -3; i <= 3; i++)
        pr("%3d|%-4x|%+05d|%#6o\n", i * 1111, (unsigned)(i * 4660) & 0xffffu, i * 37, (unsigned)(i + 3) * 61u);
    pr("total %lu hash %lx\n", total_len, hash);
    return (int)(hash & 0x7f);
}
