/* An isolated driver that only uses the domain library: printk, the heap, the vCPU id. */
#include <lvd/domain.h>

static char message[] = "inside the domain";

static int hello_init(void) {
	char *p = malloc(100);
	for (int i = 0; i < 100; i++)
		p[i] = (char)i;
	int sum = 0;
	for (int i = 0; i < 100; i++)
		sum += p[i];
	free(p);
	printk("hello: %s on cpu %d, sum %d\n", message, lvd_cpu(), sum);
	return 42;
}

static void hello_exit(void) {
	printk("hello: bye\n");
}

module_init(hello_init);
module_exit(hello_exit);
