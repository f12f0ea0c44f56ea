/*
 * An example driver to isolate (README, "Isolating a driver"). It uses only what both
 * worlds provide (<lvd/kernel.h>): as a native module these are the kernel's exports; in
 * a domain the domain library provides them (printk through a domain syscall, kmalloc
 * from the domain's heap).
 */
#include <lvd/kernel.h>

struct table {
	u64 slots[64];
	int used;
};

static struct table *table;

static u64 hash(u64 x) {
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int isolate_me_init(void) {
	table = kmalloc(sizeof *table);
	if (!table)
		return -12;
	for (int i = 0; i < 64; i++)
		table->slots[i] = hash(i);
	table->used = 64;
	printk("isolate_me: table of %d slots at %p on cpu %d, slot[7] = %llx\n", table->used, table,
	       smp_processor_id(), table->slots[7]);
	return 0;
}

static void isolate_me_exit(void) {
	printk("isolate_me: freeing the table\n");
	kfree(table);
}

module_init(isolate_me_init);
module_exit(isolate_me_exit);
