/* Unions and bitfields: type punning through unions (byte views of
 * integers, little-endian layout), tagged unions, packed bitfields with
 * signed and unsigned members of odd widths, read-modify-write of
 * neighbouring fields, a page-table-entry-like 64-bit bitfield, and
 * __attribute__((packed)) structs with unaligned members. */
#include "lvd_bare.h"

union word {
    unsigned long u64;
    unsigned int u32[2];
    unsigned short u16[4];
    unsigned char u8[8];
    long s64;
    signed char s8[8];
};

struct flags {
    unsigned int a : 1;
    unsigned int b : 3;
    signed int c : 5;
    unsigned int d : 7;
    signed int e : 16;
};

struct pte {
    unsigned long present : 1;
    unsigned long writable : 1;
    unsigned long user : 1;
    unsigned long pwt : 1;
    unsigned long pcd : 1;
    unsigned long accessed : 1;
    unsigned long dirty : 1;
    unsigned long huge : 1;
    unsigned long global : 1;
    unsigned long avail : 3;
    unsigned long frame : 40;
    unsigned long reserved : 11;
    unsigned long nx : 1;
};

union pte_view {
    struct pte bits;
    unsigned long raw;
};

struct __attribute__((packed)) packet {
    unsigned char type;
    unsigned int length;
    unsigned short port;
    unsigned long cookie;
    signed char delta;
};

enum kind { K_INT, K_PAIR, K_TEXT };
struct value {
    enum kind kind;
    union {
        long i;
        struct { int a, b; } pair;
        char text[12];
    } as;
};

static long eval(const struct value *v)
{
    switch (v->kind) {
    case K_INT: return v->as.i;
    case K_PAIR: return (long)v->as.pair.a * v->as.pair.b;
    case K_TEXT: {
        long n = 0;
        for (int i = 0; i < 12 && v->as.text[i]; i++)
            n = n * 7 + v->as.text[i];
        return n;
    }
    }
    return -1;
}

static volatile unsigned long vsrc = 0x8877665544332211ul;

