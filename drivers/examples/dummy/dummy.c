/*
 * The dummy driver, isolated through idl/dummy.idl (README, "Isolating a driver with an
 * IDL"). It calls dummy_register, dummy_log and dummy_unregister as if they were kernel
 * functions: the generated glue carries them across. The kernel calls its probe and
 * remove back through the glue's dispatcher.
 */
#include <lvd/kernel.h>
#include "dummy.h"

static struct dummy_device dev;

static int dummy_probe(struct dummy_device *d) {
	d->state = 1;
	d->private_counter++;
	printk("dummy: probe of device %u (%s): state %u\n", d->id, d->name, d->state);
	return 0;
}

static void dummy_remove(struct dummy_device *d) {
	d->state = 0;
	printk("dummy: remove of device %u\n", d->id);
}

static int dummy_init(void) {
	dev.id = 7;
	dev.name = "dummy0";
	dev.probe = dummy_probe;
	dev.remove = dummy_remove;
	dummy_log("hello from the dummy driver");
	int status = dummy_register(&dev);
	printk("dummy: registered, status %d, state %u\n", status, dev.state);
	return status;
}

static void dummy_exit(void) {
	dummy_unregister(&dev);
	printk("dummy: unregistered, state %u\n", dev.state);
}

module_init(dummy_init);
module_exit(dummy_exit);
