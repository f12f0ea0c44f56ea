/*
 * lvd/glue.h - what IDL-generated domain glue is built on (docs/glue-abi.md).
 *
 * A call or reply is a stream of 64-bit words: word 0 the header, words 1..7 with it in
 * registers (struct lvd_msg), words 8..519 in this vCPU's extended register page. The
 * generated stubs write and read those words through a cursor (struct lvd_cursor) with
 * the inline helpers below; the few functions declared extern are the domain runtime's
 * (the domain library implements them; test/idl/domain_runtime.c is a small one).
 *
 * Object names (capabilities on the wire): an object shared across the boundary is named
 * by a cptr in the CSpace of the side that shared it first, with LVD_DOMAIN_NAME_BIT set
 * when that side is the domain; 0 is NULL. Each side's CSpace maps names to its own copy
 * of the object, typed. Functions the domain hands to the kernel (rpc_ptr values) are
 * registered in the domain's CSpace with type LVD_FN_TYPE(index), so the dispatcher calls
 * only functions the domain itself passed as that rpc_ptr.
 *
 * Freestanding C, no libc; builds with the machine flags (src/cli/compile.ts).
 */
#ifndef LVD_GLUE_H
#define LVD_GLUE_H

#include <lvd/types.h>

/* ------------------------------------------------------------------ wire format */

#define LVD_KIND_RPC 1u        /* domain -> kernel */
#define LVD_KIND_RPC_PTR 2u    /* kernel -> domain */
#define LVD_KIND_INIT 3u
#define LVD_KIND_EXIT 4u
#define LVD_KIND_SYSCALL 5u
#define LVD_KIND_REPLY 0x80u
#define LVD_KIND_ERROR 0x81u

#define LVD_REGISTER_WORDS 8u
#define LVD_EXT_WORDS 512u
#define LVD_MAX_WORDS (LVD_REGISTER_WORDS + LVD_EXT_WORDS)

/* Word 1 of an ERROR reply: why the receiver refused the message. */
#define LVD_ERR_CAPABILITY 1u  /* a name that is not an object of the expected type */
#define LVD_ERR_LENGTH 2u      /* the message ends early, or a count is wrong or too large */
#define LVD_ERR_MESSAGE 3u     /* unknown kind or index */
#define LVD_ERR_FUNCTION 4u    /* an rpc_ptr address the domain never registered */
#define LVD_ERR_MEMORY 5u      /* no memory for a copy, or the CSpace is full */
#define LVD_ERR_VALUE 6u       /* a union member out of range or not the discriminator's */

#define LVD_HEADER(kind, index, count) (((u64)(count) << 32) | ((u64)(kind) << 16) | (u64)(index))
#define LVD_HEADER_KIND(w) ((u32)((w) >> 16) & 0xffu)
#define LVD_HEADER_INDEX(w) ((u32)(w) & 0xffffu)
#define LVD_HEADER_COUNT(w) ((u32)((w) >> 32) & 0xffffu)

/* A NULL string or array, in the place of its length. */
#define LVD_NULL_COUNT (~0ull)
#define LVD_DOMAIN_NAME_BIT (1ull << 32)
/* Sent for an object the other side cannot know: it answers ERROR. */
#define LVD_NAME_INVALID (~0ull)
#define LVD_FN_TYPE_BASE 0x10000u
#define LVD_FN_TYPE(index) (LVD_FN_TYPE_BASE + (u32)(index))

/* Words 0..7 of a message. */
struct lvd_msg {
	u64 w[8];
};

/* ------------------------------------------------------------------ runtime API (extern) */

/* This vCPU's extended register page: words 8.. of the message. */
u64 *lvd_ext_words(void);
/* Sends m (words 0..7 here, the rest in the extended page) to the kernel; returns with the
   reply in the same places. 0 when a reply came back. */
int lvd_call_kernel(struct lvd_msg *m);
/* A new domain name for obj (0 when the CSpace is full). */
u64 lvd_cspace_insert(void *obj, u32 type);
/* Records obj as the domain's copy of the kernel's object `name`; 0 ok. */
int lvd_cspace_insert_at(u64 name, void *obj, u32 type);
/* The object `name` stands for, NULL if none or of another type. */
void *lvd_cspace_lookup(u64 name, u32 type);
/* The name obj is known by, 0 if none. */
u64 lvd_cspace_find(const void *obj, u32 type);
void lvd_cspace_remove(u64 name);
/* Memory for copies the glue makes (zeroing is the glue's job); lvd_glue_free(NULL) is a no-op. */
void *lvd_glue_alloc(size_t n);
void lvd_glue_free(void *p);

