/* A module whose worker thread dereferences a bad pointer: the thread is killed with a
   report (an oops), and the kernel goes on. */
#include <lvd/kernel.h>

static long bad_worker(void *arg) {
	volatile u64 *p = (volatile u64 *)arg;
	printk("fault: about to read %p\n", (void *)p);
	return (long)*p;
}

static int fault_init(void) {
	int id = kthread_run(bad_worker, (void *)0x1234, "faulty");
	long r = kthread_join(id);
	printk("fault: worker returned %ld\n", r);
	return 0;
}
module_init(fault_init);
