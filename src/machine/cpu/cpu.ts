// One x86-64 logical processor in 64-bit long mode.
//
// Representation (chosen for speed without BigInt):
//  - general registers as 32-bit halves: lo[r] and hi[r] (Int32Array);
//  - linear addresses (RIP, effective addresses, FS/GS bases, CR2) as numbers holding
//    the signed value of a canonical 48-bit address: 0xFFFFFFFF80000000 is -2^31. Every
//    canonical address fits a double exactly, and floor(la / 2^k) gives the right bits;
//  - physical addresses as non-negative numbers.
//
// Execution: instructions are decoded once and cached per physical page (see
// memory.ts for invalidation); the run loop fetches the cached Insn for RIP, sets
// nextRip, calls its handler and commits RIP. A fault is thrown as a CpuFault from
// anywhere inside a handler before it has written architectural state, caught by the
// run loop and delivered through the IDT, so instructions are precise. Nothing a guest
// does can throw a JavaScript error out of run().

import { PhysicalMemory, type NativeGate } from "../memory.ts";
import { decode, Insn, NeedMoreBytes, NO_REG, REG_RIP } from "./decoder.ts";
import { arithFlags, setArithFlags, ARITH, WRITABLE, IF, TF, RF, F_EAGER, AC, DF } from "./flags.ts";
import { Tlb, ACC_READ, ACC_WRITE, ACC_EXEC, translate } from "./paging.ts";
import { deliverEvent } from "./interrupts.ts";
import { Block, continuesBlock, runBlock, completedBefore, cyclesBefore } from "./blocks.ts";
import type { LocalApic } from "../apic.ts";
import type { Vmx } from "../vmx/vmx.ts";

export * from "./arch.ts";
import {
  CpuFault, Stop, GP, UD, SS_VEC, RSP, RBP, CR0_PE, CR0_PG, CR0_ET, CR0_NE, CR0_WP, CR4_PAE, EFER_LME, EFER_LMA, EFER_NXE, EFER_SCE,
  type PortBus, type ShutdownReason,
} from "./arch.ts";

const TLB_MASK = Tlb.SIZE - 1;

/**
 * The instruction a native gate decodes to (memory.ts): one byte long, no cost of its
 * own (the host code charges what it does), and never part of a longer block.
 */
function gateInsn(gate: NativeGate): Insn {
  const i = new Insn((cpu) => gate(cpu));
  i.len = 1;
  i.cost = 0;
  return i;
}

/**
 * Guest-physical to host-physical translation below paging (EPT, installed by VMX in
 * non-root operation). Every guest-physical access of a page walk and its final page go
 * through it; it throws to end the instruction (an EPT violation is a VM exit).
 */
export interface GuestPhysical {
  /** Host-physical address for `gpa`; `final`: the page itself rather than a paging-structure entry. */
  translate(gpa: number, acc: number, final: boolean, la: number): number;
  /** The rights (ACC_READ | ACC_WRITE | ACC_EXEC) of the last final translation. */
  readonly rights: number;
}

/**
 * What VMX does with events in non-root operation; the event service (APIC side) asks
 * before it delivers anything through the IDT.
 */
export interface EventInterceptor {
  /** At an instruction boundary, first: the VMX-preemption timer. True if it caused a VM exit. */
  boundary(cpu: Cpu): boolean;
  /** An NMI is about to be delivered: true if it is a VM exit instead (NMI exiting). */
  nmi(cpu: Cpu): boolean;
  /**
   * An external interrupt is deliverable: true if it is a VM exit instead (external-
   * interrupt exiting). `acknowledge` takes the vector from the local APIC (for
   * "acknowledge interrupt on exit").
   */
  externalInterrupt(cpu: Cpu, acknowledge: () => number): boolean;
}

/**
 * Thrown by an instruction (or an event) to end it without committing it, like a fault,
 * when something other than the guest's IDT takes over: a VM exit. run() accounts the
 * instruction as not executed and calls `action`.
 */
