// TLB tagging by VPID and EPTP (SDM Vol. 3C, 29.1 "Virtual-Processor Identifiers" and
// 29.4 "Caching Translation Information").
//
// The processor caches linear mappings (no EPT) and combined mappings (through EPT)
// tagged by VPID and, for combined mappings, by the EP4TA (the EPT PML4 address, bits
// 51:12 of the EPTP). Here each (VPID, EP4TA) context has a TLB of its own, and
// cpu.tlb points at the current one: VM entries, VM exits and VMFUNC switch contexts
// by swapping that pointer, so none of them flushes anything and the CPU's TLB hot path
// is unchanged. Root operation is context (VPID 0, no EPT).
//
// Flushes follow the SDM:
// - INVLPG, MOV to CR3 and the rights changes the TLB precombines act on all contexts of
//   the current VPID (Tlb.peers: "for combined mappings, all EP4TAs");
// - with "enable VPID" 0, every VM entry and VM exit invalidates VPID 0's contexts
//   (root's included, since host and guest share VPID 0);
// - INVVPID and INVEPT invalidate by VPID or by EP4TA.
//
// A TLB's entries carry rights combined with CR0.WP, CR4.SMEP/SMAP/PGE, EFER.NXE and
// RFLAGS.AC (paging.ts). Host and guest have different values of those, so each context
// remembers the values its entries were made with, and is emptied if it is entered with
// different ones.

import type { Cpu } from "../cpu/cpu.ts";
import { Tlb } from "../cpu/paging.ts";
import { CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PCIDE, CR4_SMEP, CR4_SMAP, EFER_NXE } from "../cpu/arch.ts";
import { AC } from "../cpu/flags.ts";

/** EP4TA of a context without EPT. */
export const NO_EPT = -1;
/** At most this many guest contexts are kept per vCPU; beyond, all are dropped and rebuilt. */
const MAX_CONTEXTS = 64;

interface Context {
  readonly tlb: Tlb;
  readonly vpid: number;
  readonly ep4ta: number;
  /** The control-register bits the entries were made with (rightsKey). */
  key: number;
}

/** A context's key: VPID (16 bits) above the EP4TA's page number (at most 34 bits), or -1 without EPT. */
function contextId(vpid: number, ep4ta: number): number {
  return vpid * 2 ** 35 + (ep4ta === NO_EPT ? 2 ** 34 : ep4ta / 4096);
}

/** The control-register state a TLB's precombined rights depend on, as one number. */
function rightsKey(cpu: Cpu): number {
  const cr0 = cpu.cr0 & (CR0_PG | CR0_WP);
  const cr4 = cpu.cr4 & (CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP);
  return (cr0 ^ cr4) * 4 + ((cpu.efer & EFER_NXE) !== 0 ? 2 : 0) + ((cpu.rfl & AC) !== 0 ? 1 : 0);
}

export class TlbContexts {
  private readonly root: Context;
  private current: Context;
  private readonly guests = new Map<number, Context>();

  constructor(private readonly cpu: Cpu) {
    this.root = { tlb: cpu.tlb, vpid: 0, ep4ta: NO_EPT, key: rightsKey(cpu) };
    this.current = this.root;
  }

  /** Records the state the current context's entries were made with; call before changing it (VM exit/entry). */
  leave(): void {
    this.current.key = rightsKey(this.cpu);
  }

  /** Makes (vpid, ep4ta) current (after leave() and loading the new state), or root operation's context. */
  enter(vpid: number, ep4ta: number, root = false): void {
    let ctx: Context;
    if (root) ctx = this.root;
    else {
      const id = contextId(vpid, ep4ta);
      let found = this.guests.get(id);
      if (!found) {
        if (this.guests.size >= MAX_CONTEXTS) this.dropGuests();
        found = { tlb: new Tlb(), vpid, ep4ta, key: rightsKey(this.cpu) };
        this.guests.set(id, found);
        this.relink(vpid);
      }
      ctx = found;
    }
    const key = rightsKey(this.cpu);
    if (ctx.key !== key) {
      ctx.tlb.clear();
      ctx.key = key;
    }
    this.current = ctx;
    this.cpu.tlb = ctx.tlb;
    this.cpu.refetch();
  }

  /** VMFUNC: the current VPID with another EPTP. */
  switchEpt(ep4ta: number): void {
    const vpid = this.current.vpid;
    this.leave();
    this.enter(vpid, ep4ta);
  }

  // ------------------------------------------------------------ invalidation

  private all(): Context[] {
    return [this.root, ...this.guests.values()];
  }

  /** Every mapping tagged with `vpid` (linear and combined, all EP4TAs); optionally keeping global ones. */
  invalidateVpid(vpid: number, keepGlobal = false): void {
    for (const c of this.all()) {
      if (c.vpid !== vpid) continue;
      if (keepGlobal) c.tlb.clearNonGlobal();
      else c.tlb.clear();
    }
    this.cpu.refetch();
  }

  /** INVVPID type 0: one linear address of `vpid`. */
  invalidateAddress(vpid: number, la: number): void {
    for (const c of this.all()) if (c.vpid === vpid) c.tlb.clearPage(Math.floor(la / 4096));
    this.cpu.refetch();
  }

  /** INVVPID type 2: all VPIDs but 0. */
  invalidateAllVpids(): void {
    for (const c of this.guests.values()) if (c.vpid !== 0) c.tlb.clear();
    this.cpu.refetch();
  }

  /** INVEPT single-context: combined mappings of one EP4TA (all VPIDs). */
  invalidateEp4ta(ep4ta: number): void {
    for (const c of this.guests.values()) if (c.ep4ta === ep4ta) c.tlb.clear();
    this.cpu.refetch();
  }

  /** INVEPT all-context: every combined mapping. */
  invalidateAllEpt(): void {
    for (const c of this.guests.values()) if (c.ep4ta !== NO_EPT) c.tlb.clear();
    this.cpu.refetch();
  }

  /** Number of valid entries in a context (tests and statistics); 0 if it does not exist. */
  validEntries(vpid: number, ep4ta: number): number {
    if (vpid === 0 && ep4ta === NO_EPT) return this.root.tlb.valid;
    return this.guests.get(contextId(vpid, ep4ta))?.tlb.valid ?? 0;
  }

  /** Forgets every guest context (allowed at any time: it only loses cached translations). */
  private dropGuests(): void {
    this.guests.clear();
    this.root.tlb.peers = [];
  }

  /** Gives every context of `vpid` the others as peers. */
  private relink(vpid: number): void {
    const group = this.all().filter((c) => c.vpid === vpid);
    for (const c of group) c.tlb.peers = group.filter((o) => o !== c).map((o) => o.tlb);
  }
}
