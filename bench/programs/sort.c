// Sorting: loads, stores, compares, unpredictable branches.
#include <lvd_bare.h>
#define N 20000
static unsigned int a[N];
static void quicksort(unsigned int *v, long lo, long hi) {
  while (lo < hi) {
    unsigned int p = v[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p) i++;
      while (v[j] > p) j--;
      if (i <= j) { unsigned int t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; } else { quicksort(v, i, hi); hi = j; }
  }
}
int lvd_main(void) {
  unsigned long sum = 0;
  for (int round = 0; round < 8; round++) {
    unsigned int x = 12345 + round;
    for (int i = 0; i < N; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; a[i] = x; }
    quicksort(a, 0, N - 1);
    for (int i = 0; i < N; i += 97) sum = sum * 31 + a[i];
  }
  lvd_put_hex(sum);
  lvd_putc('\n');
  return 0;
}
