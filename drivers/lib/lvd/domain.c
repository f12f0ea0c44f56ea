/*
 * The domain library: what every isolated driver is linked with. Message dispatch (module
 * init/exit and the kernel's calls of the driver's callbacks through the generated
 * glue), the glue runtime of <lvd/glue.h> (extended register page, CSpace, memory) and a
 * heap. The syscalls, printk among them, are syscalls.c.
 */
#include <lvd/domain.h>

int init_module(void) __attribute__((weak));
void cleanup_module(void) __attribute__((weak));
/* The IDL compiler's generated dispatcher, when the driver has glue. */
int lvd_dispatch(struct lvd_msg *m) __attribute__((weak));

/* Resolved by the kernel when it links the domain: its per-CPU state page (read-only
   here, it says which vCPU this is) and the first of its extended register pages. */
extern const volatile u64 lvd_state_page[];
extern u64 lvd_domain_ext[];
#define STATE_CPU 2 /* quadword index: src/kernel/lvd/layout.ts STATE.cpu */

static void reply(struct lvd_msg *m, u32 kind, u32 count) {
	m->w[0] = LVD_HEADER(kind, 0, count);
}

/* Called by lvd_domain_entry with the incoming message; leaves the reply in it. */
void lvd_dispatch_message(struct lvd_msg *m) {
	u32 kind = LVD_HEADER_KIND(m->w[0]);
	if (kind == LVD_KIND_INIT) {
		m->w[1] = init_module ? (u64)(s64)init_module() : 0;
		reply(m, LVD_KIND_REPLY, 2);
	} else if (kind == LVD_KIND_EXIT) {
		if (cleanup_module)
			cleanup_module();
		reply(m, LVD_KIND_REPLY, 1);
	} else if (kind == LVD_KIND_RPC_PTR && lvd_dispatch) {
		lvd_dispatch(m); /* its reply (REPLY, or ERROR with the reason) is in m */
	} else {
		reply(m, LVD_KIND_ERROR, 1);
	}
}

/* ------------------------------------------------------------------ glue runtime */

u64 *lvd_ext_words(void) {
	return lvd_domain_ext + lvd_state_page[STATE_CPU] * (4096 / 8);
}

#define CSPACE_SLOTS 1024
static struct {
	u64 name;
	void *obj;
	u32 type;
} cspace[CSPACE_SLOTS];
static u64 next_name = 1;
/* Slots at and above `top` have never been used: lookups stop there. */
static int top;

static int free_slot(void) {
	for (int i = 0; i < CSPACE_SLOTS; i++) {
		if (cspace[i].name == 0) {
			if (i >= top)
				top = i + 1;
			return i;
		}
	}
	return -1;
}

u64 lvd_cspace_insert(void *obj, u32 type) {
	int i = free_slot();
	if (i < 0)
		return 0;
	cspace[i].name = LVD_DOMAIN_NAME_BIT | next_name++;
	cspace[i].obj = obj;
	cspace[i].type = type;
	return cspace[i].name;
}

int lvd_cspace_insert_at(u64 name, void *obj, u32 type) {
	int i = free_slot();
	if (i < 0 || name == 0 || (name & LVD_DOMAIN_NAME_BIT) || lvd_cspace_lookup(name, type))
		return -1;
	cspace[i].name = name;
	cspace[i].obj = obj;
	cspace[i].type = type;
	return 0;
}

void *lvd_cspace_lookup(u64 name, u32 type) {
	for (int i = 0; name && i < top; i++)
		if (cspace[i].name == name && cspace[i].type == type)
			return cspace[i].obj;
	return NULL;
}

u64 lvd_cspace_find(const void *obj, u32 type) {
	for (int i = 0; i < top; i++)
		if (cspace[i].name && cspace[i].obj == obj && cspace[i].type == type)
			return cspace[i].name;
	return 0;
}

void lvd_cspace_remove(u64 name) {
	for (int i = 0; name && i < top; i++)
		if (cspace[i].name == name)
			cspace[i].name = 0;
}

void *lvd_glue_alloc(size_t n) {
	return malloc(n);
}

void lvd_glue_free(void *p) {
	free(p);
}

/* Which vCPU this is: the state page says (no crossing needed). */
int lvd_cpu(void) {
	return (int)lvd_state_page[STATE_CPU];
}

int smp_processor_id(void) {
	return lvd_cpu();
}

/* ------------------------------------------------------------------ heap */

/* First fit over blocks with a size header, grown by whole pages. */
struct block {
	size_t size; /* bytes after the header; low bit: in use */
	struct block *next;
};
static struct block *heap;

void *malloc(size_t n) {
	n = (n + 15) & ~(size_t)15;
	for (struct block *b = heap; b; b = b->next) {
		if (!(b->size & 1) && b->size >= n) {
			if (b->size >= n + sizeof(struct block) + 16) {
				struct block *rest = (struct block *)((char *)(b + 1) + n);
				rest->size = b->size - n - sizeof(struct block);
				rest->next = b->next;
				b->next = rest;
				b->size = n;
			}
			b->size |= 1;
			return b + 1;
		}
	}
	u64 pages = (n + sizeof(struct block) + 4095) / 4096;
	struct block *b = lvd_alloc_pages(pages);
	if (b == (void *)-1 || !b)
		return NULL;
	b->size = pages * 4096 - sizeof(struct block);
	b->next = heap;
	heap = b;
	return malloc(n);
}

void free(void *p) {
	if (p)
		((struct block *)p - 1)->size &= ~(size_t)1;
}

void *kmalloc(size_t n) {
	return malloc(n);
}
void kfree(void *p) {
	free(p);
}
