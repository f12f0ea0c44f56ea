/*
 * domain_runtime.c - the domain side of the glue runtime (<lvd/glue.h>), small and
 * simple, for the marshaling round-trip test on the bare machine
 * (test/idl/roundtrip.test.ts). The real one belongs to the LVD domain library.
 *
 * The crossing: lvd_call_kernel loads the message's words 0..7 into rdi, rsi, rdx,
 * r8..r12 (docs/glue-abi.md) and calls lvd_test_kernel_gate, an address the test binds
 * to TypeScript (a native gate): the test's kernel reads the registers and the extended
 * page, serves the call, and returns with the reply in the same registers. The kernel
 * calls the domain by running lvd_dispatch(&lvd_test_incoming), returning to
 * lvd_test_return_gate (another native gate).
 */
#include <lvd/glue.h>

/* This vCPU's extended register page, and the message the kernel's calls arrive in. */
u64 lvd_test_ext_page[LVD_EXT_WORDS] __attribute__((aligned(4096)));
struct lvd_msg lvd_test_incoming;

/* The kernel's heap for this test: its objects live in guest memory. */
u8 lvd_test_kernel_heap[1 << 18] __attribute__((aligned(4096)));

/* The header and word 1 of the last reply the domain got, for checks of ERROR replies. */
u64 lvd_test_last_header;
u64 lvd_test_last_word1;

u64 *lvd_ext_words(void)
{
	return lvd_test_ext_page;
}

/* Native gates: fetching here runs the test's TypeScript; the bytes never execute. */
void lvd_test_kernel_gate(void)
{
	__asm__ volatile("ud2");
}

void lvd_test_return_gate(void)
{
	__asm__ volatile("ud2");
}

int lvd_call_kernel(struct lvd_msg *m)
{
	register u64 w3 __asm__("r8") = m->w[3];
	register u64 w4 __asm__("r9") = m->w[4];
	register u64 w5 __asm__("r10") = m->w[5];
	register u64 w6 __asm__("r11") = m->w[6];
	register u64 w7 __asm__("r12") = m->w[7];
	u64 w0 = m->w[0], w1 = m->w[1], w2 = m->w[2];

	__asm__ volatile("call lvd_test_kernel_gate"
			 : "+D"(w0), "+S"(w1), "+d"(w2), "+r"(w3), "+r"(w4), "+r"(w5), "+r"(w6), "+r"(w7)
			 :
			 : "rax", "rcx", "memory", "cc");
	m->w[0] = w0;
	m->w[1] = w1;
	m->w[2] = w2;
	m->w[3] = w3;
	m->w[4] = w4;
	m->w[5] = w5;
	m->w[6] = w6;
	m->w[7] = w7;
	lvd_test_last_header = w0;
	lvd_test_last_word1 = w1;
	return 0;
}

/* ------------------------------------------------------------------ CSpace */

#define CSPACE_SLOTS 512

struct cspace_slot {
	u64 name;  /* 0: free */
	const void *obj;
	u32 type;
};

static struct cspace_slot cspace[CSPACE_SLOTS];
static u64 next_cptr = 1;
int lvd_test_cspace_used;

static struct cspace_slot *free_slot(void)
{
	int k;

	for (k = 0; k < CSPACE_SLOTS; k++)
		if (!cspace[k].name)
			return &cspace[k];
	return NULL;
}

static struct cspace_slot *slot_of(u64 name)
{
	int k;

	for (k = 0; k < CSPACE_SLOTS; k++)
		if (cspace[k].name == name)
			return &cspace[k];
	return NULL;
}

u64 lvd_cspace_insert(void *obj, u32 type)
{
	struct cspace_slot *s = free_slot();

	if (!s || next_cptr > 0xffffffffull)
		return 0;
	s->name = LVD_DOMAIN_NAME_BIT | next_cptr++;
	s->obj = obj;
	s->type = type;
	lvd_test_cspace_used++;
	return s->name;
}

int lvd_cspace_insert_at(u64 name, void *obj, u32 type)
{
	struct cspace_slot *s;

	if (!name || (name & LVD_DOMAIN_NAME_BIT) || name > 0xffffffffull || slot_of(name))
		return -1;
	s = free_slot();
	if (!s)
		return -1;
	s->name = name;
	s->obj = obj;
	s->type = type;
	lvd_test_cspace_used++;
	return 0;
}

void *lvd_cspace_lookup(u64 name, u32 type)
{
	struct cspace_slot *s = name ? slot_of(name) : NULL;

	return s && s->type == type ? (void *)s->obj : NULL;
}

u64 lvd_cspace_find(const void *obj, u32 type)
{
	int k;

	for (k = 0; k < CSPACE_SLOTS; k++)
		if (cspace[k].name && cspace[k].obj == obj && cspace[k].type == type)
			return cspace[k].name;
	return 0;
}

void lvd_cspace_remove(u64 name)
{
	struct cspace_slot *s = name ? slot_of(name) : NULL;

	if (s) {
		s->name = 0;
		lvd_test_cspace_used--;
	}
}

/* ------------------------------------------------------------------ glue memory */

static u8 arena[1 << 18] __attribute__((aligned(16)));
static u64 arena_used;
/* Allocations minus frees, for the test's leak checks. */
long lvd_test_live_allocations;

void *lvd_glue_alloc(size_t n)
{
	u8 *p;

	n = (n + 15) & ~(size_t)15;
	if (arena_used + n > sizeof(arena))
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	lvd_test_live_allocations++;
	return p;
}

void lvd_glue_free(void *p)
{
	if (p)
		lvd_test_live_allocations--;
}
