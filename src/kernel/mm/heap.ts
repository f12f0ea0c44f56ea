// The kernel heap (kmalloc/kfree): objects in guest memory, in the direct map. Small
// sizes come from slabs, one page per slab carved into objects of one size class, free
// objects linked through their first quadword in guest memory; larger ones take whole
// contiguous pages. Which slab page holds which class is the allocator's own record.

import { KernelBug } from "../exec.ts";
import type { GuestMemory } from "../guest-memory.ts";
import type { PageAllocator } from "./page-allocator.ts";
import { PAGE, phys2virt, DIRECT_MAP } from "../layout.ts";

const CLASSES = [16, 32, 64, 128, 256, 512, 1024, 2048];

export class KernelHeap {
  /** Head of each class's free list (a direct-map address, 0 = empty). */
  private readonly heads = CLASSES.map(() => 0);
  /** Size class of each slab page, and page counts of large allocations, by address. */
  private readonly slabClass = new Map<number, number>();
  private readonly large = new Map<number, number>();
  /** Bytes handed out, for reports and leak tests. */
  inUse = 0;

  constructor(
    private readonly mem: GuestMemory,
    private readonly pages: PageAllocator,
  ) {}

  /** Allocates `size` bytes (zeroed), 16-byte aligned; returns the address. */
  alloc(size: number): number {
    const c = CLASSES.findIndex((s) => s >= size);
    if (c < 0) {
      const n = Math.ceil(size / PAGE);
      const va = phys2virt(this.pages.alloc(n));
      this.mem.fill(va, n * PAGE);
      this.large.set(va, n);
      this.inUse += n * PAGE;
      return va;
    }
    if (this.heads[c] === 0) this.refill(c);
    const obj = this.heads[c];
    this.heads[c] = this.mem.read64(obj);
    this.mem.fill(obj, CLASSES[c]);
    this.inUse += CLASSES[c];
    return obj;
  }

  free(va: number): void {
    const n = this.large.get(va);
    if (n !== undefined) {
      this.large.delete(va);
      this.pages.release(va - DIRECT_MAP, n);
      this.inUse -= n * PAGE;
      return;
    }
    const c = this.slabClass.get(va - (va & 0xfff));
    if (c === undefined || (va & (CLASSES[c] - 1)) !== 0) throw new KernelBug(`kfree: 0x${va.toString(16)} was not allocated by kmalloc`);
    this.mem.write64(va, this.heads[c]);
    this.heads[c] = va;
    this.inUse -= CLASSES[c];
  }

  private refill(c: number): void {
    const page = phys2virt(this.pages.alloc());
    this.slabClass.set(page, c);
    const size = CLASSES[c];
    for (let off = PAGE - size; off >= 0; off -= size) {
      this.mem.write64(page + off, this.heads[c]);
      this.heads[c] = page + off;
    }
  }
}