/* ------------------------------------------------------------------ cursor */

struct lvd_cursor {
	struct lvd_msg *m;
	u64 *ext;
	u32 pos;    /* next word */
	u32 count;  /* words in the message being read */
	u32 index;  /* the rpc index of the message being served (for an ERROR reply) */
	u32 error;  /* LVD_ERR_*: once set, puts are dropped and gets return 0 */
};

/* Starts writing a message into m. */
static inline void lvd_start(struct lvd_cursor *c, struct lvd_msg *m)
{
	c->m = m;
	c->ext = lvd_ext_words();
	c->pos = 1;
	c->count = 0;
	c->index = 0;
	c->error = 0;
}

/* Starts reading the message in m (its header says how many words it has). */
static inline void lvd_start_read(struct lvd_cursor *c, struct lvd_msg *m)
{
	lvd_start(c, m);
	c->count = LVD_HEADER_COUNT(m->w[0]);
	c->index = LVD_HEADER_INDEX(m->w[0]);
	if (c->count < 1 || c->count > LVD_MAX_WORDS) {
		c->error = LVD_ERR_LENGTH;
		c->count = 1;
	}
}

static inline void lvd_put(struct lvd_cursor *c, u64 v)
{
	if (c->error)
		return;
	if (c->pos >= LVD_MAX_WORDS) {
		c->error = LVD_ERR_LENGTH;
		return;
	}
	if (c->pos < LVD_REGISTER_WORDS)
		c->m->w[c->pos] = v;
	else
		c->ext[c->pos - LVD_REGISTER_WORDS] = v;
	c->pos++;
}

static inline u64 lvd_get(struct lvd_cursor *c)
{
	u64 v;

	if (c->error)
		return 0;
	if (c->pos >= c->count) {
		c->error = LVD_ERR_LENGTH;
		return 0;
	}
	v = c->pos < LVD_REGISTER_WORDS ? c->m->w[c->pos] : c->ext[c->pos - LVD_REGISTER_WORDS];
	c->pos++;
	return v;
}

/* Words left to read. */
static inline u64 lvd_left(struct lvd_cursor *c)
{
	return c->pos < c->count ? c->count - c->pos : 0;
}

/* Bytes packed little-endian into words (x86 is little-endian: a word is 8 bytes as in memory). */
static inline void lvd_put_bytes(struct lvd_cursor *c, const void *p, u64 n)
{
	const u8 *b = (const u8 *)p;
	u64 k, j;

	/* Whole words as they are (little-endian: the same packing), the tail byte by byte;
	   once in the extended page, in one copy. */
	for (k = 0; k + 8 <= n; k += 8) {
		u64 w;
		if (!c->error && c->pos >= LVD_REGISTER_WORDS && c->pos + (n - k) / 8 <= LVD_MAX_WORDS) {
			u64 words = (n - k) / 8;
			__builtin_memcpy(c->ext + (c->pos - LVD_REGISTER_WORDS), b + k, words * 8);
			c->pos += (u32)words;
			k += words * 8;
			break;
		}
		__builtin_memcpy(&w, b + k, 8);
		lvd_put(c, w);
	}
	if (k < n) {
		u64 w = 0;
		for (j = 0; k + j < n; j++)
			w |= (u64)b[k + j] << (8 * j);
		lvd_put(c, w);
	}
}

static inline void lvd_get_bytes(struct lvd_cursor *c, void *p, u64 n)
{
	u8 *b = (u8 *)p;
	u64 k, j;

	for (k = 0; k + 8 <= n; k += 8) {
		u64 w;
		if (!c->error && c->pos >= LVD_REGISTER_WORDS && c->pos + (n - k) / 8 <= c->count) {
			u64 words = (n - k) / 8;
			__builtin_memcpy(b + k, c->ext + (c->pos - LVD_REGISTER_WORDS), words * 8);
			c->pos += (u32)words;
			k += words * 8;
			break;
		}
		w = lvd_get(c);
		__builtin_memcpy(b + k, &w, 8);
	}
	if (k < n) {
		u64 w = lvd_get(c);
		for (j = 0; k + j < n; j++)
			b[k + j] = (u8)(w >> (8 * j));
	}
}

