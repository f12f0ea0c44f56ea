/*
 * roundtrip_driver.c - the "driver" of the marshaling round-trip test: plain C that calls
 * the rpcs of test/idl/cases/roundtrip.idl through the generated glue and checks what
 * comes back; its callbacks are the rpc_ptrs the kernel calls. The kernel's side is
 * TypeScript in test/idl/roundtrip.test.ts, which checks what arrives.
 *
 * Prints "ok <check>" or "FAIL <check>" per check; lvd_main returns the failures.
 */
#include <lvd_bare.h>
#include "roundtrip_glue.h"

extern u64 lvd_test_last_header;
extern u64 lvd_test_last_word1;
extern long lvd_test_live_allocations;

static int failures;

static void check(int ok, const char *what)
{
	lvd_puts(ok ? "ok " : "FAIL ");
	lvd_puts(what);
	lvd_putc('\n');
	if (!ok)
		failures++;
}

#define CHECK(e) check((e), #e)

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static int last_reply_was_error(u32 why)
{
	return LVD_HEADER_KIND(lvd_test_last_header) == LVD_KIND_ERROR && lvd_test_last_word1 == why;
}

/* ------------------------------------------------------------------ callbacks (rpc_ptrs) */

static s32 add(s32 a, s32 b)
{
	return a + b;
}

static void hello(const char *who, u32 *len)
{
	u32 n = 0;

	lvd_puts("hello, ");
	lvd_puts(who);
	lvd_putc('\n');
	while (who[n])
		n++;
	*len = n;
}

static s64 visit(struct point *p)
{
	s64 seen = (s64)p->x * 1000 + p->y;

	p->y = -p->y;
	return seen;
}

static s32 items_cb(u32 n, struct item *items)
{
	u32 k;

	for (k = 0; k < n; k++) {
		u32 len = 0;

		while (items[k].label[len])
			len++;
		items[k].score = (s32)(items[k].id * 100 + len);
	}
	return (s32)n;
}

/* Never handed to the kernel: the kernel's test calls it by address and must be refused. */
s32 lvd_test_unregistered_add(s32 a, s32 b)
{
	return a - b;
}

static struct ops ops = { add, hello };

/* ------------------------------------------------------------------ the checks */

static u64 values[32];
static u8 big[4096];
static char long_string[257];