int lvd_main(void)
{
    union word w;
    w.u64 = vsrc;
    lvd_puts("bytes:");
    for (int i = 0; i < 8; i++) {
        lvd_putc(' ');
        lvd_put_hex(w.u8[i]);
    }
    lvd_puts("\nu16: ");
    for (int i = 0; i < 4; i++) {
        lvd_put_hex(w.u16[i]);
        lvd_putc(' ');
    }
    lvd_puts("u32: "); lvd_put_hex(w.u32[0]); lvd_putc(' '); lvd_put_hex(w.u32[1]);
    lvd_puts(" s8[7]: "); lvd_put_s64(w.s8[7]); lvd_puts(" s64: "); lvd_put_s64(w.s64);
    lvd_putc('\n');
    w.u8[3] = 0xff;
    w.u16[3] = 0x0102;
    lvd_puts("modified: "); lvd_put_hex(w.u64); lvd_putc('\n');

    struct flags f = { 0, 0, 0, 0, 0 };
    unsigned long acc = 0;
    for (int i = 0; i < 100; i++) {
        f.a = (unsigned int)i & 1u;
        f.b = (unsigned int)(f.b + 3) & 7u;
        f.c = (signed int)((i % 32) - 16);  /* fits in 5 signed bits */
        f.d = (unsigned int)(f.d + 45) & 127u;
        f.e = (signed int)(f.e - 1000 * (i % 3 - 1));
        if (f.e > 30000 || f.e < -30000)
            f.e = 0;
        acc = acc * 131 + f.a + (unsigned long)f.b * 2 + (unsigned long)(long)f.c * 16 +
              (unsigned long)f.d * 512 + (unsigned long)(long)f.e * 65536;
    }
    lvd_puts("flags a="); lvd_put_u64(f.a); lvd_puts(" b="); lvd_put_u64(f.b);
    lvd_puts(" c="); lvd_put_s64(f.c); lvd_puts(" d="); lvd_put_u64(f.d);
    lvd_puts(" e="); lvd_put_s64(f.e); lvd_puts(" acc="); lvd_put_hex(acc);
    lvd_puts(" sizeof="); lvd_put_u64(sizeof f);
    lvd_putc('\n');
    struct flags g = { 1, 7, -16, 127, -32768 };
    lvd_puts("limits: "); lvd_put_u64(g.a); lvd_putc(' '); lvd_put_u64(g.b); lvd_putc(' ');
    lvd_put_s64(g.c); lvd_putc(' '); lvd_put_u64(g.d); lvd_putc(' '); lvd_put_s64(g.e); lvd_putc('\n');

    union pte_view p;
    p.raw = 0;
    p.bits.present = 1;
    p.bits.writable = 1;
    p.bits.frame = 0x123456789ul;
    p.bits.nx = 1;
    p.bits.avail = 5;
    lvd_puts("pte raw "); lvd_put_hex(p.raw);
    p.raw |= 1ul << 6; /* set dirty via raw */
    p.raw &= ~2ul; /* clear writable via raw */
    lvd_puts(" dirty "); lvd_put_u64(p.bits.dirty);
    lvd_puts(" writable "); lvd_put_u64(p.bits.writable);
    lvd_puts(" frame "); lvd_put_hex(p.bits.frame);
    lvd_puts(" addr "); lvd_put_hex(p.bits.frame << 12);
    lvd_putc('\n');
    unsigned long pt_acc = 0;
    for (unsigned long i = 0; i < 64; i++) {
        union pte_view q;
        q.raw = i * 0x9E3779B97F4A7C15ul;
        pt_acc += q.bits.frame ^ (q.bits.avail << 3) ^ q.bits.nx ^ q.bits.reserved;
        q.bits.frame += 1;
        pt_acc ^= q.raw;
    }
    lvd_puts("pte acc "); lvd_put_hex(pt_acc); lvd_putc('\n');

    struct packet pk[3];
    for (int i = 0; i < 3; i++) {
        pk[i].type = (unsigned char)(i + 1);
        pk[i].length = 0x01020304u * (unsigned)(i + 1);
        pk[i].port = (unsigned short)(8080 + i);
        pk[i].cookie = 0xfeedfacecafebeeful + (unsigned long)i;
        pk[i].delta = (signed char)(-i - 1);
    }
    const unsigned char *raw = (const unsigned char *)pk;
    unsigned long ph = 0;
    for (unsigned long i = 0; i < sizeof pk; i++)
        ph = ph * 257 + raw[i];
    lvd_puts("packed sizeof "); lvd_put_u64(sizeof(struct packet));
    lvd_puts(" bytes hash "); lvd_put_hex(ph);
    lvd_puts(" pk[2].cookie "); lvd_put_hex(pk[2].cookie);
    lvd_puts(" pk[1].length "); lvd_put_hex(pk[1].length);
    lvd_puts(" pk[2].delta "); lvd_put_s64(pk[2].delta);
    lvd_putc('\n');

    struct value vals[4];
    vals[0].kind = K_INT; vals[0].as.i = -123456789;
    vals[1].kind = K_PAIR; vals[1].as.pair.a = -40000; vals[1].as.pair.b = 50000;
    vals[2].kind = K_TEXT;
    for (int i = 0; i < 12; i++)
        vals[2].as.text[i] = i < 5 ? "union"[i] : 0;
    vals[3] = vals[1];
    vals[3].as.pair.b = 3;
    long total = 0;
    for (int i = 0; i < 4; i++) {
        long e = eval(&vals[i]);
        total += e;
        lvd_put_s64(e);
        lvd_putc(' ');
    }
    lvd_puts("total "); lvd_put_s64(total); lvd_putc('\n');
    return (int)((acc ^ ph) & 0x7f);
}