export class Interception {
  constructor(readonly action: (cpu: Cpu) => void) {}
}

export class Cpu {
  readonly mem: PhysicalMemory;
  // RAM, its size and the decoded-code page marks: the memory fast path (also inlined
  // by generated block code, jit.ts).
  readonly ram: DataView;
  readonly ramSize: number;
  readonly codePage: Uint8Array;
  ports: PortBus;
  readonly id: number;

  // General registers as halves; RIP as a linear address.
  readonly lo = new Int32Array(16);
  readonly hi = new Int32Array(16);
  rip = 0;
  nextRip = 0;
  /** High half of the last 64-bit operand read (readE/readG/readReg/read64). */
  h = 0;
  /** Where readEForWrite() found its memory operand: physical address, or -1 and the linear one. */
  private rmwPa = -1;
  private rmwLa = 0;
  /** 3 at CPL 3, else 0: shifts an access kind to the TLB's user-mode rights bits (read by jit.ts; set through cpl). */
  userShift = 0;
  private cplValue = 0;

  // Lazy arithmetic flags (flags.ts) and the other RFLAGS bits.
  fop = F_EAGER;
  fsize = 4;
  fa = 0; fah = 0; fb = 0; fbh = 0; fr = 0; frh = 0; fcin = 0;
  fe = 0;
  /** RFLAGS bits other than the six arithmetic ones; bit 1 always set. */
  rfl = 2;

  // Segments: selectors for all six, bases that matter in 64-bit mode (FS, GS), CPL.
  readonly segSel = new Uint16Array(6);
  readonly segBase = [0, 0, 0, 0, 0, 0];
  kernelGsBase = 0;

  cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_WP;
  cr2 = 0;
  cr3 = 0;
  cr4 = CR4_PAE;
  cr8 = 0;
  efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
  xcr0 = 1;
  readonly dr = [0, 0, 0, 0, 0xffff0ff0, 0x400, 0xffff0ff0, 0x400];
  gdtBase = 0; gdtLimit = 0;
  idtBase = 0; idtLimit = 0;
  ldtSel = 0; ldtBase = 0; ldtLimit = 0;
  trSel = 0; trBase = 0; trLimit = 0;
  /** MSRs without a dedicated field: index -> [lo, hi]. */
  readonly msrs = new Map<number, [number, number]>();
  /** x87/SSE/AVX state as the bytes of an XSAVE area (legacy region, header, YMM_Hi128). */
  readonly xstate = new Uint8Array(1024);

  // Time and accounting.
  cycles = 0;
  instructions = 0;
  tscOffset = 0;

  // Events.
  halted = false;
  shutdown: ShutdownReason | null = null;
  /** STI/MOV SS shadow: interrupts are not recognised before the next instruction ends. */
  interruptShadow = false;
  /** NMIs are blocked from the delivery of one until the next IRET (events.ts, traps.ts). */
  nmiBlocked = false;
  stopRequested = false;

  /**
   * The TLB of the current translation context. VMX (vmx/tlb.ts) keeps one per (VPID,
   * EPTP) and swaps this on VM entry, VM exit and VMFUNC, so those need no flush.
   */
  tlb = new Tlb();
  /** Decoded blocks per physical page, indexed by the offset of their first instruction. */
  private readonly icache = new Map<number, (Block | undefined)[]>();
  /** Linear address of the page fetch() last translated (NaN: translate again). */
  private fetchBase = NaN;
  private fetchPage: (Block | undefined)[] = [];
  private fetchPa = 0;
  private readonly fetchBuf = new Uint8Array(15);
  /** Set when any decoded code page is written; a running block stops (blocks.ts). */
  codeWritten = false;

