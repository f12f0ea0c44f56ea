/* A module that calls a function the kernel does not export. */
#include <lvd/kernel.h>
void no_such_kernel_function(void);
static int init(void) {
	no_such_kernel_function();
	return 0;
}
module_init(init);
