/* Base64 encode/decode (standard and URL-safe alphabets, with and without
 * padding), round trips over all lengths 0..64, the RFC 4648 test vectors,
 * rejection of invalid input, and hex encoding. */
#include "lvd_bare.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static unsigned long b64_encode(const unsigned char *in, unsigned long n, char *out,
                                const char *alpha, int pad)
{
    unsigned long o = 0, i = 0;
    while (i + 3 <= n) {
        unsigned int v = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
        i += 3;
    }
    unsigned long rest = n - i;
    if (rest) {
        unsigned int v = (unsigned int)in[i] << 16;
        if (rest == 2)
            v |= (unsigned int)in[i + 1] << 8;
        out[o++] = alpha[(v >> 18) & 63];
        out[o++] = alpha[(v >> 12) & 63];
        if (rest == 2)
            out[o++] = alpha[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = 0;
    return o;
}

static signed char std_dec[256], url_dec[256];
static const signed char *dec_table;

static void build_dec(signed char *table, const char *alpha)
{
    for (int i = 0; i < 256; i++)
        table[i] = -1;
    for (int i = 0; i < 64; i++)
        table[(unsigned char)alpha[i]] = (signed char)i;
}

/* returns decoded length or -1 on error; accepts missing padding */
static long b64_decode(const char *in, unsigned char *out)
{
    unsigned int acc = 0;
    int bits = 0, pads = 0;
    long o = 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '=') {
            pads++;
            continue;
        }
        if (pads)
            return -1; /* data after padding */
        int v = dec_table[c];
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pads > 2 || bits >= 6)
        return -1;
    return o;
}

static void hex(const unsigned char *p, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        lvd_putc("0123456789abcdef"[p[i] >> 4]);
        lvd_putc("0123456789abcdef"[p[i] & 15]);
    }
}

static unsigned long slen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

int lvd_main(void)
{
    static const char *const vectors[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    char enc[200];
    unsigned char dec[160], data[128];
    int errors = 0;

    build_dec(std_dec, std_alpha);
    build_dec(url_dec, url_alpha);
    dec_table = std_dec;
    for (unsigned i = 0; i < 7; i++) {
        unsigned long n = b64_encode((const unsigned char *)vectors[i], slen(vectors[i]), enc, std_alpha, 1);
        lvd_puts("BASE64(\""); lvd_puts(vectors[i]); lvd_puts("\") = \""); lvd_puts(enc);
        lvd_puts("\" len "); lvd_put_u64(n);
        long d = b64_decode(enc, dec);
        if (d != (long)slen(vectors[i]))
            errors++;
        lvd_putc('\n');
    }

    for (int i = 0; i < 128; i++)
        data[i] = (unsigned char)(i * 151 + 7);
    unsigned long h = 0;
    for (unsigned long len = 0; len <= 64; len++) {
        for (int variant = 0; variant < 4; variant++) {
            const char *alpha = variant & 1 ? url_alpha : std_alpha;
            int pad = variant < 2;
            unsigned long n = b64_encode(data + len, len, enc, alpha, pad);
            if (pad && n != (len + 2) / 3 * 4)
                errors++;
            dec_table = variant & 1 ? url_dec : std_dec;
            long d = b64_decode(enc, dec);
            if (d != (long)len)
                errors++;
            for (unsigned long k = 0; k < len && d == (long)len; k++)
                if (dec[k] != data[len + k])
                    errors++;
            for (unsigned long k = 0; k < n; k++)
                h = h * 67 + (unsigned char)enc[k];
        }
    }
    lvd_puts("round trips hash "); lvd_put_hex(h); lvd_puts(" errors "); lvd_put_u64((unsigned long)errors); lvd_putc('\n');

    b64_encode(data, 48, enc, std_alpha, 1);
    lvd_puts("std: "); lvd_puts(enc); lvd_putc('\n');
    b64_encode(data, 48, enc, url_alpha, 0);
    lvd_puts("url: "); lvd_puts(enc); lvd_putc('\n');

    dec_table = std_dec;
    static const char *const bad[] = { "Zm9v!", "Zm=9v", "Z", "Zm9vY===", "Zg==", "Zg", "TWFu", "TWE=" };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long d = b64_decode(bad[i], dec);
        lvd_puts(bad[i]); lvd_puts(" -> ");
        if (d < 0)
            lvd_puts("invalid");
        else
            hex(dec, (unsigned long)d);
        lvd_putc(i + 1 < sizeof bad / sizeof bad[0] ? ' ' : '\n');
    }
    const char *msg = "Man is distinguished, not only by his reason, but by this singular passion";
    b64_encode((const unsigned char *)msg, slen(msg), enc, std_alpha, 1);
    lvd_puts(enc); lvd_putc('\n');
    long d = b64_decode(enc, dec);
    dec[d] = 0;
    lvd_puts((const char *)dec); lvd_putc('\n');
    return errors ? 255 : (int)(h & 0x7f);
}
