/* Hand-written string functions: strlen, strcmp, strncmp, strcpy, strcat,
 * strchr, strrchr, strstr (naive and KMP), reverse, atoi (with sign and
 * overflow clamping), itoa in several bases, toupper, word counting. */
#include "lvd_bare.h"

static unsigned long my_strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (unsigned long)(p - s);
}

static int my_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

static int my_strncmp(const char *a, const char *b, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (int)(unsigned char)a[i] - (int)(unsigned char)b[i];
    }
    return 0;
}

static char *my_strcpy(char *d, const char *s)
{
    char *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}

static char *my_strcat(char *d, const char *s)
{
    my_strcpy(d + my_strlen(d), s);
    return d;
}

static const char *my_strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return s;
        if (!*s)
            return 0;
    }
}

static const char *my_strrchr(const char *s, int c)
{
    const char *last = 0;
    do {
        if (*s == (char)c)
            last = s;
    } while (*s++);
    return last;
}

static const char *my_strstr(const char *h, const char *n)
{
    if (!*n)
        return h;
    for (; *h; h++) {
        const char *a = h, *b = n;
        while (*a && *b && *a == *b) {
            a++;
            b++;
        }
        if (!*b)
            return h;
    }
    return 0;
}

static long kmp_count(const char *text, const char *pat)
{
    int fail[32];
    int m = (int)my_strlen(pat);
    fail[0] = 0;
    for (int i = 1, k = 0; i < m; i++) {
        while (k > 0 && pat[i] != pat[k])
            k = fail[k - 1];
        if (pat[i] == pat[k])
            k++;
        fail[i] = k;
    }
    long count = 0;
    for (int i = 0, k = 0; text[i]; i++) {
        while (k > 0 && text[i] != pat[k])
            k = fail[k - 1];
        if (text[i] == pat[k])
            k++;
        if (k == m) {
            count++;
            k = fail[k - 1];
        }
    }
    return count;
}

static void reverse(char *s)
{
    unsigned long n = my_strlen(s);
    if (n < 2)
        return;
    for (unsigned long i = 0, j = n - 1; i < j; i++, j--) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
}

/* atoi with clamping instead of overflow */
static long my_atol(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int neg = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    unsigned long v = 0;
    const unsigned long lim = neg ? 9223372036854775808ul : 9223372036854775807ul;
    while (*s >= '0' && *s <= '9') {
        unsigned long d = (unsigned long)(*s++ - '0');
        if (v > (lim - d) / 10) {
            v = lim;
            break;
        }
        v = v * 10 + d;
    }
    if (neg)
        return v == 9223372036854775808ul ? (-9223372036854775807l - 1) : -(long)v;
    return (long)v;
}

static int my_atoi(const char *s)
{
    long v = my_atol(s);
    if (v > 2147483647l) return 2147483647;
    if (v < -2147483647l - 1) return -2147483647 - 1;
    return (int)v;
}

static char *my_itoa(long value, char *buf, int base)
{
    const char *digits = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned long u = value < 0 ? 0ul - (unsigned long)value : (unsigned long)value;
    int i = 0;
    do {
        buf[i++] = digits[u % (unsigned)base];
        u /= (unsigned)base;
    } while (u);
    if (value < 0)
        buf[i++] = '-';
    buf[i] = 0;
    reverse(buf);
    return buf;
}

static void upcase(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

static int count_words(const char *s)
{
    int n = 0, in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == '\n' || *s == ',' || *s == '.';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

static const char text[] =
    "It was the best of times, it was the worst of times, it was the age of "
    "wisdom, it was the age of foolishness, it was the epoch of belief, it was "
    "the epoch of incredulity, it was the season of Light, it was the season "
    "of Darkness.";

int lvd_main(void)
{
    char buf[256], num[80];
    int sig = 0;

    lvd_puts("len "); lvd_put_u64(my_strlen(text)); lvd_putc('\n');
    lvd_puts("words "); lvd_put_u64((unsigned long)count_words(text)); lvd_putc('\n');
    lvd_puts("count 'it was' "); lvd_put_s64(kmp_count(text, "it was"));
    lvd_puts(" 'of' "); lvd_put_s64(kmp_count(text, "of"));
    lvd_puts(" 'aa' "); lvd_put_s64(kmp_count("aaaaaa", "aa")); lvd_putc('\n');
    const char *p = my_strstr(text, "epoch");
    lvd_puts("strstr epoch at "); lvd_put_u64((unsigned long)(p - text)); lvd_putc('\n');
    p = my_strstr(text, "epochs");
    lvd_puts("strstr epochs "); lvd_puts(p ? "found" : "null"); lvd_putc('\n');
    lvd_puts("strchr w at "); lvd_put_u64((unsigned long)(my_strchr(text, 'w') - text));
    lvd_puts(" strrchr w at "); lvd_put_u64((unsigned long)(my_strrchr(text, 'w') - text));
    lvd_puts(" strchr NUL at "); lvd_put_u64((unsigned long)(my_strchr(text, 0) - text));
    lvd_puts(" strchr Z "); lvd_puts(my_strchr(text, 'Z') ? "found" : "null"); lvd_putc('\n');

    static const char *const cmps[][2] = {
        { "abc", "abd" }, { "abc", "abc" }, { "b", "abc" }, { "", "a" },
        { "abc", "ab" }, { "\xff", "a" },
    };
    for (unsigned i = 0; i < sizeof cmps / sizeof cmps[0]; i++) {
        int c = my_strcmp(cmps[i][0], cmps[i][1]);
        int c2 = my_strncmp(cmps[i][0], cmps[i][1], 2);
        sig = sig * 3 + (c > 0) - (c < 0);
        lvd_put_s64(c); lvd_putc('/'); lvd_put_s64(c2); lvd_putc(' ');
    }
    lvd_putc('\n');

    my_strcpy(buf, "Hello");
    my_strcat(buf, ", ");
    my_strcat(buf, "world");
    my_strcat(buf, "!");
    lvd_puts(buf); lvd_putc('\n');
    reverse(buf);
    lvd_puts(buf); lvd_putc('\n');
    upcase(buf);
    lvd_puts(buf); lvd_putc('\n');

    static const char *const nums[] = {
        "0", "42", "-42", "  +17abc", "2147483647", "2147483648", "-2147483648",
        "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-99999999999999999999", "x12",
    };
    unsigned long acc = 0;
    for (unsigned i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        long l = my_atol(nums[i]);
        int v = my_atoi(nums[i]);
        acc = acc * 31 + ((unsigned long)l ^ (unsigned long)(long)v);
        lvd_puts("atoi(\""); lvd_puts(nums[i]); lvd_puts("\") = ");
        lvd_put_s64(v); lvd_puts(" atol = "); lvd_put_s64(l); lvd_putc('\n');
    }
    static const long vals[] = { 0, 1, -1, 255, -255, 123456789, -2147483648l,
                                 9223372036854775807l, -9223372036854775807l - 1 };
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        lvd_puts(my_itoa(vals[i], num, 10)); lvd_putc(' ');
        lvd_puts(my_itoa(vals[i], num, 16)); lvd_putc(' ');
        lvd_puts(my_itoa(vals[i], num, 2)); lvd_putc(' ');
        lvd_puts(my_itoa(vals[i], num, 36)); lvd_putc('\n');
        if (my_atol(my_itoa(vals[i], num, 10)) != vals[i])
            sig += 1000;
    }
    lvd_puts("sig "); lvd_put_s64(sig); lvd_puts(" acc "); lvd_put_hex(acc); lvd_putc('\n');
    return sig < 0 ? -sig & 0x7f : sig & 0x7f;
}
