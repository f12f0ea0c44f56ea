/* dummy.h: the dummy driver's own declarations (the IDL's `header "dummy.h";`). */
#ifndef DUMMY_H
#define DUMMY_H

#include <lvd/glue.h>

struct dummy_device {
	u32 id;
	const char *name;
	int (*probe)(struct dummy_device *dev);
	void (*remove)(struct dummy_device *dev);
	u32 state;
	/* The driver's private data: never crosses. */
	u64 private_counter;
	void *private_buffer;
};

int dummy_register(struct dummy_device *dev);
void dummy_unregister(struct dummy_device *dev);
void dummy_log(const char *message);

#endif
