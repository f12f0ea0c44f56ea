/* lvd/types.h - the integer types and NULL of kernel and domain code (freestanding). */
#ifndef LVD_TYPES_H
#define LVD_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned long size_t;

#ifndef NULL
#define NULL ((void *)0)
#endif

#endif
