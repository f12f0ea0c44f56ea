// Where things are: the kernel's physical and virtual memory layout.
//
// Virtual (4-level paging, 48-bit canonical addresses; PML4 slot in brackets):
//   0000_0000_0000_0000 ..   user space [0-255], per address space
//   FFFF_8000_0000_0000 ..   isolated domains [256-271], 512 GB each (Inv 1: disjoint
//                            from the kernel's and from user space)
//   FFFF_8880_0000_0000 ..   direct map of all physical memory [273], no-execute
//   FFFF_C900_0000_0000 ..   vmap: kernel stacks with guard pages [402]
//   FFFF_FFFF_8000_0000 ..   kernel image: physical 0.. at +pa (gcc's kernel code model)
//   FFFF_FFFF_A000_0000 ..   modules (the kernel code model needs the top 2 GB)
// Physical:
//   0x0000_8000              the application processors' start page (SIPI vector 8)
//   0x0000_9000              the firmware's GDT
//   0x0001_0000 ..           firmware page tables (boot only)
//   0x0008_0000 ..           the boot stack
//   0x0010_0000 ..           kernel image: gate pages, then the linked machine code
//   above the image          page allocator (the kernel's, and what it gives away)
// Addresses are numbers holding the signed canonical value (cpu.ts): upper-half
// addresses are negative.

export const PAGE = 4096;

export const DOMAIN_BASE = -0x800000000000; // FFFF_8000_0000_0000
export const DOMAIN_SPAN = 2 ** 39;
export const DIRECT_MAP = -0x778000000000; // FFFF_8880_0000_0000
export const VMAP_BASE = -0x370000000000; // FFFF_C900_0000_0000
export const VMAP_SPAN = 2 ** 39;
export const KERNEL_BASE = -0x80000000; // FFFF_FFFF_8000_0000
export const MODULES_BASE = -0x60000000; // FFFF_FFFF_A000_0000
export const MODULES_END = -0x40000000; // FFFF_FFFF_C000_0000: the domain windows start here (lvd/layout.ts, Inv 1)

export const AP_START_PAGE = 0x8000;
export const BOOT_GDT = 0x9000;
export const FIRMWARE_TABLES = 0x10000;
export const FIRMWARE_TABLES_END = 0x80000;
/** The first thread's stack, which the firmware provides. */
export const BOOT_STACK = 0x80000;
export const BOOT_STACK_END = 0xa0000;
export const KERNEL_IMAGE_PA = 0x100000;
/** Pages of native gates at the start of the image (16 bytes per gate). */
export const GATE_PAGES = 4;
export const GATE_SIZE = 16;
/** Where the kernel's machine code (entry.S) is linked. */
export const KERNEL_TEXT_PA = KERNEL_IMAGE_PA + GATE_PAGES * PAGE;

/** The direct-map address of a physical address. */
export function phys2virt(pa: number): number {
  return DIRECT_MAP + pa;
}
/** The kernel-image address of a physical address in the image. */
export function imageVa(pa: number): number {
  return KERNEL_BASE + pa;
}
