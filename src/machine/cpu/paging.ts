// 4-level paging (IA-32e): the page walk, its faults, accessed/dirty updates, and the TLB.
//
// The TLB is a direct-mapped software cache of 4 KB translations. Each entry keeps the
// rights the walk found, already combined with CR0.WP, CR4.SMEP/SMAP, EFER.NXE and
// RFLAGS.AC, as six bits (read/write/execute for supervisor, then for user), so the
// hot path is one compare and one mask. Write rights are granted only once the leaf's
// dirty bit is set, so the first write through a clean entry walks again and sets D,
// as hardware does. Like a real TLB it may hold stale entries: software must INVLPG or
// reload CR3 after changing a paging structure. Because the rights are precombined,
// the emulator itself must drop the whole TLB whenever one of the bits they depend on
// changes: the RFLAGS setter does it for AC, controlRegistersWritten() for the others.

import type { Cpu } from "./cpu.ts";
import { CpuFault, PF_VEC, CR0_PG, CR0_WP, CR4_PAE, CR4_PCIDE, CR4_SMEP, CR4_SMAP, CR4_PGE, EFER_NXE } from "./arch.ts";
import { AC } from "./flags.ts";
import { COSTS } from "../cost.ts";

const WALK_STEP = COSTS.pageWalkStep;

export const ACC_READ = 1, ACC_WRITE = 2, ACC_EXEC = 4;
const SUP_ALL = 7;

/** Page-fault error code bits. */
export const PFE_P = 1, PFE_W = 2, PFE_U = 4, PFE_RSVD = 8, PFE_I = 16;

/** Physical-address width the processor reports in CPUID 0x80000008. */
export const MAXPHYADDR = 46;

