/* An isolated driver that reads kernel memory (the direct map): it must be stopped. */
#include <lvd/domain.h>

static int init(void) {
	volatile u64 *kernel = (volatile u64 *)0xffff888000100000ull;
	printk("touch: reading kernel memory at %p\n", (void *)kernel);
	return (int)*kernel;
}
module_init(init);
