// Virtually mapped kernel memory: kernel stacks (and other areas that want guard pages)
// in the vmap region, each with an unmapped guard page below it, so running off the
// bottom of a stack is a page fault instead of silent corruption of the next one.
// Addresses are never reused (the region is 512 GB), so a translation another vCPU
// still caches for a released area can never alias a new one: no TLB shootdown needed.

import type { AddressSpace } from "./address-space.ts";
import type { PageAllocator } from "./page-allocator.ts";
import type { GuestMemory } from "../guest-memory.ts";
import { PAGE, VMAP_BASE, VMAP_SPAN } from "../layout.ts";

export interface VmArea {
  /** Lowest mapped address, and one past the highest. */
  base: number;
  top: number;
}

export class Vmap {
  private next = VMAP_BASE + PAGE;

  constructor(
    private readonly kernel: AddressSpace,
    private readonly pages: PageAllocator,
    private readonly mem: GuestMemory,
  ) {}

  /** Maps `n` zeroed pages, writable and not executable, with a guard page below. */
  alloc(n: number): VmArea {
    const base = this.next;
    this.next += (n + 1) * PAGE;
    if (this.next > VMAP_BASE + VMAP_SPAN) throw new Error("vmap region exhausted");
    for (let k = 0; k < n; k++) {
      const pa = this.pages.alloc();
      this.kernel.map(base + k * PAGE, pa, PAGE, { write: true, global: true });
    }
    this.mem.fill(base, n * PAGE);
    return { base, top: base + n * PAGE };
  }

  release(area: VmArea): void {
    const n = (area.top - area.base) / PAGE;
    for (const pa of this.kernel.unmap(area.base, n * PAGE)) this.pages.release(pa);
  }
}