static inline void lvd_zero(void *p, u64 n)
{
	u8 *b = (u8 *)p;
	u64 k;

	for (k = 0; k < n; k++)
		b[k] = 0;
}

/* A count word; LVD_NULL_COUNT stays as it is; more elements than the message holds is an error. */
static inline u64 lvd_get_count(struct lvd_cursor *c, u32 element_size)
{
	u64 n = lvd_get(c);

	if (n == LVD_NULL_COUNT || c->error)
		return n;
	if (n > lvd_left(c) * 8 / element_size) {
		c->error = LVD_ERR_LENGTH;
		return 0;
	}
	return n;
}

/* Division in an array size: a zero divisor gives a size no array has (the count check fails). */
static inline u64 lvd_div(u64 a, u64 b)
{
	return b ? a / b : LVD_NULL_COUNT;
}

/* ------------------------------------------------------------------ strings and arrays */

static inline void lvd_put_string(struct lvd_cursor *c, const char *s)
{
	u64 n = 0;

	if (!s) {
		lvd_put(c, LVD_NULL_COUNT);
		return;
	}
	while (s[n])
		n++;
	lvd_put(c, n);
	lvd_put_bytes(c, s, n);
}

/* A received string in fresh memory, NUL-terminated (NULL for a NULL string). */
static inline char *lvd_get_string(struct lvd_cursor *c)
{
	u64 n = lvd_get_count(c, 1);
	char *s;

	if (n == LVD_NULL_COUNT || c->error)
		return NULL;
	s = (char *)lvd_glue_alloc(n + 1);
	if (!s) {
		c->error = LVD_ERR_MEMORY;
		return NULL;
	}
	lvd_get_bytes(c, s, n);
	s[n] = 0;
	return s;
}

/* Elements before the first zero one (array<T, null>). */
static inline u64 lvd_count_terminated(const void *p, u32 element_size)
{
	const u8 *b = (const u8 *)p;
	u64 n = 0;
	u32 j;

	if (!p)
		return 0;
	for (;; n++) {
		for (j = 0; j < element_size; j++)
			if (b[n * element_size + j])
				break;
		if (j == element_size)
			return n;
	}
}

/* An array: its count (LVD_NULL_COUNT for NULL), then its elements packed. */
static inline void lvd_put_array(struct lvd_cursor *c, const void *p, u64 n, u32 element_size)
{
	if (!p) {
		lvd_put(c, LVD_NULL_COUNT);
		return;
	}
	lvd_put(c, n);
	lvd_put_bytes(c, p, n * element_size);
}

/*
 * A received array in fresh memory. With `check`, its count must be `expected`. With
 * `with_data` 0 (an [out] array on the call) only the count came: the memory is zeroed
 * for the callee to fill. `terminate` adds a zero element (array<T, null>). The count
 * goes to *count.
 */
static inline void *lvd_get_array(struct lvd_cursor *c, u32 element_size, u64 expected, int check,
				  int with_data, int terminate, u64 *count)
{
	u64 n = with_data ? lvd_get_count(c, element_size) : lvd_get(c);
	u64 bytes;
	u8 *p;

	*count = 0;
	if (n == LVD_NULL_COUNT || c->error)
		return NULL;
	if ((check && n != expected) || n > LVD_EXT_WORDS * 8 / element_size) {
		c->error = LVD_ERR_LENGTH;
		return NULL;
	}
	bytes = n * element_size;
	p = (u8 *)lvd_glue_alloc(bytes + (terminate ? element_size : 0) + 1);
	if (!p) {
		c->error = LVD_ERR_MEMORY;
		return NULL;
	}
	if (with_data)
		lvd_get_bytes(c, p, bytes);
	else
		lvd_zero(p, bytes);
	if (terminate)
		lvd_zero(p + bytes, element_size);
	*count = n;
	return p;
}

