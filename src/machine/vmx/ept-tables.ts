// Builds extended page tables in host-physical memory: what a hypervisor writes before
// it points an EPTP (or an EPTP-list entry) at them. Like page-tables.ts, tables come
// from a page allocator the caller supplies.

import type { TableMemory } from "../page-tables.ts";
import { MAXPHYADDR } from "../cpu/paging.ts";

export interface EptFlags {
  read?: boolean;
  write?: boolean;
  exec?: boolean;
  /** Memory type of the leaf (bits 5:3): 6 write-back unless given. */
  memoryType?: number;
  /** Bit 63: EPT violations here are never converted to #VE. */
  suppressVe?: boolean;
}

/** EPT memory types. */
export const EPT_UC = 0, EPT_WB = 6;

const SHIFTS = [39, 30, 21, 12];
const ADDR_HI = (1 << (MAXPHYADDR - 32)) - 1;

export class EptBuilder {
  /** Physical address of the EPT PML4 table. */
  readonly root: number;

  constructor(
    private readonly mem: TableMemory,
    private readonly allocPage: () => number,
  ) {
    this.root = this.newTable();
  }

  /** The EPTP for these tables: write-back, 4-level walk, accessed/dirty flags if `ad`. */
  eptp(ad = false): number {
    return this.root | EPT_WB | (3 << 3) | (ad ? 1 << 6 : 0);
  }

  private newTable(): number {
    const pa = this.allocPage();
    this.mem.load(pa, new Uint8Array(4096));
    return pa;
  }

  /**
   * Maps guest-physical [gpa, gpa+size) to host-physical [hpa, hpa+size) with pages of
   * `pageSize` (4 KB, 2 MB or 1 GB). Intermediate entries allow everything (the leaf
   * decides); a large page in the way of a smaller mapping is split, keeping its rights.
   * Mapping with no rights at all makes the range not present.
   */
  map(gpa: number, hpa: number, size: number, flags: EptFlags, pageSize = 4096): void {
    if (gpa % pageSize !== 0 || hpa % pageSize !== 0 || size % pageSize !== 0) {
      throw new Error(`EPT map: 0x${gpa.toString(16)} -> 0x${hpa.toString(16)} (+0x${size.toString(16)}) is not aligned to 0x${pageSize.toString(16)}`);
    }
    if (pageSize !== 4096 && pageSize !== 0x200000 && pageSize !== 0x40000000) throw new Error("EPT map: page size must be 4 KB, 2 MB or 1 GB");
    const lo = leafBits(flags, pageSize !== 4096);
    const hiFlag = flags.suppressVe ? 0x80000000 : 0;
    for (let off = 0; off < size; off += pageSize) {
      const entry = this.entryFor(gpa + off, Math.log2(pageSize));
      const pa = hpa + off;
      this.mem.write64(entry, (lo | pa) | 0, (Math.floor(pa / 4294967296) | hiFlag) | 0);
    }
  }

  /** Physical address of the entry that maps `gpa` at the level of `shift` (39, 30, 21, 12), creating tables on the way. */
  entryFor(gpa: number, shift = 12): number {
    let table = this.root;
    for (const s of SHIFTS) {
      const entry = table + (Math.floor(gpa / 2 ** s) & 511) * 8;
      if (s === shift) return entry;
      let lo = this.mem.read32(entry), hi = this.mem.read32(entry + 4);
      if ((lo & 7) === 0) {
        const next = this.newTable();
        lo = next | 7;
        hi = Math.floor(next / 4294967296);
        this.mem.write64(entry, lo, hi);
      } else if ((lo & 0x80) !== 0) {
        this.split(entry, s);
        lo = this.mem.read32(entry);
        hi = this.mem.read32(entry + 4);
      }
      table = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
    }
    throw new Error(`EPT: no level with shift ${shift}`);
  }

  /**
   * Makes guest-physical [gpa, gpa+size) (4 KB aligned) not present: the leaves are
   * cleared, tables that were never built stay unbuilt, and a large page covering part of
   * the range is split first so that the rest of it keeps its mapping. The processor may
   * still hold translations of the range: whoever runs with these tables must INVEPT.
   */
  unmap(gpa: number, size: number): void {
    if (gpa % 4096 !== 0 || size % 4096 !== 0) {
      throw new Error(`EPT unmap: 0x${gpa.toString(16)} (+0x${size.toString(16)}) is not 4 KB aligned`);
    }
    for (let off = 0; off < size; off += 4096) {
      const entry = this.existingLeaf(gpa + off);
      if (entry === null) continue;
      if (entry.shift !== 12) {
        const span = 2 ** entry.shift;
        const start = gpa + off, base = start - (start % span);
        if (start === base && size - off >= span) {
          this.mem.write64(entry.pa, 0, 0); // the whole large page goes
          off += span - 4096;
          continue;
        }
        this.split(entry.pa, entry.shift);
        off -= 4096; // walk again, now down to the smaller pages
        continue;
      }
      this.mem.write64(entry.pa, 0, 0);
    }
  }

  /** The host-physical address `gpa` maps to and its rights (bits 2:0), or null if not present; builds nothing. */
  lookup(gpa: number): { hpa: number; rights: number } | null {
    const entry = this.existingLeaf(gpa);
    if (entry === null) return null;
    const lo = this.mem.read32(entry.pa), hi = this.mem.read32(entry.pa + 4);
    const span = 2 ** entry.shift;
    const base = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
    return { hpa: base + (gpa % span), rights: lo & 7 };
  }

  /** The present leaf entry on the walk for `gpa` (its address and level), or null where the walk stops at a non-present entry. */
  private existingLeaf(gpa: number): { pa: number; shift: number } | null {
    let table = this.root;
    for (const s of SHIFTS) {
      const entry = table + (Math.floor(gpa / 2 ** s) & 511) * 8;
      const lo = this.mem.read32(entry), hi = this.mem.read32(entry + 4);
      if ((lo & 7) === 0) return null;
      if (s === 12 || (lo & 0x80) !== 0) return { pa: entry, shift: s };
      table = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
    }
    return null;
  }

  /** Replaces the large-page entry at `entry` (level `shift`) by a table of 512 pages of the next size. */
  private split(entry: number, shift: number): void {
    const lo = this.mem.read32(entry), hi = this.mem.read32(entry + 4);
    const base = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
    const table = this.newTable();
    const child = shift - 9;
    // Rights, memory type and ignore-PAT carry over; the page-size bit only to large children.
    const keep = (lo & 0x7f) | (child === 12 ? 0 : 0x80);
    for (let k = 0; k < 512; k++) {
      const pa = base + k * 2 ** child;
      this.mem.write64(table + k * 8, (keep | pa) | 0, (Math.floor(pa / 4294967296) | (hi & 0x80000000)) | 0);
    }
    this.mem.write64(entry, table | 7, Math.floor(table / 4294967296));
  }
}

/** Bits 7:0 of a leaf: R, W, X, memory type, and the page-size bit for a large page. */
function leafBits(f: EptFlags, large: boolean): number {
  const rwx = (f.read ? 1 : 0) | (f.write ? 2 : 0) | (f.exec ? 4 : 0);
  if (rwx === 0) return 0;
  return rwx | ((f.memoryType ?? EPT_WB) << 3) | (large ? 0x80 : 0);
}
