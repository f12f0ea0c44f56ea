// The physical page allocator: one bit per page of RAM (1 = in use) in a bitmap that
// lives in guest memory, read and written through the kernel's view like any kernel
// data. Allocation is next-fit from a hint, first-fit for contiguous runs.

import { KernelBug } from "../exec.ts";
import type { GuestMemory } from "../guest-memory.ts";
import { PAGE, phys2virt } from "../layout.ts";

export class OutOfMemory extends KernelBug {}

export class PageAllocator {
  private hint = 0;
  private free: number;

  /**
   * `bitmapPa`: physical address of the bitmap (totalPages / 8 bytes, already zeroed or
   * not: init() writes it). Pages in `reserved` ranges start in use, and so does the bitmap.
   */
  constructor(
    private readonly mem: GuestMemory,
    readonly bitmapPa: number,
    readonly totalPages: number,
  ) {
    this.free = totalPages;
  }

  /** Bytes the bitmap for `pages` pages needs, rounded to whole pages. */
  static bitmapBytes(pages: number): number {
    return Math.ceil(pages / 8 / PAGE) * PAGE;
  }

  init(reserved: { base: number; bytes: number }[]): void {
    const va = phys2virt(this.bitmapPa);
    this.mem.fill(va, PageAllocator.bitmapBytes(this.totalPages));
    this.free = this.totalPages;
    const all = [...reserved, { base: this.bitmapPa, bytes: PageAllocator.bitmapBytes(this.totalPages) }];
    for (const r of all) {
      const first = Math.floor(r.base / PAGE), last = Math.ceil((r.base + r.bytes) / PAGE);
      for (let p = first; p < Math.min(last, this.totalPages); p++) if (!this.used(p)) this.mark(p, true);
    }
  }

  get freePages(): number {
    return this.free;
  }

  private used(page: number): boolean {
    return (this.mem.read8(phys2virt(this.bitmapPa + (page >>> 3))) & (1 << (page & 7))) !== 0;
  }

  private mark(page: number, used: boolean): void {
    const va = phys2virt(this.bitmapPa + (page >>> 3));
    const b = this.mem.read8(va);
    this.mem.write8(va, used ? b | (1 << (page & 7)) : b & ~(1 << (page & 7)));
    this.free += used ? -1 : 1;
  }

  /** Allocates `n` contiguous pages aligned to `align` pages; returns the physical address. */
  alloc(n = 1, align = 1): number {
    if (n === 1 && align === 1) {
      for (let k = 0; k < this.totalPages; k++) {
        const p = (this.hint + k) % this.totalPages;
        if (!this.used(p)) {
          this.mark(p, true);
          this.hint = p + 1;
          return p * PAGE;
        }
      }
    } else {
      for (let p = 0; p + n <= this.totalPages; p += align) {
        let run = 0;
        while (run < n && !this.used(p + run)) run++;
        if (run === n) {
          for (let k = 0; k < n; k++) this.mark(p + k, true);
          return p * PAGE;
        }
      }
    }
    throw new OutOfMemory(`out of physical memory: ${n} page(s) wanted, ${this.free} free`);
  }

  release(pa: number, n = 1): void {
    const first = pa / PAGE;
    for (let p = first; p < first + n; p++) {
      if (!this.used(p)) throw new KernelBug(`page allocator: page 0x${(p * PAGE).toString(16)} freed twice`);
      this.mark(p, false);
    }
  }
}