/* A received array copied into the caller's own buffer, which holds exactly `expected` elements. */
static inline void lvd_get_array_into(struct lvd_cursor *c, void *p, u64 expected, u32 element_size)
{
	u64 n = lvd_get_count(c, element_size);

	if (c->error)
		return;
	if (n != expected) {
		c->error = LVD_ERR_LENGTH;
		return;
	}
	lvd_get_bytes(c, p, n * element_size);
}

/* ------------------------------------------------------------------ memory the glue owns */

/*
 * Ownership (docs/glue-abi.md, "Memory on the domain side"): strings and arrays the glue
 * received for one call are freed when the call is over; those it stores in a copy of a
 * kernel object (made by alloc) belong to that copy: storing a new one frees the old one,
 * dropping the copy frees them all. Stored in the driver's own objects, they are the
 * driver's.
 */

/* Stores p in the pointer field at slot; `own`: the field's old target is the glue's, freed. */
static inline void lvd_replace(void *slot, void *p, int own)
{
	void **s = (void **)slot;

	if (own)
		lvd_glue_free(*s);
	*s = p;
}

/* The most elements of an array of projections (the words of the extended page). */
#define LVD_MAX_OBJECTS 512u

/*
 * The count of an array of projections: LVD_NULL_COUNT for NULL (an error unless
 * `nullable`), `expected` when `check`, and no more elements than the rest of the message
 * can hold when each takes at least `min_words` words. 0 after an error.
 */
static inline u64 lvd_get_object_count(struct lvd_cursor *c, u64 expected, int check, int nullable, u32 min_words)
{
	u64 n = lvd_get(c);

	if (c->error)
		return 0;
	if (n == LVD_NULL_COUNT) {
		if (!nullable)
			c->error = LVD_ERR_LENGTH;
		return nullable ? n : 0;
	}
	if ((check && n != expected) || n > LVD_MAX_OBJECTS || (min_words && n > lvd_left(c) / min_words)) {
		c->error = LVD_ERR_LENGTH;
		return 0;
	}
	return n;
}

/*
 * A zeroed array of n elements of `size` bytes (and a zero one after them when
 * `terminate`) that the glue owns. It remembers n in the 16 bytes before it, so whoever
 * frees it (lvd_free_objects) can release the elements first.
 */
static inline void *lvd_alloc_objects(struct lvd_cursor *c, u64 n, size_t size, int terminate)
{
	u64 bytes = 16 + (n + (terminate ? 1 : 0)) * size;
	u8 *p;

	if (c->error)
		return NULL;
	p = (u8 *)lvd_glue_alloc(bytes);
	if (!p) {
		c->error = LVD_ERR_MEMORY;
		return NULL;
	}
	lvd_zero(p, bytes);
	*(u64 *)p = n;
	return p + 16;
}

/* The element count of an array lvd_alloc_objects made (0 for NULL). */
static inline u64 lvd_objects_count(const void *p)
{
	return p ? *(const u64 *)((const u8 *)p - 16) : 0;
}

static inline void lvd_free_objects(const void *p)
{
	if (p)
		lvd_glue_free((void *)((const u8 *)p - 16));
}

/* The pointers before the first NULL one (array<projection p *, null>). */
static inline u64 lvd_count_pointers(const void *const *p)
{
	u64 n = 0;

	if (!p)
		return 0;
	while (p[n])
		n++;
	return n;
}

/* ------------------------------------------------------------------ object names */

/* The name to send for obj. `alloc`: the receiver will make a copy, so an object without a
   name gets one; otherwise the receiver must know it already. */
static inline u64 lvd_name_of(const void *obj, u32 type, int alloc)
{
	u64 name;

	if (!obj)
		return 0;
	name = lvd_cspace_find(obj, type);
	if (name)
		return name;
	if (alloc) {
		name = lvd_cspace_insert((void *)obj, type);
		if (name)
			return name;
	}
	return LVD_NAME_INVALID;
}

/* The domain's object for a received name: found, or (alloc) a fresh zeroed copy of the kernel's. */
static inline void *lvd_object_of(struct lvd_cursor *c, u64 name, u32 type, size_t size, int alloc)
{
	void *obj;

	if (c->error || name == 0)
		return NULL;
	obj = lvd_cspace_lookup(name, type);
	if (obj)
		return obj;
	if (!alloc || (name & LVD_DOMAIN_NAME_BIT)) {
		c->error = LVD_ERR_CAPABILITY;
		return NULL;
	}
	obj = lvd_glue_alloc(size);
	if (!obj) {
		c->error = LVD_ERR_MEMORY;
		return NULL;
	}
	lvd_zero(obj, size);
	if (lvd_cspace_insert_at(name, obj, type)) {
		lvd_glue_free(obj);
		c->error = LVD_ERR_CAPABILITY;
		return NULL;
	}
	return obj;
}