const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;
/** Bits 51:MAXPHYADDR of an entry's high half are reserved. */
const HI_RESERVED = ((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);
const ADDR_HI_MASK = (1 << (MAXPHYADDR - 32)) - 1;

export class Tlb {
  static readonly SIZE = 4096;
  /**
   * The slot of a virtual page number. One way, indexed by the low VPN bits folded with
   * the next twelve, so that pages a multiple of 16 MB apart (a domain's code and its
   * stacks, say) do not evict each other the way a plain direct-mapped index would;
   * hardware TLBs avoid such conflicts with ways. Cpu.translate and jit.ts page() inline
   * the same expression.
   */
  static slot(vpn: number): number {
    return (vpn ^ (vpn >> 12)) & (Tlb.SIZE - 1);
  }
  readonly mask = Tlb.SIZE - 1;
  readonly vpn = new Float64Array(Tlb.SIZE).fill(NaN);
  readonly pa = new Float64Array(Tlb.SIZE);
  readonly perm = new Uint8Array(Tlb.SIZE);
  readonly global = new Uint8Array(Tlb.SIZE);
  /** For entries cut from a 2 MB or 1 GB page: the first 4 KB page number of that page. */
  readonly large = new Float64Array(Tlb.SIZE).fill(NaN);
  private largeCount = 0;
  /**
   * The other TLBs of the same VPID (VMX keeps one TLB per VPID and EPTP: vmx/tlb.ts).
   * Every flush acts on them too: INVLPG and CR3 loads invalidate the mappings of the
   * current VPID for all EPTPs (SDM 29.4.3.1), and rights precombined with CR0/CR4/EFER/AC
   * are shared guest state for all of them. Empty without VMX.
   */
  peers: readonly Tlb[] = [];
  /**
   * Slots filled since the last clear(), while fewer than SIZE: clearing a TLB that saw
   * little use (a guest between two VM exits) touches only those.
   */
  private readonly filled = new Uint16Array(Tlb.SIZE);
  private filledCount = 0;

  fill(vpn: number, pa: number, perm: number, global: boolean, largeBase: number): void {
    const s = Tlb.slot(vpn);
    this.vpn[s] = vpn;
    this.pa[s] = pa;
    this.perm[s] = perm;
    this.global[s] = global ? 1 : 0;
    this.large[s] = largeBase;
    if (largeBase === largeBase) this.largeCount++;
    if (this.filledCount < Tlb.SIZE) this.filled[this.filledCount++] = s;
  }

  flushAll(): void {
    this.clear();
    for (const p of this.peers) p.clear();
  }

  flushNonGlobal(): void {
    this.clearNonGlobal();
    for (const p of this.peers) p.clearNonGlobal();
  }

  /** INVLPG: the translation of this page, including a large page that covers it. */
  flushPage(vpn: number): void {
    this.clearPage(vpn);
    for (const p of this.peers) p.clearPage(vpn);
  }

  /** Drops every entry of this TLB (not its peers). */
  clear(): void {
    if (this.filledCount < Tlb.SIZE) {
      for (let k = 0; k < this.filledCount; k++) {
        const s = this.filled[k];
        this.vpn[s] = NaN;
        this.large[s] = NaN;
      }
    } else {
      this.vpn.fill(NaN);
      this.large.fill(NaN);
    }
    this.filledCount = 0;
    this.largeCount = 0;
  }

  clearNonGlobal(): void {
    for (let s = 0; s < Tlb.SIZE; s++) if (this.global[s] === 0) this.vpn[s] = NaN;
  }

  clearPage(vpn: number): void {
    const s = Tlb.slot(vpn);
    if (this.vpn[s] === vpn) this.vpn[s] = NaN;
    if (this.largeCount === 0) return;
    const base2m = Math.floor(vpn / 512) * 512, base1g = Math.floor(vpn / 262144) * 262144;
    for (let k = 0; k < Tlb.SIZE; k++) {
      const l = this.large[k];
      if (l === base2m || l === base1g) this.vpn[k] = NaN;
    }
  }

  /** Number of valid entries (for tests and statistics). */
  get valid(): number {
    let n = 0;
    for (let s = 0; s < Tlb.SIZE; s++) if (this.vpn[s] === this.vpn[s]) n++;
    return n;
  }
}

/**
 * Raises #PF. As the SDM requires (4.10.4.1), a page fault also invalidates the TLB
 * entries for the faulting page, including every slice of a large page that covers it,
 * so a stale translation cannot outlive the fault it explains (and a "spurious" fault
 * happens at most once per page).
 */
function pageFault(cpu: Cpu, la: number, code: number): never {
  cpu.invlpg(la);
  const previousCr2 = cpu.cr2;
  cpu.cr2 = la;
  throw new PageFault(code, previousCr2);
}

/**
 * A #PF. CR2 is loaded when the fault is raised; a VM exit that takes the #PF instead of
 * the guest's IDT must leave CR2 unchanged (SDM Vol. 3C, 28.1), so the fault remembers the old value.
 */
export class PageFault extends CpuFault {
  constructor(errorCode: number, readonly previousCr2: number) {
    super(PF_VEC, errorCode);
  }
}

/**
 * Call after a write to CR0, CR4 or EFER (MOV to CR0/CR4, LMSW, WRMSR, VM entry/exit)
 * with the old values. The TLB keeps rights already combined with CR0.WP, CR4.SMEP/SMAP
 * and EFER.NXE, while hardware applies those to its cached entries at the time of each
 * access (changing WP, for one, invalidates nothing architecturally), so every change
 * of them must drop the whole TLB, global entries included, or stale rights would be
 * used.
 */
export function controlRegistersWritten(cpu: Cpu, oldCr0: number, oldCr4: number, oldEfer = cpu.efer): void {
  // The masks are built here, not at module level: cpu.ts and this module import each
  // other, so cpu.ts's constants are not yet initialised while this module loads.
  const cr0Bits = CR0_PG | CR0_WP;
  const cr4Bits = CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP;
  if (((oldCr0 ^ cpu.cr0) & cr0Bits) !== 0 || ((oldCr4 ^ cpu.cr4) & cr4Bits) !== 0 || ((oldEfer ^ cpu.efer) & EFER_NXE) !== 0) {
    cpu.flushTlb(true);
  }
}

/**
 * Walks the paging structures for `la`, checks rights, sets A/D bits, fills the TLB and
 * returns the physical address. Faults with #PF (error code per the SDM, CR2 = la).
 */
export function translate(cpu: Cpu, la: number, acc: number, user: boolean): number {
  const vpn = Math.floor(la / 4096);
  const g = cpu.guestPhys;
  if ((cpu.cr0 & CR0_PG) === 0) {
    if (!g) {
      cpu.tlb.fill(vpn, vpn * 4096, 0x3f, false, NaN);
      return la;
    }
    const hpa = g.translate(la, acc, true, la);
    cpu.tlb.fill(vpn, hpa - (hpa % 4096), g.rights * 9, false, NaN);
    return hpa;
  }
  const mem = cpu.mem;
  // Under EPT, every guest-physical address the walk touches is translated again.
  const table32 = (gpa: number, write: boolean) => (g ? g.translate(gpa, write ? ACC_WRITE : ACC_READ, false, la) : gpa);
  const nxe = (cpu.efer & EFER_NXE) !== 0;
  const fetchBit = acc === ACC_EXEC && (nxe || (cpu.cr4 & CR4_SMEP) !== 0) ? PFE_I : 0;
  const errBase = (acc === ACC_WRITE ? PFE_W : 0) | (user ? PFE_U : 0) | fetchBit;

  let table = cpu.cr3 - (cpu.cr3 % 4096);
  table = table % 2 ** MAXPHYADDR;
  let rw = 1, us = 1, nx = 0;
  const entries: number[] = [];
  let leafLo = 0, leafAddr = 0, shift = 39;
  for (;; shift -= 9) {
    const idx = Math.floor(la / 2 ** shift) & 511;
    const ea = table + idx * 8;
    const hea = table32(ea, false);
    cpu.cycles += WALK_STEP;
    const lo = mem.read32(hea), hi = mem.read32(hea + 4);
    if ((lo & PTE_P) === 0) pageFault(cpu, la, errBase);
    const ps = shift !== 12 && (lo & PTE_PS) !== 0;
    let reserved = (hi & HI_RESERVED) !== 0 || (!nxe && hi < 0);
    if (ps && shift === 39) reserved = true;
    if (ps) {
      // Large-page frames must be aligned: bits shift-1:13 of the address are reserved.
      const lowMask = (2 ** shift - 1) & ~0x1fff;
      if ((lo & lowMask) !== 0) reserved = true;
    }
    if (reserved) pageFault(cpu, la, errBase | PFE_P | PFE_RSVD);
    rw &= (lo >> 1) & 1;
    us &= (lo >> 2) & 1;
    nx |= hi >>> 31;
    entries.push(ea);
    const frame = (hi & ADDR_HI_MASK) * 4294967296 + ((lo & ~0xfff) >>> 0);
    if (shift === 12 || ps) {
      leafLo = lo;
      leafAddr = ea;
      table = frame - (frame % 2 ** shift); // a large page's bit 12 is PAT, not address
      break;
    }
    table = frame;
  }
  if (!nxe) nx = 0;

  // Rights of this translation for each kind of access.
  const wp = (cpu.cr0 & CR0_WP) !== 0;
  const smap = (cpu.cr4 & CR4_SMAP) !== 0 && (cpu.rfl & AC) === 0;
  const smep = (cpu.cr4 & CR4_SMEP) !== 0;
  let sup = SUP_ALL;
  if (!rw && wp) sup &= ~ACC_WRITE;
  if (nx || (us && smep)) sup &= ~ACC_EXEC;
  if (us && smap) sup &= ~(ACC_READ | ACC_WRITE);
  let usr = 0;
  if (us) usr = ACC_READ | (rw ? ACC_WRITE : 0) | (nx ? 0 : ACC_EXEC);
  const allowed = user ? usr : sup;
  if ((allowed & acc) === 0) pageFault(cpu, la, errBase | PFE_P);

  // Accessed on every level, dirty on the leaf for a write.
  for (const ea of entries) {
    const lo = mem.read32(table32(ea, false));
    if ((lo & PTE_A) === 0) mem.write32(table32(ea, true), lo | PTE_A);
  }
  let dirty = (leafLo & PTE_D) !== 0;
  if (acc === ACC_WRITE && !dirty) {
    const hleaf = table32(leafAddr, true);
    mem.write32(hleaf, mem.read32(hleaf) | PTE_D);
    dirty = true;
  }
  if (!dirty) {
    sup &= ~ACC_WRITE;
    usr &= ~ACC_WRITE;
  }

  const pageSize = 2 ** shift;
  const offsetInPage = la - Math.floor(la / pageSize) * pageSize;
  const pa4k = table + (offsetInPage - (offsetInPage % 4096));
  const largeBase = shift === 12 ? NaN : Math.floor(vpn / (pageSize / 4096)) * (pageSize / 4096);
  const global = (leafLo & PTE_G) !== 0 && (cpu.cr4 & CR4_PGE) !== 0;
  if (!g) {
    cpu.tlb.fill(vpn, pa4k, sup | (usr << 3), global, largeBase);
    return pa4k + (la & 0xfff);
  }
  // The final guest-physical page through EPT: the TLB keeps only what both allow, so an
  // access EPT forbids misses the TLB, walks again and becomes an EPT violation.
  const hpa = g.translate(pa4k + (la & 0xfff), acc, true, la);
  cpu.tlb.fill(vpn, hpa - (la & 0xfff), (sup & g.rights) | ((usr & g.rights) << 3), global, largeBase);
  return hpa;
}