  // Hooks for the hardware around the core (APIC, VMX). Null: a bare processor.
  /** EPT, while in VMX non-root operation with EPT enabled. */
  guestPhys: GuestPhysical | null = null;
  /** VMX state (vmx/vmx.ts), created by the first VMX instruction or by the hypervisor. */
  vmx: Vmx | null = null;
  /** This vCPU's local APIC (apic.ts): its xAPIC page is intercepted in readPhys/writePhys. */
  apic: LocalApic | null = null;
  /**
   * Set by whoever makes an event pending (an interrupt, NMI, a VMX timer): run() clears
   * it and calls serviceEvents at the next instruction boundary, between blocks.
   */
  attention = false;
  serviceEvents: ((cpu: Cpu) => void) | null = null;
  /** Sees every fault before the IDT does; returns true when it took the fault (a VM exit). */
  interceptFault: ((cpu: Cpu, f: CpuFault) => boolean) | null = null;
  /** VMX's say on NMIs, external interrupts and its preemption timer. */
  eventInterceptor: EventInterceptor | null = null;
  /** Timers (APIC, VMX preemption) by owner: the cycle at which each wants serviceEvents. */
  private readonly deadlines = new Map<string, number>();
  /** The earliest deadline: run() services events once cycles reach it. */
  eventCycle = Infinity;

  constructor(mem: PhysicalMemory, ports: PortBus, id = 0) {
    this.mem = mem;
    this.ports = ports;
    this.id = id;
    this.ram = mem.view;
    this.ramSize = mem.size;
    this.codePage = mem.codePage;
    // x87/SSE control at their FNINIT/reset values: FCW 037FH, MXCSR 1F80H; MXCSR_MASK
    // (FFFFH: DAZ supported) is the constant FXSAVE/XSAVE report.
    this.xstate.set([0x7f, 0x03], 0);
    this.xstate.set([0x80, 0x1f, 0, 0, 0xff, 0xff, 0, 0], 24);
    const prev = mem.onCodeWrite;
    mem.onCodeWrite = (page) => {
      prev(page);
      this.icache.delete(page);
      this.codeWritten = true;
      if (this.fetchPa / 4096 === page) this.fetchBase = NaN;
    };
  }

  // ---------------------------------------------------------------- registers

  /** Reads a register of `size` bytes; low 32 bits returned, high half in this.h. */
  readReg(size: number, r: number): number {
    this.h = 0;
    switch (size) {
      case 1: return r < 16 ? this.lo[r] & 0xff : (this.lo[r - 16] >> 8) & 0xff;
      case 2: return this.lo[r] & 0xffff;
      case 4: return this.lo[r];
      default: this.h = this.hi[r]; return this.lo[r];
    }
  }

  /** Writes a register with x86-64 rules: 32-bit writes zero the high half, 8/16 merge. */
  writeReg(size: number, r: number, lo: number, hi: number): void {
    switch (size) {
      case 1:
        if (r < 16) this.lo[r] = (this.lo[r] & ~0xff) | (lo & 0xff);
        else this.lo[r - 16] = (this.lo[r - 16] & ~0xff00) | ((lo & 0xff) << 8);
        return;
      case 2: this.lo[r] = (this.lo[r] & ~0xffff) | (lo & 0xffff); return;
      case 4: this.lo[r] = lo; this.hi[r] = 0; return;
      default: this.lo[r] = lo; this.hi[r] = hi;
    }
  }

  /** A 64-bit register as a number (exact below 2^53; for addresses and small values). */
  reg64(r: number): number {
    return this.hi[r] * 4294967296 + (this.lo[r] >>> 0);
  }
  setReg64(r: number, v: number): void {
    this.lo[r] = v | 0;
    this.hi[r] = Math.floor(v / 4294967296) | 0;
  }

  /** Current privilege level (CS.RPL in 64-bit mode). */
  get cpl(): number {
    return this.cplValue;
  }
  set cpl(v: number) {
    this.cplValue = v;
    this.userShift = v === 3 ? 3 : 0;
  }

  /** Asks for serviceEvents once the cycle clock reaches `cycle` (Infinity: cancel). */
  setDeadline(owner: string, cycle: number): void {
    if (cycle === Infinity) this.deadlines.delete(owner);
    else this.deadlines.set(owner, cycle);
    let min = Infinity;
    for (const c of this.deadlines.values()) min = Math.min(min, c);
    this.eventCycle = min;
  }

