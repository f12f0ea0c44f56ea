/* A module whose init fails: the load is undone. */
#include <lvd/kernel.h>
static int init(void) {
	printk("init_fails: refusing to load\n");
	return -19; /* -ENODEV */
}
module_init(init);
