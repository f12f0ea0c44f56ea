// An address space: a PML4 and the page tables under it, in guest memory. Every address
// space shares the kernel half (PML4 slots 256-511) with the kernel's own: the kernel
// creates the third-level tables of its slots once at boot, and copies those PML4
// entries into each new address space, so kernel mappings added later appear in all.

import { PageTableBuilder, type PageFlags, type TableMemory } from "../../machine/page-tables.ts";
import type { GuestMemory } from "../guest-memory.ts";
import type { PageAllocator } from "./page-allocator.ts";
import { phys2virt } from "../layout.ts";

/** The kernel's page tables as TableMemory: physical addresses through the direct map. */
export class DirectMapTables implements TableMemory {
  constructor(private readonly mem: GuestMemory) {}
  read32(pa: number): number {
    return this.mem.read32(phys2virt(pa)) | 0;
  }
  write64(pa: number, lo: number, hi: number): void {
    this.mem.write32(phys2virt(pa), lo);
    this.mem.write32(phys2virt(pa + 4), hi);
  }
  load(pa: number, data: Uint8Array): void {
    this.mem.writeBytes(phys2virt(pa), data);
  }
}

export class AddressSpace {
  readonly tables: PageTableBuilder;

  constructor(
    readonly name: string,
    private readonly mem: GuestMemory,
    private readonly pages: PageAllocator,
    kernel: AddressSpace | null,
  ) {
    const tm = new DirectMapTables(mem);
    this.tables = new PageTableBuilder(tm, () => pages.alloc());
    if (kernel) {
      for (let slot = 256; slot < 512; slot++) {
        const e = this.mem.read64(phys2virt(kernel.cr3 + slot * 8));
        if (e !== 0) this.mem.write64(phys2virt(this.cr3 + slot * 8), e);
      }
    }
  }

  /** The value of CR3 for this address space. */
  get cr3(): number {
    return this.tables.root;
  }

  map(va: number, pa: number, size: number, flags: PageFlags, pageSize = 4096): void {
    this.tables.map(va, pa, size, flags, pageSize);
  }
  unmap(va: number, size: number): number[] {
    return this.tables.unmap(va, size);
  }
  lookup(va: number): number {
    return this.tables.lookup(va);
  }

  /** Creates the third-level table of each kernel PML4 slot of [from, to), so copies of the PML4 share them. */
  prepareKernelSlots(slots: number[]): void {
    for (const slot of slots) {
      const e = phys2virt(this.cr3 + slot * 8);
      if (this.mem.read64(e) !== 0) continue;
      const table = this.pages.alloc();
      this.mem.fill(phys2virt(table), 4096);
      this.mem.write64(e, table | 0x3); // present, writable; leaves decide the rest
    }
  }
}