  // ---------------------------------------------------------------- RFLAGS

  get rflags(): number {
    return (this.rfl & ~ARITH) | arithFlags(this) | 2;
  }
  set rflags(v: number) {
    const changed = (this.rfl ^ v) & AC;
    if ((v & ~this.rfl & IF) !== 0) this.attention = true; // a pending interrupt may now be taken (events.ts)
    setArithFlags(this, v);
    this.rfl = (v & WRITABLE & ~ARITH) | 2;
    if (changed) this.tlb.flushAll(); // SMAP checks depend on AC
  }
  get interruptsEnabled(): boolean {
    return (this.rfl & IF) !== 0;
  }
  get df(): boolean {
    return (this.rfl & DF) !== 0;
  }

  // ---------------------------------------------------------------- operands

  /**
   * The effective address of i's memory operand as exact 64-bit halves (low returned,
   * high in this.h), without segment base: what LEA produces.
   */
  eaHalves(i: Insn): number {
    let lo = i.disp, hi = i.disp >> 31;
    if (i.base !== NO_REG) {
      let blo: number, bhi: number;
      if (i.base === REG_RIP) {
        const r = this.nextRip;
        blo = r | 0;
        bhi = Math.floor(r / 4294967296) | 0;
      } else {
        blo = this.lo[i.base];
        bhi = this.hi[i.base];
      }
      const sum = (blo >>> 0) + (lo >>> 0);
      lo = sum | 0;
      hi = (bhi + hi + (sum > 0xffffffff ? 1 : 0)) | 0;
    }
    if (i.index !== NO_REG) {
      const s = i.scale;
      // index * scale as halves: the low product is below 2^35, exact.
      const prod = (this.lo[i.index] >>> 0) * s;
      const phi = (Math.imul(this.hi[i.index], s) + Math.floor(prod / 4294967296)) | 0;
      const sum = (lo >>> 0) + (prod >>> 0);
      lo = sum | 0;
      hi = (hi + phi + (sum > 0xffffffff ? 1 : 0)) | 0;
    }
    this.h = i.addrsize === 4 ? 0 : hi;
    return i.addrsize === 4 ? lo >>> 0 : lo;
  }

  /**
   * Linear address of i's memory operand, with an FS/GS base; #SS(0) or #GP(0) if it is
   * not canonical (#SS for references through SS: base RSP or RBP without FS/GS).
   * While base and index are within +-2^47 the sum is exact as a double; otherwise the
   * exact 64-bit halves decide (a sum of huge values can wrap around to a small one).
   */
  ea(i: Insn): number {
    const b = i.base, x = i.index;
    let la: number;
    if (b === REG_RIP) la = this.nextRip + i.disp;
    else {
      const bh = b >= 0 ? this.hi[b] : 0, xh = x >= 0 ? this.hi[x] : 0;
      if (i.addrsize === 8 && ((bh + 32768) | (xh + 32768)) >>> 16 === 0) {
        la = i.disp;
        if (b >= 0) la += bh * 4294967296 + (this.lo[b] >>> 0);
        if (x >= 0) la += (xh * 4294967296 + (this.lo[x] >>> 0)) * i.scale;
      } else {
        const lo = this.eaHalves(i);
        la = this.h * 4294967296 + (lo >>> 0);
      }
    }
    if (la < -140737488355328 || la >= 140737488355328) {
      throw new CpuFault(i.seg < 0 && (b === RSP || b === RBP) ? SS_VEC : GP, 0);
    }
    return i.seg >= 0 ? this.addSegBase(la, i.seg) : la;
  }

  private addSegBase(la: number, seg: number): number {
    // 64-bit wraparound, then back to the signed canonical form if it is canonical.
    let v = la + this.segBase[seg];
    if (v >= 9223372036854775808) v -= 18446744073709551616;
    else if (v < -9223372036854775808) v += 18446744073709551616;
    return v;
  }

