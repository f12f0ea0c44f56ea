// The hypervisor's memory: the physical range the kernel handed over at construction
// (HypervisorConfig.pool). VMXON regions, VMCSs and EPT tables come from here, one 4 KB
// page at a time, and EPT_K leaves this range unmapped, so nothing the guest runs (the
// kernel included) can read or write the structures that confine it.
//
// Pages are never returned: the hypervisor allocates at launch and when a per-CPU page
// is first remapped (MAP_PAGE), a bounded number of times.

import type { PhysicalMemory } from "../machine/memory.ts";

export const PAGE = 4096;

export class PagePool {
  readonly base: number;
  readonly end: number;
  private next: number;

  constructor(
    private readonly mem: PhysicalMemory,
    base: number,
    bytes: number,
  ) {
    if (base % PAGE !== 0 || bytes % PAGE !== 0 || bytes <= 0) {
      throw new Error(`hypervisor pool 0x${base.toString(16)} (+0x${bytes.toString(16)}) must be whole 4 KB pages`);
    }
    if (!mem.isRam(base, bytes)) throw new Error(`hypervisor pool 0x${base.toString(16)} (+0x${bytes.toString(16)}) is not in RAM`);
    this.base = base;
    this.end = base + bytes;
    this.next = base;
  }

  /** Whether the physical address `pa` belongs to the pool. */
  contains(pa: number): boolean {
    return pa >= this.base && pa < this.end;
  }

  /** Pages still free. */
  get freePages(): number {
    return (this.end - this.next) / PAGE;
  }

  /** A zeroed page, or null when the pool is used up. */
  tryAlloc(): number | null {
    if (this.next >= this.end) return null;
    const pa = this.next;
    this.next += PAGE;
    this.mem.load(pa, new Uint8Array(PAGE));
    return pa;
  }

  /** A zeroed page; throws when the pool is used up (at launch: a configuration error). */
  alloc(): number {
    const pa = this.tryAlloc();
    if (pa === null) throw new Error(`hypervisor pool exhausted (0x${this.base.toString(16)}-0x${this.end.toString(16)})`);
    return pa;
  }
}
