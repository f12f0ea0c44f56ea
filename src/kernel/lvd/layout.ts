// Where domains live (reference §4-5).
//
// Virtual: each domain has a 64 MB window in the top 2 GB (gcc's kernel code model, as the
// real system keeps a module's sections at kernel-module addresses), above the kernel's
// modules area and disjoint from everything the kernel or user space maps (Inv 1). The
// kernel's page tables never map a window; a domain's page table maps only its window
// and the few kernel pages a crossing or an interrupt needs.
// Guest-physical: each domain has a 1 GB range above 64 GB, where no RAM is, so its
// guest-physical space is disjoint from the kernel's (Inv 3); EPT_I maps it to machine
// pages the kernel allocates. The window maps 1:1 onto the start of that range.
//
// Window layout (offsets):
//   0                 the linked domain image (driver, glue, domain library)
//   STACKS_OFFSET     per-vCPU pools of stacks, each stack with an unmapped guard page below
//   EXT_OFFSET        per-vCPU extended register pages
//   HEAP_OFFSET       the heap, grown by the ALLOC_PAGES syscall
//   MAPPINGS_OFFSET   memory the kernel granted (capabilities.ts), where the MAP syscall puts it
//   TABLES_OFFSET     the domain's own page tables, mapped read-only (Inv 2)

export const WINDOW_BASE = -0x40000000; // FFFF_FFFF_C000_0000
export const WINDOW_SIZE = 64 << 20;
export const MAX_DOMAINS = 15;
export const GPA_BASE = 64 * 2 ** 30;
export const GPA_SPAN = 2 ** 30;

export const STACKS_OFFSET = 16 << 20;
export const STACK_PAGES = 4;
/** Stacks per vCPU in each domain's pool: a crossing takes a free one (threads blocked inside the domain hold theirs). */
export const STACKS_PER_CPU = 4;
export const EXT_OFFSET = 24 << 20;
export const HEAP_OFFSET = 32 << 20;
export const HEAP_SIZE = 24 << 20;
export const MAPPINGS_OFFSET = HEAP_OFFSET + HEAP_SIZE;
export const MAPPINGS_SIZE = 6 << 20;
export const TABLES_OFFSET = 62 << 20;

/** The per-vCPU state page: one guest-physical page, a different machine page per vCPU in EPT_K. */
export const STATE_PAGE_PA = 0xb000;
export const STATE = {
  /** The kernel stack pointer of the crossing in progress (trampoline.S). */
  kernelRsp: 0,
  /** 1 in EPT_K's copy; the domain's view reads 0 (exitless interrupt entry, irq-entry.S). */
  inKernel: 8,
  cpu: 16,
  /** The kernel's GS base on this vCPU (irq-entry.S restores it: a domain can WRGSBASE). */
  gsBase: 24,
  /** The progress counter the hypervisor's watchdog samples (SET_PROGRESS): ticks and crossings move it on. */
  progress: 32,
  /** The kernel stack a thread left for ring 3 (arch/entry.S lvd_enter_user): where its interrupts and exceptions run. */
  userEntryRsp: 40,
} as const;

export function windowOf(id: number): number {
  return WINDOW_BASE + id * WINDOW_SIZE;
}
export function gpaOf(id: number): number {
  return GPA_BASE + id * GPA_SPAN;
}
