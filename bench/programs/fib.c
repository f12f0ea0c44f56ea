// Recursion: calls, returns, stack traffic.
#include <lvd_bare.h>
static unsigned long fib(int n) { return n < 2 ? (unsigned long)n : fib(n - 1) + fib(n - 2); }
int lvd_main(void) {
  lvd_put_u64(fib(30));
  lvd_putc('\n');
  return 0;
}
