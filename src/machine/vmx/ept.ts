// Extended page tables (SDM Vol. 3C, 29.3): the guest-physical -> host-physical walk the
// CPU's paging code calls for every guest-physical access it makes in VMX non-root
// operation with "enable EPT" (each paging-structure entry it reads or updates, and the
// final page), with permissions, memory types, 2 MB and 1 GB pages, accessed and dirty
// flags, EPT violations (exit 48), EPT misconfigurations (exit 49) and the optional #VE.
//
// An EPT entry (PML4E, PDPTE, PDE, PTE): bit 0 read, 1 write, 2 execute; bits 5:3 memory
// type (leaves; 2, 3, 7 reserved); bit 6 ignore PAT; bit 7 page size (PDPTE: 1 GB, PDE:
// 2 MB; reserved in the PML4E); bit 8 accessed, bit 9 dirty (when EPTP bit 6 enables
// them); address bits 45:12 (MAXPHYADDR 46); bit 63 suppress #VE.

import type { GuestPhysical } from "../cpu/cpu.ts";
import { CpuFault, VE } from "../cpu/arch.ts";
import { ACC_READ, ACC_WRITE, ACC_EXEC, MAXPHYADDR } from "../cpu/paging.ts";
import type { Vmx } from "./vmx.ts";
import { COSTS } from "../cost.ts";
import {
  EXIT_EPT_VIOLATION, EXIT_EPT_MISCONFIG, EPT_QUAL_READ, EPT_QUAL_WRITE, EPT_QUAL_FETCH, EPT_QUAL_LINEAR_VALID,
  EPT_QUAL_FINAL, CPU2_EPT_VIOLATION_VE, VE_INFO_ADDR, EPTP_INDEX,
} from "./fields.ts";

/** Bits 51:MAXPHYADDR of an entry's high half: reserved. */
const HI_RESERVED = ((1 << 20) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);
const ADDR_HI = (1 << (MAXPHYADDR - 32)) - 1;
const ACCESSED = 1 << 8, DIRTY = 1 << 9, LARGE = 1 << 7;

/** EPTP bits (SDM 25.6.11): 2:0 memory type, 5:3 walk length - 1, 6 A/D enable, 11:7 reserved. */
export const EPTP_AD = 1 << 6;

/**
 * Whether a 64-bit value (halves) is a valid EPTP for this processor: memory type UC (0)
 * or WB (6), a 4-level walk, bits 11:7 and 63:MAXPHYADDR clear (A/D is supported).
 * VM entry, VMFUNC and INVEPT all use this.
 */
export function validEptp(lo: number, hi: number): boolean {
  const type = lo & 7;
  if (type !== 0 && type !== 6) return false;
  if (((lo >>> 3) & 7) !== 3) return false;
  if ((lo & 0xf80) !== 0) return false;
  return hi >>> (MAXPHYADDR - 32) === 0;
}