int lvd_main(void)
{
	int k;

	/* Integers of every width and sign cross unchanged. */
	CHECK(ints(200, -5, 60000, -300, 4000000000u, -70000, 0xfedcba9876543210ull, -1234567890123ll, 1, 'z') == -1234567890128ll);

	/* Strings, NULL included; a 256-byte one; a string coming back. */
	CHECK(str_len("hello, domain", NULL) == 1013);
	for (k = 0; k < 256; k++)
		long_string[k] = (char)('a' + k % 26);
	CHECK(str_len(long_string, "x") == 256);
	{
		char *s = greet("world");

		CHECK(s && streq(s, "hello, world"));
		lvd_glue_free(s);
	}

	/* Arrays: constant size, [out], [in,out], null-terminated, a 4 KB buffer. */
	for (k = 0; k < 32; k++)
		values[k] = (u64)(k + 1) << 32;
	CHECK(sum32(values) == 528ull << 32);
	{
		u8 buf[16];
		int good = 1;

		for (k = 0; k < 16; k++)
			buf[k] = 0xee;
		fill(10, buf);
		for (k = 0; k < 10; k++)
			good &= buf[k] == (u8)(k * 3);
		for (k = 10; k < 16; k++)
			good &= buf[k] == 0xee;
		CHECK(good /* fill: 10 bytes written, the rest untouched */);
	}
	{
		s32 v[5] = { 1, -2, 3, -4, 5 };

		twice(5, v);
		CHECK(v[0] == 2 && v[1] == -4 && v[2] == 6 && v[3] == -8 && v[4] == 10);
	}
	{
		u16 words[] = { 1, 2, 3, 0, 9 };

		CHECK(count_words(words) == 306);
	}
	{
		u64 sum = 0;

		for (k = 0; k < 4096; k++) {
			big[k] = (u8)(k * 7);
			sum += big[k];
		}
		CHECK(checksum(4096, big) == sum);
	}

	/* Pointers to integers: [out] and [in,out]. */
	{
		u32 q = 0, r = 0;
		u64 counter = 41;

		divmod(17, 5, &q, &r);
		CHECK(q == 3 && r == 2);
		bump(&counter);
		CHECK(counter == 42);
	}

	/* A projection: [in] fields reach the kernel's new copy (alloc), [out] and [in,out]
	   come back, [in] ones do not. Then bind finds that copy; dealloc drops it; after
	   that, its name is refused. */
	{
		struct shape s = { 0 };

		s.kind = 3;
		s.area = -1;
		s.version = 7;
		s.origin.x = 10;
		s.origin.y = -20;
		s.label = "square";
		s.tag[0] = 1;
		s.tag[1] = 2;
		s.tag[2] = 3;
		s.tag[3] = 4;
		CHECK(measure(&s) == 77);
		CHECK(s.area == 310 && s.version == 8);
		CHECK(s.tag[0] == 4 && s.tag[1] == 3 && s.tag[2] == 2 && s.tag[3] == 1);
		CHECK(s.kind == 3 /* [in] only: the kernel's change stays there */);
		s.kind = 4;
		CHECK(area_of(&s) == 310);
		forget(&s);
		CHECK(area_of(&s) == 0 && last_reply_was_error(LVD_ERR_CAPABILITY));
	}

	/* An object the kernel makes: the domain gets its own copy (alloc(caller)), and
	   naming it again reaches the kernel's object (bind). */
	{
		struct point *p = make_point(5, 6);

		CHECK(p && p->x == 5 && p->y == 6);
		CHECK(point_sum(p) == 11);

		/* The kernel calls the domain back with the same object: the domain finds its copy. */
		set_visitor(visit);
		CHECK(visit_point(p) == 5006 - 6 * 1000000);
		CHECK(p->y == -6);
	}

	/* A linked list through pointers: each node a new copy on the kernel's side. */
	{
		struct node n4 = { 4, NULL }, n3 = { 3, &n4 }, n2 = { 2, &n3 }, n1 = { 1, &n2 };

		CHECK(list_sum(&n1) == 10);
	}

	/* A union chosen by a field; its member comes back ([in,out]). */
	{
		struct tagged t = { 0 };

		t.kind = 0;
		t.v.number = -42;
		CHECK(union_call(&t) == 0 && t.v.number == 42);
		t.kind = 1;
		for (k = 0; k < 8; k++)
			t.v.bytes[k] = (u8)k;
		CHECK(union_call(&t) == 10 && t.v.bytes[0] == 7 && t.v.bytes[7] == 0);
		t.kind = 2;
		t.v.pt.x = 1;
		t.v.pt.y = 2;
		CHECK(union_call(&t) == 20 && t.v.pt.x == 2 && t.v.pt.y == 1);
		t.kind = 9;
		CHECK(union_call(&t) == 0 /* no such member: the glue does not send it */);
	}

	/* any_of: a void * that is a string, bytes or a point, as an argument says. */
	{
		u8 bytes[16];
		struct point pt = { 30, 12 };

		for (k = 0; k < 16; k++)
			bytes[k] = (u8)k;
		CHECK(any_len(0, "four") == 4);
		CHECK(any_len(1, bytes) == 120);
		CHECK(any_len(2, &pt) == 42);
	}

	/* Function pointers: the kernel calls the driver back while serving a call. */
	CHECK(register_ops(&ops) == 607);
	CHECK(run_callback(add, 21) == 42);

	/* Arrays of projections: elements by value ([out] fields come back into the driver's
	   array), inline in a struct and by reference, NULL-terminated. */
	{
		struct item items[3] = { { 1, "a", 0 }, { 2, "bb", 0 }, { 3, "ccc", 0 } };

		CHECK(score_items(3, items) == 6);
		CHECK(items[0].score == 10 && items[1].score == 40 && items[2].score == 90);
	}
	{
		struct point a = { 1, 2 }, b = { 3, 4 }, d = { 5, 6 };
		struct point *pp[3] = { &a, &b, &d };
		struct point *list[3] = { &a, &b, NULL };
		struct shelf s = { 0 };

		s.count = 3;
		s.corners[0].x = 100;
		s.corners[1].y = 200;
		s.points = pp;
		CHECK(shelf_sum(&s) == 321);
		CHECK(sum_points(list) == 10);
	}
	/* The kernel calls the driver with an array of items: what the glue allocated for the
	   call (the array, the labels) is freed when the call is over. */
	{
		long live = lvd_test_live_allocations;

		CHECK(run_items(items_cb) == 2);
		CHECK(lvd_test_live_allocations == live);
	}

	/* An object the kernel makes, handed back through an out-parameter: the domain gets its copy. */
	{
		struct thing *t = NULL;

		CHECK(make_thing(7, &t) == 0 && t && t->n == 7 && streq(t->name, "thing 7"));
		CHECK(thing_n(t) == 7);
	}

	/* The kernel's side checks that the domain refuses what it must. */
	CHECK(kernel_checks() == 0);

	return failures;
}