  /** Reads the E operand (register or memory); high half in this.h. */
  readE(i: Insn): number {
    if (i.rm !== NO_REG) return this.readReg(i.opsize, i.rm);
    return this.readMem(this.ea(i), i.opsize);
  }

  /** Reads the E operand at a size other than the operand size (MOVZX, MOVSX). */
  readESized(i: Insn, size: number): number {
    if (i.rm !== NO_REG) return this.readReg(size, i.rm);
    return this.readMem(this.ea(i), size);
  }

  /** Writes the E operand. For a memory operand, re-computes the address (no state changed since). */
  writeE(i: Insn, lo: number, hi: number): void {
    if (i.rm !== NO_REG) this.writeReg(i.opsize, i.rm, lo, hi);
    else this.writeMem(this.ea(i), i.opsize, lo, hi);
  }

  /**
   * Reads E for a read-modify-write: a memory operand is translated once, for writing
   * (so the instruction faults before changing anything), and writeBack() stores to it.
   */
  readEForWrite(i: Insn): number {
    if (i.rm !== NO_REG) return this.readReg(i.opsize, i.rm);
    const la = this.ea(i);
    const size = i.opsize;
    if ((la & 0xfff) > 4096 - size) {
      this.checkWrite(la, size);
      this.rmwPa = -1;
      this.rmwLa = la;
      return this.readSplit(la, size);
    }
    const pa = this.translate(la, ACC_WRITE);
    this.rmwPa = pa;
    return this.readPhys(pa, size);
  }

  /** Stores the result of a read-modify-write to the operand readEForWrite() read. */
  writeBack(i: Insn, lo: number, hi: number): void {
    if (i.rm !== NO_REG) this.writeReg(i.opsize, i.rm, lo, hi);
    else if (this.rmwPa >= 0) this.writePhys(this.rmwPa, i.opsize, lo, hi);
    else this.writeSplit(this.rmwLa, i.opsize, lo, hi);
  }

  readG(i: Insn): number {
    return this.readReg(i.opsize, i.reg);
  }
  writeG(i: Insn, lo: number, hi: number): void {
    this.writeReg(i.opsize, i.reg, lo, hi);
  }

  // ---------------------------------------------------------------- linear memory

  isCanonical(la: number): boolean {
    return la >= -140737488355328 && la < 140737488355328;
  }

  /** Faults for a non-canonical address: #SS for stack references, else #GP(0). */
  private checkCanonical(la: number, stack = false): void {
    if (!this.isCanonical(la)) throw new CpuFault(stack ? SS_VEC : GP, 0);
  }

  /** Translates a linear address for `acc` (ACC_READ/WRITE/EXEC) at the current CPL. */
  translate(la: number, acc: number): number {
    const t = this.tlb;
    const vpn = Math.floor(la / 4096);
    const slot = (vpn ^ (vpn >> 12)) & TLB_MASK; // Tlb.slot
    if (t.vpn[slot] === vpn && (t.perm[slot] & (acc << this.userShift)) !== 0) return t.pa[slot] + (la & 0xfff);
    return this.translateMiss(la, acc, this.userShift !== 0);
  }

  /** Translates for an implicit supervisor access (descriptor tables, TSS, event frames) or as `user`. */
  translateAs(la: number, acc: number, user: boolean): number {
    const t = this.tlb;
    const vpn = Math.floor(la / 4096);
    const slot = (vpn ^ (vpn >> 12)) & TLB_MASK; // Tlb.slot
    if (t.vpn[slot] === vpn && (t.perm[slot] & (user ? acc << 3 : acc)) !== 0) return t.pa[slot] + (la & 0xfff);
    return this.translateMiss(la, acc, user);
  }

  private translateMiss(la: number, acc: number, user: boolean): number {
    if (!this.isCanonical(la)) throw new CpuFault(GP, 0);
    return translate(this, la, acc, user);
  }

  // Physical accesses: RAM directly, anything else through PhysicalMemory (MMIO, open bus).

