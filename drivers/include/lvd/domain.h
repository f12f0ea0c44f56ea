/*
 * The domain's world (src/kernel/lvd): what an isolated driver can use. Kernel functions
 * the driver imports come from its IDL's generated glue; these are the domain library's
 * own (drivers/lib/lvd) and the domain syscalls.
 */
#ifndef LVD_DOMAIN_H
#define LVD_DOMAIN_H

#include <lvd/kernel.h>
#include <lvd/glue.h> /* the wire format, struct lvd_msg, the CSpace */

/* Domain syscalls (LVD_KIND_SYSCALL, the index is the number). */
#define LVD_SYS_EXIT 0
#define LVD_SYS_PRINTK 1
#define LVD_SYS_ALLOC_PAGES 2
#define LVD_SYS_CPU 3
#define LVD_SYS_MAP 4
#define LVD_SYS_UNMAP 5
#define LVD_SYS_CAP_DELETE 6
#define LVD_SYS_CAP_REVOKE 7
#define LVD_SYS_CAP_GRANT 8
#define LVD_SYS_CAP_INFO 9

/* The syscalls (lvd_call_kernel, lvd_ext_words and the CSpace are declared in glue.h). */
void lvd_exit(int code) __attribute__((noreturn));
void *lvd_alloc_pages(u64 n);
int lvd_cpu(void);

/*
 * Capabilities (src/kernel/lvd/capabilities.ts): the kernel's objects this domain may use,
 * named by capability pointers (cptrs) the kernel hands it. A memory region (machine pages
 * the kernel lends) is mapped into the window's mappings area; a domain capability lets it
 * grant capabilities to that domain. Bad arguments return a negative LVD_E* code; touching
 * memory that was unmapped or revoked kills the domain (an EPT violation).
 */
typedef u64 lvd_cptr_t;

#define LVD_RIGHT_READ 1
#define LVD_RIGHT_WRITE 2
#define LVD_RIGHT_GRANT 4 /* may be passed on (lvd_cap_grant) */

#define LVD_CAP_REGION 1
#define LVD_CAP_DOMAIN 2

#define LVD_EPERM (-1)   /* the capability does not allow it */
#define LVD_ENOENT (-2)  /* no capability at that cptr, no mapping at that address */
#define LVD_ESRCH (-3)   /* the domain named is stopped */
#define LVD_EBUSY (-16)  /* the capability is mapped already */
#define LVD_EEXIST (-17) /* something else is mapped in that range */
#define LVD_EINVAL (-22) /* wrong type, meaningless rights, address outside the area */
#define LVD_ENOSPC (-28) /* the receiving capability space is full */

/* The mappings area: LVD_MAPPINGS_SIZE bytes at lvd_mappings() (src/kernel/lvd/layout.ts
   MAPPINGS_OFFSET). Windows are 64 MB aligned and the image lies at the start of its
   window, so any of the domain's own addresses gives the window. */
#define LVD_WINDOW_SIZE (64ull << 20)
#define LVD_MAPPINGS_OFFSET (56ull << 20)
#define LVD_MAPPINGS_SIZE (6ull << 20)
static inline char *lvd_mappings(void) {
	return (char *)(((u64)&lvd_call_kernel & ~(LVD_WINDOW_SIZE - 1)) + LVD_MAPPINGS_OFFSET);
}

/* Maps the whole region `cap` at `addr` (page-aligned, in the mappings area), readable, and
   writable if `rights` is LVD_RIGHT_READ | LVD_RIGHT_WRITE; never executable. 0 or LVD_E*. */
long lvd_map(lvd_cptr_t cap, void *addr, u64 rights);
/* Unmaps the region mapped at `addr` (the address it was mapped at). */
long lvd_unmap(void *addr);
/* Drops the capability, its mapping and everything derived from it (grants onward). */
long lvd_cap_delete(lvd_cptr_t cap);
/* Takes back everything derived from the capability, keeping it. */
long lvd_cap_revoke(lvd_cptr_t cap);
/* Grants the domain named by `domain` (a domain capability) a capability derived from `cap`
   with `rights` (at most cap's; cap needs LVD_RIGHT_GRANT). Returns the cptr in that
   domain (> 0) or LVD_E*. */
long lvd_cap_grant(lvd_cptr_t cap, lvd_cptr_t domain, u64 rights);
/* Type (bits 7:0), rights (15:8), and the region's pages or the domain's id (from bit 16). */
long lvd_cap_info(lvd_cptr_t cap);

/* The domain's heap. */
void *malloc(size_t n);
void free(void *p);

#endif