/** The EP4TA (bits 51:12: the PML4 table's address) of an EPTP given as halves. */
export function ep4ta(lo: number, hi: number): number {
  return (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
}

/** Memory types an EPT leaf may hold: UC 0, WC 1, WT 4, WP 5, WB 6. */
function validMemoryType(lo: number): boolean {
  const t = (lo >>> 3) & 7;
  return t !== 2 && t !== 3 && t !== 7;
}

export class Ept implements GuestPhysical {
  /** Rights of the last final translation (ACC_*): what the TLB may keep for the page. */
  rights = 0;
  /** The EP4TA in use. */
  root = 0;
  /** Accessed and dirty flags enabled (EPTP bit 6). */
  ad = false;

  constructor(private readonly vmx: Vmx) {}

  /** Uses a (valid) EPTP. */
  load(lo: number, hi: number): void {
    this.root = ep4ta(lo, hi);
    this.ad = (lo & EPTP_AD) !== 0;
  }

  translate(gpa: number, acc: number, final: boolean, la: number): number {
    const mem = this.vmx.cpu.mem;
    // With A/D flags on, the processor's accesses to guest paging structures are writes
    // for EPT (SDM 29.3.3.2: so it can set their dirty flags).
    const write = acc === ACC_WRITE || (!final && this.ad);
    let table = this.root;
    let r = 1, w = 1, x = 1;
    const used: number[] = [];
    let leaf = 0, leafLo = 0, shift = 39;
    for (;; shift -= 9) {
      const ea = table + (Math.floor(gpa / 2 ** shift) & 511) * 8;
      this.vmx.cpu.cycles += COSTS.pageWalkStep;
      const lo = mem.read32(ea), hi = mem.read32(ea + 4);
      const perm = lo & 7;
      if (perm === 0) {
        this.violation(gpa, acc, final, la, 0, hi);
      }
      // Misconfigurations (SDM 29.3.3.1): write without read, execute-only (not supported),
      // reserved bits, a reserved memory type in a leaf.
      let bad = (perm & 3) === 2 || perm === 4 || (hi & HI_RESERVED) !== 0;
      const isLeaf = shift === 12 || ((lo & LARGE) !== 0 && shift !== 39);
      if (shift === 39) bad ||= (lo & 0xf8) !== 0;
      else if (!isLeaf) bad ||= (lo & 0x78) !== 0;
      else {
        bad ||= !validMemoryType(lo);
        // A large page's frame must be aligned: bits shift-1:12 of the address are reserved.
        if (shift !== 12) bad ||= (lo & (2 ** shift - 1) & ~0xfff) !== 0;
      }
      if (bad) throw this.vmx.intercept({ reason: EXIT_EPT_MISCONFIG, guestPhysical: gpa });
      r &= perm & 1;
      w &= (perm >> 1) & 1;
      x &= (perm >> 2) & 1;
      used.push(ea);
      const frame = (hi & ADDR_HI) * 4294967296 + ((lo & ~0xfff) >>> 0);
      if (isLeaf) {
        leaf = ea;
        leafLo = lo;
        table = frame - (frame % 2 ** shift);
        const allowed = (acc === ACC_EXEC ? x : r) && (!write || w);
        if (!allowed) this.violation(gpa, acc, final, la, (r | (w << 1) | (x << 2)), hi);
        break;
      }
      table = frame;
    }

    let dirty = true;
    if (this.ad) {
      // Accessed on every entry used, dirty on the leaf for a write (SDM 29.3.5).
      for (const ea of used) {
        const lo = mem.read32(ea);
        if ((lo & ACCESSED) === 0) mem.write32(ea, lo | ACCESSED);
      }
      dirty = (leafLo & DIRTY) !== 0;
      if (write && !dirty) {
        mem.write32(leaf, mem.read32(leaf) | ACCESSED | DIRTY);
        dirty = true;
      }
    }
    // A clean page is not writable for the TLB, so the first write walks again and sets D.
    this.rights = (r ? ACC_READ : 0) | (w && dirty ? ACC_WRITE : 0) | (x ? ACC_EXEC : 0);
    return table + (gpa % 2 ** shift);
  }

  /**
   * An EPT violation (SDM 29.3.3.2): exit 48 with the access in bits 2:0, the permissions
   * along the walk in bits 5:3, and the guest-linear address; or a #VE when the violation
   * is convertible (SDM 26.5.7): "EPT-violation #VE" on, the entry's suppress-#VE bit
   * clear, the information area's busy dword 0, and no event being delivered.
   */
  private violation(gpa: number, acc: number, final: boolean, la: number, rwx: number, entryHi: number): never {
    let qual = acc === ACC_EXEC ? EPT_QUAL_FETCH : acc === ACC_WRITE ? EPT_QUAL_WRITE : EPT_QUAL_READ;
    if (!final && this.ad) qual = EPT_QUAL_READ | EPT_QUAL_WRITE; // a paging-structure access is both
    qual |= rwx << 3;
    qual |= EPT_QUAL_LINEAR_VALID | (final ? EPT_QUAL_FINAL : 0);
    const vmx = this.vmx;
    if ((vmx.secondary & CPU2_EPT_VIOLATION_VE) !== 0 && entryHi >= 0 && vmx.vectoring === 0) {
      const info = vmx.vmcs.get(VE_INFO_ADDR);
      const mem = vmx.cpu.mem;
      if (mem.read32(info + 4) === 0) {
        mem.write32(info, EXIT_EPT_VIOLATION);
        mem.write32(info + 4, -1);
        mem.write64(info + 8, qual, 0);
        mem.write64(info + 16, la | 0, Math.floor(la / 4294967296) | 0);
        mem.writeU64(info + 24, gpa);
        mem.write16(info + 32, vmx.vmcs.u32(EPTP_INDEX));
        throw new CpuFault(VE);
      }
    }
    throw vmx.intercept({ reason: EXIT_EPT_VIOLATION, qualification: qual, guestPhysical: gpa, guestLinear: la });
  }
}