  /** Reads `size` bytes at a physical address; high half of a qword in this.h. */
  readPhys(pa: number, size: number): number {
    if (pa + size > this.ramSize) {
      if (this.apic !== null && this.apic.claims(pa)) {
        this.h = 0;
        return this.apic.readMmio(pa, size); // this vCPU's own local APIC page
      }
      this.h = size === 8 ? this.mem.read32(pa + 4) : 0;
      return size === 1 ? this.mem.read8(pa) : size === 2 ? this.mem.read16(pa) : this.mem.read32(pa);
    }
    const v = this.ram;
    switch (size) {
      case 4: this.h = 0; return v.getInt32(pa, true);
      case 8: this.h = v.getInt32(pa + 4, true); return v.getInt32(pa, true);
      case 1: this.h = 0; return v.getUint8(pa);
      default: this.h = 0; return v.getUint16(pa, true);
    }
  }

  writePhys(pa: number, size: number, lo: number, hi: number): void {
    if (pa + size > this.ramSize || this.codePage[pa >>> 12] !== 0 || this.codePage[(pa + size - 1) >>> 12] !== 0) {
      if (this.apic !== null && this.apic.claims(pa)) return this.apic.writeMmio(pa, size, lo);
      // MMIO, or a page with decoded code (PhysicalMemory invalidates it).
      if (size === 1) this.mem.write8(pa, lo);
      else if (size === 2) this.mem.write16(pa, lo);
      else {
        this.mem.write32(pa, lo);
        if (size === 8) this.mem.write32(pa + 4, hi);
      }
      return;
    }
    const v = this.ram;
    switch (size) {
      case 4: v.setInt32(pa, lo, true); return;
      case 8: v.setInt32(pa, lo, true); v.setInt32(pa + 4, hi, true); return;
      case 1: v.setUint8(pa, lo); return;
      default: v.setUint16(pa, lo, true);
    }
  }

  readMem(la: number, size: number): number {
    if ((la & 0xfff) > 4096 - size) return this.readSplit(la, size);
    return this.readPhys(this.translate(la, ACC_READ), size);
  }

  writeMem(la: number, size: number, lo: number, hi: number): void {
    if ((la & 0xfff) > 4096 - size) return this.writeSplit(la, size, lo, hi);
    this.writePhys(this.translate(la, ACC_WRITE), size, lo, hi);
  }

  /** Faults now if any byte of [la, la+size) is not writable, so a later write cannot. */
  checkWrite(la: number, size: number): void {
    this.translate(la, ACC_WRITE);
    if ((la & 0xfff) + size > 4096) this.translate(la + 4096 - (la & 0xfff), ACC_WRITE); // CR2 = first byte on the second page
  }

  private readSplit(la: number, size: number): number {
    // Both pages are translated before any byte is read, so a fault leaves nothing behind.
    const pa0 = this.translate(la, ACC_READ);
    const first = 4096 - (la & 0xfff);
    const pa1 = this.translate(la + first, ACC_READ);
    let lo = 0, hi = 0;
    for (let k = 0; k < size; k++) {
      const b = k < first ? this.mem.read8(pa0 + k) : this.mem.read8(pa1 + k - first);
      if (k < 4) lo |= b << (8 * k);
      else hi |= b << (8 * (k - 4));
    }
    this.h = hi;
    return lo;
  }

  private writeSplit(la: number, size: number, lo: number, hi: number): void {
    const pa0 = this.translate(la, ACC_WRITE);
    const first = 4096 - (la & 0xfff);
    const pa1 = this.translate(la + first, ACC_WRITE);
    for (let k = 0; k < size; k++) {
      const b = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff;
      if (k < first) this.mem.write8(pa0 + k, b);
      else this.mem.write8(pa1 + k - first, b);
    }
  }

  read64(la: number): number {
    return this.readMem(la, 8);
  }

  // ---------------------------------------------------------------- stack

