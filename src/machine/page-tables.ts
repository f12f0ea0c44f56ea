// Builds 4-level page tables in guest physical memory: what firmware, a loader or the
// kernel writes before (or while) the CPU walks them. Tables come from a page allocator
// the caller supplies, and are read and written through a TableMemory: physical memory
// directly (firmware, loaders) or the kernel's own view through a vCPU (src/kernel).

import type { Perms } from "./elf/perms.ts";

/** Physical memory as the builder needs it. PhysicalMemory is one. */
export interface TableMemory {
  read32(pa: number): number;
  write64(pa: number, lo: number, hi: number): void;
  load(pa: number, data: Uint8Array): void;
}

export interface PageFlags {
  write?: boolean;
  user?: boolean;
  exec?: boolean;
  global?: boolean;
  /** Strong uncacheable (PCD | PWT): device registers. */
  uncached?: boolean;
}

/** The page rights of a linked image's region (elf/perms.ts), plus `extra` (global...). */
export function flagsForPerms(perms: Perms, extra: PageFlags = {}): PageFlags {
  return { ...extra, write: perms === "rw", exec: perms === "rx" };
}

export const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_PWT = 8, PTE_PCD = 0x10, PTE_A = 0x20, PTE_D = 0x40;
export const PTE_PS = 0x80, PTE_G = 0x100;
/** Bit 63 (no-execute), as a bit of an entry's high half. */
export const PTE_NX_HI = 0x80000000;

const SHIFTS = [39, 30, 21, 12];

export class PageTableBuilder {
  readonly root: number;

  /** `root`: the physical address of an existing PML4 to extend (default: a new one). */
  constructor(
    private readonly mem: TableMemory,
    private readonly allocPage: () => number,
    root?: number,
  ) {
    this.root = root ?? this.newTable();
  }

  private newTable(): number {
    const pa = this.allocPage();
    this.mem.load(pa, new Uint8Array(4096));
    return pa;
  }

  /**
   * Maps [va, va+size) to [pa, pa+size) with pages of `pageSize` (4 KB, 2 MB or 1 GB).
   * Intermediate entries are permissive (present, writable, user); the leaf decides.
   */
  map(va: number, pa: number, size: number, flags: PageFlags, pageSize = 4096): void {
    if (va % pageSize !== 0 || pa % pageSize !== 0 || size % pageSize !== 0) {
      throw new Error(`map: 0x${va.toString(16)} -> 0x${pa.toString(16)} (+0x${size.toString(16)}) is not aligned to 0x${pageSize.toString(16)}`);
    }
    if (pageSize !== 4096 && pageSize !== 0x200000 && pageSize !== 0x40000000) {
      throw new Error(`map: page size 0x${pageSize.toString(16)} is not 4 KB, 2 MB or 1 GB`);
    }
    const leafShift = Math.log2(pageSize);
    for (let off = 0; off < size; off += pageSize) this.mapOne(va + off, pa + off, flags, leafShift);
  }

  /** Clears the leaf entries of [va, va+size) (4 KB pages); returns the physical pages they mapped. */
  unmap(va: number, size: number): number[] {
    const freed: number[] = [];
    for (let off = 0; off < size; off += 4096) {
      const e = this.leafEntry(va + off);
      if (e < 0) continue;
      const lo = this.mem.read32(e);
      if ((lo & PTE_P) === 0) continue;
      freed.push(this.entryAddress(e, lo));
      this.mem.write64(e, 0, 0);
    }
    return freed;
  }

  /** The physical address `va` maps to (4 KB leaves), or -1. */
  lookup(va: number): number {
    const e = this.leafEntry(va);
    if (e < 0) return -1;
    const lo = this.mem.read32(e);
    return (lo & PTE_P) === 0 ? -1 : this.entryAddress(e, lo) + (va & 0xfff);
  }

  /** The physical address of the 4 KB leaf entry for `va`, or -1 if a table on the way is missing (or a large page). */
  private leafEntry(va: number): number {
    let table = this.root;
    for (const shift of SHIFTS) {
      const entry = table + (Math.floor(va / 2 ** shift) & 511) * 8;
      if (shift === 12) return entry;
      const lo = this.mem.read32(entry);
      if ((lo & PTE_P) === 0 || (lo & PTE_PS) !== 0) return -1;
      table = this.entryAddress(entry, lo);
    }
    return -1;
  }

  private entryAddress(entry: number, lo: number): number {
    return (this.mem.read32(entry + 4) & 0xfffff) * 4294967296 + ((lo & ~0xfff) >>> 0);
  }

  private mapOne(va: number, pa: number, flags: PageFlags, leafShift: number): void {
    let table = this.root;
    for (const shift of SHIFTS) {
      const entry = table + (Math.floor(va / 2 ** shift) & 511) * 8;
      if (shift === leafShift) {
        let lo = PTE_P | (flags.write ? PTE_RW : 0) | (flags.user ? PTE_US : 0) | (flags.global ? PTE_G : 0) | (flags.uncached ? PTE_PCD | PTE_PWT : 0);
        if (shift !== 12) lo |= PTE_PS;
        lo = (lo | pa) >>> 0;
        const hi = Math.floor(pa / 4294967296) | (flags.exec ? 0 : PTE_NX_HI);
        this.mem.write64(entry, lo | 0, hi | 0);
        return;
      }
      let lo = this.mem.read32(entry);
      if ((lo & PTE_P) === 0) {
        const next = this.newTable();
        lo = (next | 0) | PTE_P | PTE_RW | PTE_US;
        this.mem.write64(entry, lo, Math.floor(next / 4294967296));
      } else if ((lo & PTE_PS) !== 0) {
        throw new Error(`map: 0x${va.toString(16)} falls inside an existing large page`);
      }
      table = this.entryAddress(entry, lo);
    }
  }
}
