// Sieve of Eratosthenes and a division-heavy digit sum: byte stores, strided loops, DIV by constants.
#include <lvd_bare.h>
#define N 2000000
static unsigned char composite[N];
int lvd_main(void) {
  unsigned long count = 0, digits = 0;
  for (unsigned long i = 2; i * i < N; i++)
    if (!composite[i]) for (unsigned long j = i * i; j < N; j += i) composite[j] = 1;
  for (unsigned long i = 2; i < N; i++)
    if (!composite[i]) { count++; for (unsigned long v = i; v; v /= 10) digits += v % 10; }
  lvd_put_u64(count);
  lvd_putc(' ');
  lvd_put_u64(digits);
  lvd_putc('\n');
  return 0;
}