  push(size: number, lo: number, hi: number): void {
    const sp = this.reg64(RSP) - size;
    this.checkCanonical(sp, true);
    this.writeMem(sp, size, lo, hi);
    this.setReg64(RSP, sp);
  }

  /** Pops `size` bytes; returns the low half, high half in this.h. */
  pop(size: number): number {
    const sp = this.reg64(RSP);
    this.checkCanonical(sp, true);
    const v = this.readMem(sp, size);
    const h = this.h;
    this.setReg64(RSP, sp + size);
    this.h = h;
    return v;
  }

  /** A near branch: the target must be canonical (else #GP(0) at the branch). */
  jumpTo(target: number): void {
    if (!this.isCanonical(target)) throw new CpuFault(GP, 0);
    this.nextRip = target;
  }

  // ---------------------------------------------------------------- faults

  undefinedOpcode(_why?: string): never {
    throw new CpuFault(UD);
  }
  generalProtection(code: number): never {
    throw new CpuFault(GP, code);
  }
  requirePrivilege(): void {
    if (this.cpl !== 0) throw new CpuFault(GP, 0);
  }

  // ---------------------------------------------------------------- TLB and caches

  /** CR3 load: non-global translations go. */
  flushTlb(global: boolean): void {
    if (global) this.tlb.flushAll();
    else this.tlb.flushNonGlobal();
    this.fetchBase = NaN;
  }
  invlpg(la: number): void {
    this.tlb.flushPage(Math.floor(la / 4096));
    this.fetchBase = NaN;
  }
  /**
   * Forgets the code page whose execute right fetch() last checked: call after a CPL
   * change (IRET, SYSCALL, SYSRET, event delivery), since that right depends on the CPL.
   */
  refetch(): void {
    this.fetchBase = NaN;
  }

  // ---------------------------------------------------------------- execution

  /** The block at RIP: from the current fetch page, else after translating RIP's page. */
  private fetchBlock(): Block {
    const rip = this.rip;
    let off = rip - this.fetchBase;
    if (!(off >= 0 && off < 4096)) {
      this.checkCanonical(rip);
      off = rip & 0xfff;
      const pa = this.translate(rip, ACC_EXEC) - off; // CR2 of a fetch fault is RIP itself
      this.fetchPa = pa;
      const ppn = pa / 4096;
      let page = this.icache.get(ppn);
      if (!page) {
        page = new Array(4096);
        if (this.mem.isRam(pa, 4096)) {
          this.icache.set(ppn, page);
          this.mem.codePage[ppn] = 1;
        }
      }
      this.fetchPage = page;
      this.fetchBase = rip - off;
    }
    return this.fetchPage[off] ?? this.buildBlock(rip, off);
  }

  /** Decodes a block starting at `rip` (page offset `off`) and caches it when it lies in the page. */
  private buildBlock(rip: number, off: number): Block {
    const insns: Insn[] = [];
    let at = off;
    for (;;) {
      const ins = this.decodeAt(rip + (at - off), this.fetchPa + at, at, insns.length === 0);
      if (ins === null) break; // it may never run: fetched when it starts a block
      if (at + ins.len > 4096) {
        // The instruction crosses into the next page: it runs alone and is not cached.
        if (insns.length === 0) return new Block([ins]);
        break;
      }
      insns.push(ins);
      at += ins.len;
      if (!continuesBlock(ins, insns.length) || at >= 4096) break;
    }
    const block = new Block(insns);
    if (this.mem.isRam(this.fetchPa)) this.fetchPage[off] = block;
    return block;
  }

