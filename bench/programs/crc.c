// Table-driven CRC-32 and a multiplicative hash: byte loads, shifts, xors, multiplies.
#include <lvd_bare.h>
static unsigned int table[256];
static unsigned char buf[65536];
int lvd_main(void) {
  for (unsigned int i = 0; i < 256; i++) {
    unsigned int c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  unsigned long seed = 88172645463325252ul;
  for (unsigned long i = 0; i < sizeof buf; i++) { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; buf[i] = (unsigned char)seed; }
  unsigned int crc = 0xffffffffu;
  unsigned long h = 1469598103934665603ul;
  for (int round = 0; round < 24; round++) {
    for (unsigned long i = 0; i < sizeof buf; i++) {
      crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
      h = (h ^ buf[i]) * 1099511628211ul;
    }
  }
  lvd_put_hex(crc ^ 0xffffffffu);
  lvd_putc(' ');
  lvd_put_hex(h);
  lvd_putc('\n');
  return 0;
}
