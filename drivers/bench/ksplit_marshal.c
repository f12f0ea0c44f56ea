/*
 * The marshaling cases KSplit measured (reference Table 4), as an isolated driver: each
 * kernel function of idl/ksplit_marshal.idl called N times through the generated glue
 * and the springboard, timed with RDTSC inside the domain. The kernel reads the results
 * from lvd_bench_results when init is done.
 */
#include <lvd/kernel.h>
#include "ksplit_marshal_glue.h"

#define N 50

u64 lvd_bench_results[6];

static u64 values[32];
static char text[257];
static u8 buffer[4096];

#define TIME(slot, call)                               \
	do {                                           \
		call;                                  \
		u64 t0 = rdtsc();                      \
		for (int i = 0; i < N; i++)            \
			call;                          \
		lvd_bench_results[slot] = (rdtsc() - t0) / N; \
	} while (0)

static int bench_init(void) {
	struct message msg = {.kind = 2, .body.point = {.x = 3, .y = 4}};
	for (int i = 0; i < 32; i++)
		values[i] = i * 0x0101010101010101ull;
	for (int i = 0; i < 256; i++)
		text[i] = 'a' + i % 26;
	for (int i = 0; i < 4096; i++)
		buffer[i] = (u8)i;
	TIME(0, null_call());
	TIME(1, integer(42));
	TIME(2, array_u64(values));
	TIME(3, string_256(text));
	TIME(4, void_buffer(sizeof buffer, buffer));
	TIME(5, union_call(&msg));
	printk("ksplit_marshal: %llu %llu %llu %llu %llu %llu cycles\n", lvd_bench_results[0], lvd_bench_results[1],
	       lvd_bench_results[2], lvd_bench_results[3], lvd_bench_results[4], lvd_bench_results[5]);
	return integer(41) == 42 && union_call(&msg) == 7 ? 0 : -1;
}

module_init(bench_init);
