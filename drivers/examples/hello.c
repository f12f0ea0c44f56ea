/* A native kernel module: logs, allocates, and runs work in kernel threads. */
#include <lvd/kernel.h>

static u64 crunch(u64 seed, int rounds) {
	u64 x = seed;
	for (int i = 0; i < rounds; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static long worker(void *arg) {
	long n = (long)arg;
	u64 r = crunch(n + 1, 200000);
	printk("hello: worker %ld done on cpu %d: %llx\n", n, smp_processor_id(), r);
	return (long)(r & 0xffff);
}

static int hello_init(void) {
	int ids[6];
	char *buf = kmalloc(64);
	printk("hello: init on cpu %d, buffer at %p\n", smp_processor_id(), buf);
	for (int i = 0; i < 6; i++) ids[i] = kthread_run(worker, (void *)(long)i, "hello-worker");
	long sum = 0;
	for (int i = 0; i < 6; i++) sum += kthread_join(ids[i]);
	kfree(buf);
	printk("hello: all workers done, checksum %ld\n", sum);
	return 0;
}

static void hello_exit(void) {
	printk("hello: goodbye\n");
}

module_init(hello_init);
module_exit(hello_exit);
