// EPT_K: the kernel's extended page tables. Guest-physical = host-physical for all RAM
// (write-back) and for the rest of the 4 GB physical space, where the local APIC page
// and any other MMIO the machine models live (uncacheable), except the hypervisor's own
// pool, which is not mapped at all: a kernel access to it is an EPT violation.
//
// One hierarchy per vCPU: each has its own PML4 (its own EPTP, so its own TLB context),
// and below that they share the tables built at construction. MAP_PAGE remaps one page
// for one vCPU only (the per-CPU state pages of reference section 5: the same
// guest-physical page is a different machine page on each CPU); the tables on the path
// to that page are copied for that vCPU first ("copy on remap"), so the others keep
// seeing the shared ones. Which tables a vCPU owns is remembered, so the path is copied
// once.
//
// Entries (SDM 29.3.2): bits 2:0 read/write/execute, 5:3 memory type of a leaf, bit 7 a
// 2 MB page in a PDE; the EPTP says write-back paging structures and a 4-level walk.

import type { PhysicalMemory } from "../machine/memory.ts";
import type { Cpu } from "../machine/cpu/cpu.ts";
import { COSTS } from "../machine/cost.ts";
import { PAGE, type PagePool } from "./page-pool.ts";

/** Guest-physical space EPT_K covers: RAM and the MMIO hole below 4 GB (APIC at 0xFEE00000). */
export const EPT_K_LIMIT = 2 ** 32;

const RWX = 7;
const LARGE = 0x80;
const TYPE_UC = 0, TYPE_WB = 6;
const TWO_MB = 0x200000, ONE_GB = 0x40000000;
/** Bits 45:12 of an entry's address (MAXPHYADDR 46). */
const ADDR_HI = (1 << 14) - 1;

/** Tables shared by every vCPU (not owned by one). */
const SHARED = -1;

export class EptK {
  /** The PML4 every vCPU's own PML4 starts as a copy of. */
  private readonly template: number;
  private readonly roots = new Map<number, number>();
  /** Table page -> the vCPU that owns it (copies made for a remap), or SHARED. */
  private readonly owner = new Map<number, number>();

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly pool: PagePool,
  ) {
    this.template = this.table(SHARED);
    const pdpt = this.table(SHARED);
    this.link(this.template, 0, pdpt);
    for (let gb = 0; gb < EPT_K_LIMIT / ONE_GB; gb++) {
      const pd = this.table(SHARED);
      this.link(pdpt, gb, pd);
      for (let k = 0; k < 512; k++) this.fill2m(pd, k, gb * ONE_GB + k * TWO_MB);
    }
  }

  /** The EPTP of vCPU `id`'s hierarchy (its PML4 is made on first use). */
  eptp(id: number): number {
    return this.root(id) | TYPE_WB | (3 << 3);
  }

  /**
   * The host-physical address guest-physical `gpa` maps to for vCPU `id`, or -1 when it
   * is not mapped (the pool, or beyond 4 GB). Each entry read is a page-walk step,
   * charged to `charge` when given (a hypervisor walking its tables in software reads
   * them too).
   */
  translate(id: number, gpa: number, charge: Cpu | null = null): number {
    let table = this.root(id);
    for (let shift = 39; ; shift -= 9) {
      const e = table + (Math.floor(gpa / 2 ** shift) & 511) * 8;
      if (charge) charge.cycles += COSTS.pageWalkStep;
      const lo = this.mem.read32(e), hi = this.mem.read32(e + 4);
      if ((lo & RWX) === 0) return -1;
      const frame = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
      if (shift === 12 || (shift !== 39 && (lo & LARGE) !== 0)) return frame + (gpa % 2 ** shift);
      table = frame;
    }
  }

  /**
   * Maps the 4 KB guest-physical page `gpa` to the machine page `hpa` in vCPU `id`'s
   * hierarchy only, copying the tables on the way that it still shares. False when the
   * pool has no page left for a copy (nothing is changed then).
   */
  remap(id: number, gpa: number, hpa: number): boolean {
    if (this.pool.freePages < 3) return false; // at most a PDPT, a PD and a PT are copied or split
    let table = this.root(id);
    for (let shift = 39; shift > 12; shift -= 9) {
      const index = Math.floor(gpa / 2 ** shift) & 511;
      const e = table + index * 8;
      const lo = this.mem.read32(e);
      let child: number;
      if ((lo & RWX) === 0) {
        child = this.table(id);
      } else if ((lo & LARGE) !== 0) {
        child = this.split(id, e, shift);
      } else {
        child = this.frameOf(e);
        if (this.owner.get(child) !== id) child = this.copy(id, child);
      }
      this.link(table, index, child);
      table = child;
    }
    this.leaf(table, Math.floor(gpa / PAGE) & 511, hpa, PAGE);
    return true;
  }

  // ------------------------------------------------------------ building

  private root(id: number): number {
    let r = this.roots.get(id);
    if (r === undefined) {
      r = this.copy(id, this.template);
      this.roots.set(id, r);
    }
    return r;
  }

  private table(owner: number): number {
    const pa = this.pool.alloc();
    this.owner.set(pa, owner);
    return pa;
  }

  private copy(owner: number, from: number): number {
    const pa = this.table(owner);
    this.mem.load(pa, this.mem.bytes.slice(from, from + PAGE));
    return pa;
  }

  private frameOf(entry: number): number {
    const lo = this.mem.read32(entry), hi = this.mem.read32(entry + 4);
    return (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
  }

  private link(table: number, index: number, child: number): void {
    this.mem.write64(table + index * 8, child | RWX, Math.floor(child / 4294967296));
  }

  /** A leaf mapping `pa` 1:1-style: write-back in RAM, uncacheable above it; a 2 MB leaf when `size` says so. */
  private leaf(table: number, index: number, pa: number, size: number): void {
    const type = this.mem.isRam(pa) ? TYPE_WB : TYPE_UC;
    const lo = pa | RWX | (type << 3) | (size === TWO_MB ? LARGE : 0);
    this.mem.write64(table + index * 8, lo | 0, Math.floor(pa / 4294967296));
  }

  /** PDE `k` of `pd` for the 2 MB at `base`: one large leaf, or a page table when the pool or the end of RAM cuts it. */
  private fill2m(pd: number, k: number, base: number): void {
    const end = base + TWO_MB;
    const touchesPool = base < this.pool.end && end > this.pool.base;
    const ram = this.mem.isRam(base, TWO_MB);
    const straddlesRamEnd = !ram && this.mem.isRam(base);
    if (!touchesPool && !straddlesRamEnd) {
      this.leaf(pd, k, base, TWO_MB);
      return;
    }
    const pt = this.table(SHARED);
    this.link(pd, k, pt);
    for (let p = 0; p < 512; p++) {
      const pa = base + p * PAGE;
      if (!this.pool.contains(pa)) this.leaf(pt, p, pa, PAGE);
    }
  }

  /** Replaces the large leaf at `entry` (level `shift`) by a table of `id`'s own with the same mappings. */
  private split(id: number, entry: number, shift: number): number {
    const base = this.frameOf(entry);
    const t = this.table(id);
    const child = 2 ** (shift - 9);
    for (let k = 0; k < 512; k++) this.leaf(t, k, base + k * child, child);
    return t;
  }
}