  /**
   * Decodes the instruction at `rip`. Only the `first` of a block is fetched beyond its
   * page (or from MMIO): the others are decoded ahead and may never run, so null instead
   * of translating (which could fault, set CR2, exit to VMX) for them.
   */
  private decodeAt(rip: number, pa: number, off: number, first: boolean): Insn | null {
    if (this.mem.gates.size !== 0) {
      const gate = this.mem.gates.get(pa);
      if (gate) return gateInsn(gate);
    }
    const avail = Math.min(15, 4096 - off);
    if (this.mem.isRam(pa, avail)) {
      try {
        return decode(this.mem.bytes, pa, pa + avail);
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
      }
    }
    if (!first) return null;
    // The instruction crosses into the next page (or sits in MMIO): gather 15 bytes,
    // translating the second page only because the instruction really reaches it.
    const buf = this.fetchBuf;
    for (let k = 0; k < avail; k++) buf[k] = this.mem.read8(pa + k);
    let n = avail;
    try {
      return decode(buf, 0, n);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
    }
    if (n < 15) {
      const pa2 = this.translate(rip + avail, ACC_EXEC);
      for (; n < 15; n++) buf[n] = this.mem.read8(pa2 + n - avail);
    }
    try {
      return decode(buf, 0, 15);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      throw new CpuFault(GP, 0);
    }
  }

  /** Executes one instruction (or delivers the fault it raises). */
  step(): Stop {
    return this.run(1);
  }

  /**
   * Runs up to `budget` instructions. Returns early when the processor halts, shuts
   * down, or a hook sets stopRequested. Never throws for anything the guest does.
   * Whole blocks run when they fit in what is left of the budget; otherwise one
   * instruction at a time, so the count is exact.
   */
  run(budget: number): Stop {
    if (this.shutdown) return Stop.Shutdown;
    this.stopRequested = false;
    let left = budget;
    while (left > 0) {
      if (this.attention || this.cycles >= this.eventCycle) {
        // Cleared first: the service sets it again if it must look at the next boundary.
        this.attention = false;
        try {
          this.serviceEvents?.(this);
        } catch (e) {
          // Delivering an event can end in a VM exit (an EPT violation on the IDT or stack).
          if (!(e instanceof Interception)) throw e;
          e.action(this);
        }
      }
      if (this.halted) return Stop.Halted;
      let block: Block | null = null;
      let start = 0;
      try {
        while (left > 0) {
          if (this.attention || this.cycles >= this.eventCycle) break;
          start = this.rip;
          block = null;
          block = this.fetchBlock();
          let n: number;
          // Single-step up to a deadline, so a timer lands on the exact instruction boundary.
          if (block.insns.length <= left && this.cycles + block.cycles < this.eventCycle) {
            n = runBlock(this, block, left);
          } else {
            const i = block.insns[0];
            this.nextRip = start + i.len;
            i.exec(this, i);
            this.rip = this.nextRip;
            this.cycles += i.cost;
            n = 1;
          }
          this.instructions += n;
          left -= n;
          if (this.stopRequested || this.halted) break;
        }
      } catch (e) {
        if (!(e instanceof CpuFault) && !(e instanceof Interception)) throw e;
        if (block) {
          // The block's instructions before the faulting one completed.
          const k = completedBefore(block, start, this.rip);
          this.instructions += k;
          this.cycles += cyclesBefore(block, k);
          left -= k;
        }
        left--;
        if (e instanceof CpuFault) this.fault(e);
        else e.action(this);
      }
      if (this.shutdown) return Stop.Shutdown;
      if (this.stopRequested) return Stop.Requested;
    }
    return this.halted ? Stop.Halted : Stop.Budget;
  }

  /** Delivers an exception raised by the instruction at this.rip. */
  fault(f: CpuFault): void {
    this.instructions++;
    this.cycles += 1;
    if (this.interceptFault && this.interceptFault(this, f)) return;
    deliverEvent(this, f.vector, f.errorCode, "fault");
  }

  /** Stops the processor for good (a triple fault), keeping the first fault for the report. */
  triple(reason: ShutdownReason): void {
    this.vmx?.tripleFault(); // in VMX non-root operation: a VM exit (throws an Interception)
    if (!this.shutdown) this.shutdown = reason;
  }

  // Convenience for tests and loaders.
  get rsp(): number {
    return this.reg64(RSP);
  }
  set rsp(v: number) {
    this.setReg64(RSP, v);
  }
  static readonly traceFlags = { IF, TF, RF };
}