/* Whether a received name stands for a copy the glue made of a kernel object (its memory is the glue's). */
static inline int lvd_is_copy(u64 name)
{
	return name != 0 && name != LVD_NAME_INVALID && !(name & LVD_DOMAIN_NAME_BIT);
}

/* Whether obj is a copy the glue made of a kernel object. */
static inline int lvd_owns(const void *obj, u32 type)
{
	return obj && lvd_is_copy(lvd_cspace_find(obj, type));
}

/* dealloc: forget obj's name; 1 if it is a copy the glue made, which the caller then frees
   (with what it owns: the generated drop_<type> functions do both). */
static inline int lvd_forget(const void *obj, u32 type)
{
	u64 name;

	if (!obj)
		return 0;
	name = lvd_cspace_find(obj, type);
	if (!name)
		return 0;
	lvd_cspace_remove(name);
	return !(name & LVD_DOMAIN_NAME_BIT);
}

/* dealloc of an object that owns no strings or arrays: forget its name, free a glue copy. */
static inline void lvd_drop(const void *obj, u32 type)
{
	if (lvd_forget(obj, type))
		lvd_glue_free((void *)obj);
}

/* ------------------------------------------------------------------ functions (rpc_ptr values) */

/* The word for a function the domain hands out as rpc_ptr `index`: its address, registered. */
static inline u64 lvd_fn_word(void *fn, u32 index)
{
	if (!fn)
		return 0;
	if (!lvd_cspace_find(fn, LVD_FN_TYPE(index)))
		lvd_cspace_insert(fn, LVD_FN_TYPE(index));
	return (u64)(unsigned long)fn;
}

/* Whether `address` is a function the domain registered as rpc_ptr `index` (0, NULL, is fine). */
static inline int lvd_fn_known(u64 address, u32 index)
{
	return address == 0 || lvd_cspace_find((const void *)(unsigned long)address, LVD_FN_TYPE(index)) != 0;
}

/* ------------------------------------------------------------------ calls and replies */

/* Sends the message built in c to the kernel and starts reading the reply; 0 when it is a REPLY. */
static inline u32 lvd_call(struct lvd_cursor *c, u32 kind, u32 index)
{
	struct lvd_msg *m = c->m;
	u32 error = c->error;

	if (error)
		return error;
	m->w[0] = LVD_HEADER(kind, index, c->pos);
	if (lvd_call_kernel(m))
		return c->error = LVD_ERR_MESSAGE;
	lvd_start_read(c, m);
	if (c->error)
		return c->error;
	if (LVD_HEADER_KIND(m->w[0]) == LVD_KIND_ERROR)
		return c->error = c->count > 1 && m->w[1] ? (u32)m->w[1] : LVD_ERR_MESSAGE;
	if (LVD_HEADER_KIND(m->w[0]) != LVD_KIND_REPLY || LVD_HEADER_INDEX(m->w[0]) != index)
		return c->error = LVD_ERR_MESSAGE;
	return 0;
}

/* Refuses the message being served: an ERROR reply with the reason. Returns the reason. */
static inline int lvd_refuse(struct lvd_cursor *c, u32 error)
{
	c->m->w[0] = LVD_HEADER(LVD_KIND_ERROR, c->index, 2);
	c->m->w[1] = error;
	return (int)error;
}

/* Starts the reply to the message being served (the request has been read). */
static inline void lvd_start_reply(struct lvd_cursor *c)
{
	c->pos = 1;
	c->error = 0;
}

/* Ends the reply: its header, or ERROR if it did not fit. Returns 0 or the error. */
static inline int lvd_finish_reply(struct lvd_cursor *c)
{
	if (c->error)
		return lvd_refuse(c, c->error);
	c->m->w[0] = LVD_HEADER(LVD_KIND_REPLY, c->index, c->pos);
	return 0;
}

#endif /* LVD_GLUE_H */
