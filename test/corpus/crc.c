/* CRC32 (IEEE, reflected) bitwise and table driven, CRC32C, CRC16/CCITT-FALSE
 * (MSB first), CRC16/ARC (reflected), CRC-8 and the standard check values. */
#include "lvd_bare.h"

static unsigned int crc32_table[256];
static unsigned short crc16_ccitt_table[256];

static void make_tables(void)
{
    for (unsigned int i = 0; i < 256; i++) {
        unsigned int c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc32_table[i] = c;
        unsigned short s = (unsigned short)(i << 8);
        for (int k = 0; k < 8; k++)
            s = (unsigned short)((s & 0x8000) ? (s << 1) ^ 0x1021 : s << 1);
        crc16_ccitt_table[i] = s;
    }
}

static unsigned int crc32_bitwise(const unsigned char *p, unsigned long n, unsigned int poly)
{
    unsigned int crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (poly & (0u - (crc & 1u)));
    }
    return ~crc;
}

static unsigned int crc32_update(unsigned int crc, const unsigned char *p, unsigned long n)
{
    crc = ~crc;
    for (unsigned long i = 0; i < n; i++)
        crc = crc32_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static unsigned short crc16_ccitt_false(const unsigned char *p, unsigned long n)
{
    unsigned short crc = 0xFFFF;
    for (unsigned long i = 0; i < n; i++)
        crc = (unsigned short)((crc << 8) ^ crc16_ccitt_table[((crc >> 8) ^ p[i]) & 0xff]);
    return crc;
}

static unsigned short crc16_ccitt_bitwise(const unsigned char *p, unsigned long n)
{
    unsigned short crc = 0xFFFF;
    for (unsigned long i = 0; i < n; i++) {
        crc ^= (unsigned short)(p[i] << 8);
        for (int k = 0; k < 8; k++)
            crc = (unsigned short)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static unsigned short crc16_arc(const unsigned char *p, unsigned long n)
{
    unsigned short crc = 0;
    for (unsigned long i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (unsigned short)((crc >> 1) ^ 0xA001) : (unsigned short)(crc >> 1);
    }
    return crc;
}

static unsigned char crc8(const unsigned char *p, unsigned long n)
{
    unsigned char crc = 0;
    for (unsigned long i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (unsigned char)(crc & 0x80 ? (crc << 1) ^ 0x07 : crc << 1);
    }
    return crc;
}

static unsigned char data[2048];

int lvd_main(void)
{
    const unsigned char *check = (const unsigned char *)"123456789";
    int ok = 1;

    make_tables();
    unsigned int c1 = crc32_bitwise(check, 9, 0xEDB88320u);
    unsigned int c2 = crc32_update(0, check, 9);
    unsigned int c3 = crc32_bitwise(check, 9, 0x82F63B78u);
    unsigned short s1 = crc16_ccitt_false(check, 9);
    unsigned short s2 = crc16_ccitt_bitwise(check, 9);
    unsigned short s3 = crc16_arc(check, 9);
    unsigned char b1 = crc8(check, 9);
    ok &= c1 == 0xCBF43926u && c2 == c1 && c3 == 0xE3069283u;
    ok &= s1 == 0x29B1 && s2 == s1 && s3 == 0xBB3D && b1 == 0xF4;
    lvd_puts("crc32 "); lvd_put_hex(c1);
    lvd_puts(" crc32c "); lvd_put_hex(c3);
    lvd_puts(" crc16-ccitt "); lvd_put_hex(s1);
    lvd_puts(" crc16-arc "); lvd_put_hex(s3);
    lvd_puts(" crc8 "); lvd_put_hex(b1);
    lvd_puts(ok ? " check ok\n" : " check BAD\n");

    unsigned int x = 1;
    for (unsigned i = 0; i < sizeof data; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    /* incremental == one shot */
    unsigned int whole = crc32_update(0, data, sizeof data);
    unsigned int inc = 0;
    for (unsigned off = 0; off < sizeof data; off += 100) {
        unsigned long len = sizeof data - off < 100 ? sizeof data - off : 100;
        inc = crc32_update(inc, data + off, len);
    }
    ok &= inc == whole;
    ok &= crc32_bitwise(data, 512, 0xEDB88320u) == crc32_update(0, data, 512);
    lvd_puts("data crc32 "); lvd_put_hex(whole);
    lvd_puts(" incremental "); lvd_put_hex(inc);
    lvd_putc('\n');
    for (unsigned len = 1; len <= sizeof data; len *= 4) {
        lvd_puts("len "); lvd_put_u64(len);
        lvd_puts(" crc32 "); lvd_put_hex(crc32_update(0, data, len));
        lvd_puts(" crc16 "); lvd_put_hex(crc16_ccitt_false(data, len));
        lvd_putc('\n');
    }
    /* crc of data followed by its crc (little endian) gives the residue */
    unsigned char tail[4];
    tail[0] = (unsigned char)whole;
    tail[1] = (unsigned char)(whole >> 8);
    tail[2] = (unsigned char)(whole >> 16);
    tail[3] = (unsigned char)(whole >> 24);
    unsigned int res = ~crc32_update(whole, tail, 4);
    lvd_puts("residue "); lvd_put_hex(res); lvd_putc('\n');
    ok &= res == 0xDEBB20E3u;
    lvd_puts(ok ? "all ok\n" : "FAILED\n");
    return ok ? 0 : 1;
}
