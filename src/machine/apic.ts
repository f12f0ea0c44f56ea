// The local APIC: one per vCPU, the interrupt controller inside the core.
//
// What it holds: the 256-bit IRR (requested), ISR (in service) and TMR (level-triggered)
// vectors; the task priority (TPR, whose bits 7:4 are CR8) and the processor priority
// derived from it (PPR); the local vector table (timer, thermal, performance counter,
// LINT0, LINT1, error); the interrupt command register that sends IPIs; the timer.
// It is reached as the xAPIC page (4 KB of MMIO at IA32_APIC_BASE, 0xFEE00000 after
// reset; every vCPU sees its own APIC at the same physical address, so Cpu.readPhys/
// writePhys route that page here instead of to PhysicalMemory) or, in x2APIC mode, as
// the MSRs 0x800-0x8FF (ops/msr.ts). The event service (cpu/events.ts) asks it at each
// instruction boundary what is deliverable and acknowledges vectors (IRR -> ISR).
//
// Priorities (SDM vol. 3, "Interrupt, Task, and Processor Priority"): a vector's class
// is its bits 7:4. PPR is TPR when TPR's class is at least that of the highest
// in-service vector, else that class. The highest requested vector is deliverable when
// its class is above PPR's. EOI retires the highest in-service vector, which may let a
// lower pending one through.
//
// Timer frequency: the APIC timer counts the vCPU's modeled core clock (cpu.cycles)
// divided by the divide configuration (1, 2, 4 ... 128). A real Haswell counts its
// 100 MHz bus clock instead; software calibrates the timer either way, and counting
// cycles makes timer interrupts land at exact instruction boundaries of the cycle
// clock, reproducibly. TSC-deadline mode compares IA32_TSC_DEADLINE with the TSC
// (cpu.cycles + cpu.tscOffset). The timer asks for the event service with
// cpu.setDeadline("apic-timer", cycle) and fires when the service calls serviceTimer().
//
// IPIs go to an ApicBus (interrupt-router.ts), which finds the destinations and calls
// receive() on each. Delivery is instantaneous: the ICR's delivery-status bit always
// reads idle. INIT puts the vCPU in the wait-for-SIPI state; a SIPI then calls
// onStartup (the machine's AP boot protocol: machine.ts).
//
// Simplifications (documented, not hidden): the xAPIC ID register is read-only (the
// APIC ID is the vCPU index); the xAPIC page is seen only above RAM (relocating it into
// RAM leaves it unreachable); xAPIC registers honour aligned 32-bit writes only (other
// sizes are dropped) and any read size; no CMCI LVT (max LVT entry 5); no EOI-broadcast
// suppression; a software-disabled APIC drops fixed and lowest-priority interrupts and
// keeps accepting NMI, INIT and SIPI; changing the divide configuration takes effect at
// the next load or period of the timer; a WRMSR to IA32_TSC does not move an armed TSC
// deadline.

import type { Cpu } from "./cpu/cpu.ts";
import { CpuFault, GP } from "./cpu/arch.ts";
import { COSTS } from "./cost.ts";

export const APIC_DEFAULT_BASE = 0xfee00000;

// Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + (offset >> 4).
export const APIC_ID = 0x20, APIC_VERSION = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0;
export const APIC_EOI = 0xb0, APIC_RRD = 0xc0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0;
export const APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280;
export const APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310;
export const APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330, APIC_LVT_PMC = 0x340;
export const APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_INITIAL = 0x380, APIC_TIMER_CURRENT = 0x390, APIC_TIMER_DIVIDE = 0x3e0;
export const APIC_SELF_IPI = 0x3f0;

export const X2APIC_MSR_FIRST = 0x800, X2APIC_MSR_LAST = 0x8ff;
export const X2APIC_ICR_MSR = 0x830;

// IA32_APIC_BASE bits.
export const APIC_BASE_BSP = 0x100, APIC_BASE_EXTD = 0x400, APIC_BASE_EN = 0x800;

// Delivery modes (ICR, LVT, MSI data bits 10:8).
export const DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6, DM_EXTINT = 7;
// Destination shorthands (ICR bits 19:18).
export const SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3;

// LVT bits.
export const LVT_MASKED = 0x10000;
export const TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2;

// ESR bits.
export const ESR_SEND_ILLEGAL_VECTOR = 0x20, ESR_RECEIVE_ILLEGAL_VECTOR = 0x40, ESR_ILLEGAL_REGISTER = 0x80;

/** Version 0x14 (integrated APIC), max LVT entry 5 (six entries, no CMCI). */
const VERSION = 0x14 | (5 << 16);

/** Writable bits of the LVT entries, timer to error (offsets 0x320..0x370). */
const LVT_WRITABLE = [
  0x700ff, // timer: vector, mask, mode 18:17
  0x107ff, // thermal: vector, delivery mode, mask
  0x107ff, // performance counter
  0x1a7ff, // LINT0: vector, delivery mode, polarity, trigger, mask
  0x1a7ff, // LINT1
  0x100ff, // error: vector, mask
];
const ICR_WRITABLE = 0xccfff; // vector 7:0, mode 10:8, dest mode 11, level 14, trigger 15, shorthand 19:18
const DIVIDE_WRITABLE = 0xb;

/** An interrupt message on the APIC bus: an IPI from an ICR, an MSI, or an LVT. */
export interface InterruptMessage {
  vector: number;
  /** DM_FIXED, DM_LOWEST, DM_NMI, DM_INIT, DM_STARTUP (SMI and ExtINT are not modeled). */
  mode: number;
  /** Logical destination mode (else physical). */
  logical: boolean;
  /** Destination: 8 bits (xAPIC ICR, MSI) or 32 bits (x2APIC ICR). */
  dest: number;
  /** Destination format: 32-bit x2APIC IDs (else 8-bit xAPIC). */
  x2apic: boolean;
  /** SH_NONE, SH_SELF, SH_ALL, SH_OTHERS. */
  shorthand: number;
  /** Level-triggered (else edge). */
  levelTriggered: boolean;
  /** The level bit: 0 with level trigger and INIT is the obsolete "INIT level de-assert". */
  assert: boolean;
}

/** Where a local APIC sends its IPIs (interrupt-router.ts). */
export interface ApicBus {
  send(from: LocalApic | null, m: InterruptMessage): void;
}

function gp(): never {
  throw new CpuFault(GP, 0);
}

/** The highest set bit of a 256-bit vector register, or -1. */
function highest(bits: Uint32Array): number {
  for (let k = 7; k >= 0; k--) {
    const w = bits[k];
    if (w !== 0) return k * 32 + 31 - Math.clz32(w);
  }
  return -1;
}
function setBit(bits: Uint32Array, v: number): void {
  bits[v >>> 5] |= 1 << (v & 31);
}
function clearBit(bits: Uint32Array, v: number): void {
  bits[v >>> 5] &= ~(1 << (v & 31));
}

export class LocalApic {
  readonly cpu: Cpu;
  /** The APIC ID: the vCPU index (x2APIC ID; the xAPIC ID is its low 8 bits). */
  readonly id: number;
  bus: ApicBus | null = null;
  /** Called when a SIPI reaches this APIC in the wait-for-SIPI state (machine.ts). */
  onStartup: ((vector: number) => void) | null = null;

  // IA32_APIC_BASE.
  private baseAddress = APIC_DEFAULT_BASE;
  private globallyEnabled = true;
  private x2 = false;
  /** Physical address of the xAPIC page while it is reachable, else Infinity. */
  private mmioBase = APIC_DEFAULT_BASE;

  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  private tprValue = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  private esr = 0;
  /** Errors since the last ESR write (the write latches them into ESR). */
  private errorLatch = 0;
  private icrLo = 0;
  private icrHi = 0;
  /** LVT timer, thermal, PMC, LINT0, LINT1, error. */
  private readonly lvt = [LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED];
  private divideConfig = 0;

  // Timer: the count was (re)loaded with `timerInitial` at cycle `timerStart`, counting
  // down once every `timerDivide` cycles; it fires at `timerDeadline` (Infinity: idle).
  private timerInitial = 0;
  private timerStart = 0;
  private timerDivide = 2;
  private timerDeadline = Infinity;
  /** The armed IA32_TSC_DEADLINE value (0: disarmed). */
  private tscDeadline = 0;

  /** An NMI waits for delivery (cpu/events.ts delivers it, cpu.nmiBlocked permitting). */
  nmiPending = false;
  /** INIT received: the vCPU does nothing until a SIPI (machine.ts does not run it). */
  waitingForSipi = false;

  constructor(cpu: Cpu, id: number) {
    this.cpu = cpu;
    this.id = id;
  }

  // ---------------------------------------------------------------- modes

  /** IA32_APIC_BASE.EN: the APIC is globally enabled. */
  get enabled(): boolean {
    return this.globallyEnabled;
  }
  /** IA32_APIC_BASE.EXTD: x2APIC mode (MSR interface, 32-bit IDs). */
  get x2apic(): boolean {
    return this.x2;
  }
  /** SVR bit 8: software-enabled. */
  get softwareEnabled(): boolean {
    return (this.svr & 0x100) !== 0;
  }

  /** The xAPIC logical APIC ID (LDR bits 31:24). */
  get logicalId(): number {
    return this.ldr >>> 24;
  }
  /** xAPIC destination format: flat model (DFR 31:28 = 0xF), else cluster model. */
  get flatModel(): boolean {
    return this.dfr >>> 28 === 0xf;
  }

  /** IA32_APIC_BASE as [lo, hi]. */
  readBase(): [number, number] {
    const lo = (this.baseAddress % 4294967296) | (this.id === 0 ? APIC_BASE_BSP : 0) |
      (this.globallyEnabled ? APIC_BASE_EN : 0) | (this.x2 ? APIC_BASE_EXTD : 0);
    return [lo | 0, Math.floor(this.baseAddress / 4294967296)];
  }

  /**
   * WRMSR IA32_APIC_BASE (reserved bits already checked by msr.ts). The legal mode
   * transitions (SDM vol. 3, "x2APIC State Transitions"): disabled <-> xAPIC -> x2APIC
   * -> disabled; EXTD without EN, x2APIC -> xAPIC and disabled -> x2APIC are #GP.
   * Disabling resets the APIC.
   */
  writeBase(lo: number, hi: number): void {
    const en = (lo & APIC_BASE_EN) !== 0, extd = (lo & APIC_BASE_EXTD) !== 0;
    if (extd && !en) gp();
    if (this.x2 && en && !extd) gp();
    if (!this.globallyEnabled && extd) gp();
    this.baseAddress = (hi >>> 0) * 4294967296 + ((lo & ~0xfff) >>> 0);
    if (!en && this.globallyEnabled) this.reset();
    this.globallyEnabled = en;
    this.x2 = extd;
    this.mmioBase = en && !extd ? this.baseAddress : Infinity;
  }

  /** The power-up state of the registers (also after INIT and global disable); the ID and base stay. */
  reset(): void {
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.tprValue = 0;
    this.cpu.cr8 = 0;
    this.ldr = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.esr = this.errorLatch = 0;
    this.icrLo = this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.divideConfig = 0;
    this.timerInitial = 0;
    this.tscDeadline = 0;
    this.setTimerDeadline(Infinity);
    this.nmiPending = false;
  }

  // ---------------------------------------------------------------- priorities

  /** TPR; bits 7:4 are CR8 (MOV CR8 changes them, clearing the sub-class bits). */
  get tpr(): number {
    if (this.tprValue >>> 4 !== this.cpu.cr8) this.tprValue = this.cpu.cr8 << 4;
    return this.tprValue;
  }
  private setTpr(v: number): void {
    const lower = v < this.tpr;
    this.tprValue = v & 0xff;
    this.cpu.cr8 = (v >>> 4) & 0xf;
    if (lower) this.checkPending();
  }

  /** Processor priority: TPR, or the class of the highest in-service vector if that is higher. */
  get ppr(): number {
    const tpr = this.tpr;
    const isrv = highest(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (tpr & 0xf0) >= isrClass ? tpr : isrClass;
  }

  /** Arbitration priority (xAPIC APR): TPR, or the class of the highest requested or in-service vector. */
  private get apr(): number {
    const tpr = this.tpr;
    const top = Math.max(highest(this.irr), highest(this.isr));
    const cls = top < 0 ? 0 : top & 0xf0;
    return (tpr & 0xf0) >= cls ? tpr : cls;
  }

  /** The highest requested vector if its priority class is above PPR's, else -1. */
  deliverableVector(): number {
    const v = highest(this.irr);
    return v >= 0 && (v & 0xf0) > (this.ppr & 0xf0) ? v : -1;
  }

  /** Something waits in IRR or an NMI is pending (deliverable or not). */
  get hasPending(): boolean {
    return this.nmiPending || highest(this.irr) >= 0;
  }

  /**
   * INTA: the CPU takes the highest deliverable vector (IRR -> ISR) and gets its number;
   * the spurious vector (SVR 7:0) if nothing is deliverable any more.
   */
  acknowledge(): number {
    const v = this.deliverableVector();
    if (v < 0) return this.svr & 0xff;
    clearBit(this.irr, v);
    setBit(this.isr, v);
    return v;
  }

  /** EOI: the highest in-service vector is done (a lower pending one may now be deliverable). */
  private eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    // A level-triggered vector (TMR) would send an EOI message to I/O APICs: there are none.
    this.checkPending();
  }

  /** Asks for the event service at the next boundary if an interrupt became deliverable. */
  private checkPending(): void {
    if (this.deliverableVector() >= 0) this.kick();
  }

  /**
   * The vCPU must look at its events at the next instruction boundary. Setting
   * codeWritten ends a running block after the current instruction (blocks.ts checks it
   * after every memory write), so an event raised by the vCPU's own MMIO write (a
   * self-IPI, an EOI or TPR write that unmasks a pending vector) is recognised at the
   * next boundary, not at the end of the block.
   */
  private kick(): void {
    this.cpu.attention = true;
    this.cpu.codeWritten = true;
  }

  // ---------------------------------------------------------------- receiving

  /** Accepts a message from the bus (IPI or MSI). */
  receive(m: InterruptMessage): void {
    if (!this.globallyEnabled) return;
    switch (m.mode) {
      case DM_FIXED:
      case DM_LOWEST:
        if (this.softwareEnabled) this.request(m.vector, m.levelTriggered);
        return;
      case DM_NMI:
        this.nmi();
        return;
      case DM_INIT:
        if (m.levelTriggered && !m.assert) return; // INIT level de-assert: no effect
        this.init();
        return;
      case DM_STARTUP:
        if (this.waitingForSipi) {
          this.waitingForSipi = false;
          this.onStartup?.(m.vector);
        }
        return;
      default:
        return; // SMI, ExtINT: not modeled
    }
  }

  /** Requests a vector (fixed delivery): it waits in IRR until the CPU acknowledges it. */
  request(vector: number, levelTriggered = false): void {
    vector &= 0xff;
    if (vector < 16) {
      this.error(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    setBit(this.irr, vector);
    if (levelTriggered) setBit(this.tmr, vector);
    else clearBit(this.tmr, vector);
    this.checkPending();
  }

  /** The NMI signal (an NMI IPI, LINT pin in NMI mode, or the platform). */
  nmi(): void {
    this.nmiPending = true;
    this.kick();
  }

  /** INIT: the vCPU stops and waits for a SIPI; its APIC returns to the power-up state. */
  private init(): void {
    this.reset();
    this.waitingForSipi = true;
    this.cpu.halted = true;
    this.cpu.nmiBlocked = false;
    this.cpu.interruptShadow = false;
  }

  /** A signal on LINT0 or LINT1 (pin 0 or 1), delivered as its LVT entry says. */
  lint(pin: number): void {
    const e = this.lvt[3 + pin];
    if ((e & LVT_MASKED) !== 0 || !this.globallyEnabled) return;
    const mode = (e >>> 8) & 7;
    if (mode === DM_NMI) this.nmi();
    else if (mode === DM_FIXED) this.request(e & 0xff, (e & 0x8000) !== 0);
  }

  /** Records an APIC error; the error LVT raises its vector if unmasked. */
  private error(bit: number): void {
    const fresh = (this.errorLatch & bit) === 0;
    this.errorLatch |= bit;
    const e = this.lvt[5];
    if (fresh && (e & LVT_MASKED) === 0 && (e & 0xff) >= 16) this.request(e & 0xff);
  }

  // ---------------------------------------------------------------- sending

  private sendIcr(lo: number, dest: number): void {
    const m: InterruptMessage = {
      vector: lo & 0xff,
      mode: (lo >>> 8) & 7,
      logical: (lo & 0x800) !== 0,
      dest,
      x2apic: this.x2,
      shorthand: (lo >>> 18) & 3,
      levelTriggered: (lo & 0x8000) !== 0,
      assert: (lo & 0x4000) !== 0,
    };
    if ((m.mode === DM_FIXED || m.mode === DM_LOWEST) && m.vector < 16) {
      this.error(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.bus?.send(this, m);
  }

  // ---------------------------------------------------------------- timer

  private get timerMode(): number {
    return (this.lvt[0] >>> 17) & 3;
  }

  private setTimerDeadline(cycle: number): void {
    this.timerDeadline = cycle;
    this.cpu.setDeadline("apic-timer", cycle);
  }

  /** Divide configuration bits 0, 1, 3 -> 2, 4, 8 ... 128, or 1 for 0b1011. */
  private get divisor(): number {
    const v = ((this.divideConfig & 8) >>> 1) | (this.divideConfig & 3);
    return v === 7 ? 1 : 2 << v;
  }

  private loadTimer(count: number): void {
    this.timerInitial = count >>> 0;
    this.timerStart = this.cpu.cycles;
    this.timerDivide = this.divisor;
    this.setTimerDeadline(count === 0 ? Infinity : this.timerStart + this.timerInitial * this.timerDivide);
  }

  private get currentCount(): number {
    if (this.timerMode === TIMER_TSC_DEADLINE || this.timerInitial === 0) return 0;
    const ticks = Math.floor((this.cpu.cycles - this.timerStart) / this.timerDivide);
    if (this.timerMode === TIMER_PERIODIC) return this.timerInitial - (ticks % this.timerInitial);
    return Math.max(0, this.timerInitial - ticks);
  }

  /** Called by the event service: raises the timer interrupt once its deadline has passed. */
  serviceTimer(): void {
    const now = this.cpu.cycles;
    if (now < this.timerDeadline) return;
    const mode = this.timerMode;
    if (mode === TIMER_PERIODIC) {
      const period = this.timerInitial * this.timerDivide;
      // Periods missed while nobody looked coalesce into one interrupt (IRR is one bit).
      this.setTimerDeadline(this.timerStart + period * (Math.floor((now - this.timerStart) / period) + 1));
    } else {
      if (mode === TIMER_TSC_DEADLINE) this.tscDeadline = 0; // it disarms itself
      this.setTimerDeadline(Infinity);
    }
    const e = this.lvt[0];
    if ((e & LVT_MASKED) === 0) this.request(e & 0xff);
  }

  /** IA32_TSC_DEADLINE: the armed deadline in TSC-deadline mode, else 0. */
  readTscDeadline(): [number, number] {
    if (this.timerMode !== TIMER_TSC_DEADLINE) return [0, 0];
    return [this.tscDeadline | 0, Math.floor(this.tscDeadline / 4294967296) | 0];
  }

  /** Arms (non-zero) or disarms (0) the TSC deadline; ignored outside TSC-deadline mode. */
  writeTscDeadline(lo: number, hi: number): void {
    if (this.timerMode !== TIMER_TSC_DEADLINE) return;
    this.tscDeadline = (hi >>> 0) * 4294967296 + (lo >>> 0);
    // A deadline already passed fires at the next boundary.
    this.setTimerDeadline(this.tscDeadline === 0 ? Infinity : Math.max(this.cpu.cycles, this.tscDeadline - this.cpu.tscOffset));
  }

  private writeLvtTimer(v: number): void {
    const old = this.timerMode;
    this.lvt[0] = v;
    const mode = this.timerMode;
    if (mode === old) return;
    // Into or out of TSC-deadline mode the timer disarms; between one-shot and periodic
    // it keeps counting from its last load.
    if (mode === TIMER_TSC_DEADLINE || old === TIMER_TSC_DEADLINE) {
      this.timerInitial = 0;
      this.tscDeadline = 0;
      this.setTimerDeadline(Infinity);
    } else if (this.timerInitial !== 0) {
      const period = this.timerInitial * this.timerDivide;
      const now = this.cpu.cycles;
      if (mode === TIMER_PERIODIC) this.setTimerDeadline(this.timerStart + period * (Math.floor((now - this.timerStart) / period) + 1));
      else this.setTimerDeadline(this.timerStart + period > now ? this.timerStart + period : Infinity);
    }
  }

  // ---------------------------------------------------------------- registers

  /** The value of register `reg` (an xAPIC offset), or null if the mode has no such readable register. */
  private readRegister(reg: number): number | null {
    const x2 = this.x2;
    if (reg >= APIC_ISR && reg < APIC_ISR + 0x80) return this.isr[(reg - APIC_ISR) >>> 4];
    if (reg >= APIC_TMR && reg < APIC_TMR + 0x80) return this.tmr[(reg - APIC_TMR) >>> 4];
    if (reg >= APIC_IRR && reg < APIC_IRR + 0x80) return this.irr[(reg - APIC_IRR) >>> 4];
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) return this.lvt[(reg - APIC_LVT_TIMER) >>> 4];
    switch (reg) {
      case APIC_ID: return x2 ? this.id : (this.id & 0xff) << 24;
      case APIC_VERSION: return VERSION;
      case APIC_TPR: return this.tpr;
      case APIC_APR: return x2 ? null : this.apr;
      case APIC_PPR: return this.ppr;
      case APIC_EOI: return x2 ? null : 0; // write-only
      case APIC_RRD: return x2 ? null : 0;
      case APIC_LDR: return x2 ? ((this.id >>> 4) << 16) | (1 << (this.id & 15)) : this.ldr;
      case APIC_DFR: return x2 ? null : this.dfr | 0x0fffffff;
      case APIC_SVR: return this.svr;
      case APIC_ESR: return this.esr;
      case APIC_ICR_LO: return this.icrLo; // delivery status (bit 12) always idle
      case APIC_ICR_HI: return x2 ? null : this.icrHi;
      case APIC_TIMER_INITIAL: return this.timerInitial;
      case APIC_TIMER_CURRENT: return this.currentCount;
      case APIC_TIMER_DIVIDE: return this.divideConfig;
      default: return null; // including SELF IPI, write-only in x2APIC mode
    }
  }

  /**
   * Writes register `reg`. Returns false if the mode has no such writable register. In
   * x2APIC mode reserved bits must be 0 (#GP); the xAPIC ignores them.
   */
  private writeRegister(reg: number, v: number): boolean {
    const x2 = this.x2;
    const bits = (mask: number): number => {
      if (x2 && (v & ~mask) !== 0) gp();
      return v & mask;
    };
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
      const k = (reg - APIC_LVT_TIMER) >>> 4;
      let e = bits(LVT_WRITABLE[k]);
      if (!this.softwareEnabled) e |= LVT_MASKED; // masks cannot be cleared while software-disabled
      if (k === 0) {
        if (x2 && (e >>> 17) === 3) gp(); // timer mode 11b is reserved
        this.writeLvtTimer(e);
      } else this.lvt[k] = e;
      return true;
    }
    switch (reg) {
      case APIC_TPR:
        this.setTpr(bits(0xff));
        return true;
      case APIC_EOI:
        if (x2 && v !== 0) gp();
        this.eoi();
        return true;
      case APIC_LDR:
        if (x2) return false; // read-only: derived from the x2APIC ID
        this.ldr = v & 0xff000000;
        return true;
      case APIC_DFR:
        if (x2) return false;
        this.dfr = v | 0x0fffffff;
        return true;
      case APIC_SVR: {
        this.svr = bits(x2 ? 0x1ff : 0x3ff);
        if (!this.softwareEnabled) for (let k = 0; k < 6; k++) this.lvt[k] |= LVT_MASKED;
        return true;
      }
      case APIC_ESR:
        if (x2 && v !== 0) gp();
        this.esr = this.errorLatch;
        this.errorLatch = 0;
        return true;
      case APIC_ICR_LO:
        if (x2) return false; // one 64-bit MSR (writeMsr)
        this.icrLo = v & ICR_WRITABLE;
        this.sendIcr(this.icrLo, this.icrHi >>> 24);
        return true;
      case APIC_ICR_HI:
        if (x2) return false;
        this.icrHi = v & 0xff000000;
        return true;
      case APIC_TIMER_INITIAL:
        if (this.timerMode !== TIMER_TSC_DEADLINE) this.loadTimer(v);
        return true;
      case APIC_TIMER_DIVIDE:
        this.divideConfig = bits(DIVIDE_WRITABLE);
        return true;
      case APIC_SELF_IPI:
        if (!x2) return false;
        this.request(bits(0xff));
        return true;
      default:
        return false;
    }
  }

  // ---------------------------------------------------------------- xAPIC page

  /** Whether physical address `pa` is this APIC's page (globally enabled, xAPIC mode). */
  claims(pa: number): boolean {
    return pa >= this.mmioBase && pa < this.mmioBase + 4096;
  }

  /** A read of the xAPIC page: registers are 32 bits at 16-byte offsets; the rest reads 0. */
  readMmio(pa: number, size: number): number {
    this.cpu.cycles += COSTS.apic;
    const off = pa - this.mmioBase;
    const within = off & 0xf;
    if (within >= 4) return 0;
    const v = this.readRegister(off & 0xff0);
    if (v === null) {
      this.error(ESR_ILLEGAL_REGISTER);
      return 0;
    }
    if (size >= 4) return v | 0;
    return (v >>> (within * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  /**
   * A write to the xAPIC page: aligned 32-bit (or the low half of 64-bit) writes only;
   * writes to read-only registers are ignored, to offsets with no register flag an error.
   */
  writeMmio(pa: number, size: number, value: number): void {
    this.cpu.cycles += COSTS.apic;
    const off = pa - this.mmioBase;
    if ((off & 0xf) !== 0 || size < 4) return;
    const reg = off & 0xff0;
    if (!this.writeRegister(reg, value | 0) && this.readRegister(reg) === null) this.error(ESR_ILLEGAL_REGISTER);
  }

  // ---------------------------------------------------------------- x2APIC MSRs

  /** RDMSR of 0x800-0x8FF: #GP outside x2APIC mode, for write-only and absent registers. */
  readMsr(index: number): [number, number] {
    if (!this.x2) gp();
    this.cpu.cycles += COSTS.apic;
    if (index === X2APIC_ICR_MSR) return [this.icrLo, this.icrHi];
    const v = this.readRegister((index - X2APIC_MSR_FIRST) << 4);
    if (v === null) gp();
    return [v | 0, 0];
  }

  /** WRMSR of 0x800-0x8FF: #GP outside x2APIC mode, for read-only and absent registers, reserved bits. */
  writeMsr(index: number, lo: number, hi: number): void {
    if (!this.x2) gp();
    this.cpu.cycles += COSTS.apic;
    if (index === X2APIC_ICR_MSR) {
      if ((lo & ~ICR_WRITABLE) !== 0) gp();
      this.icrLo = lo;
      this.icrHi = hi;
      this.sendIcr(lo, hi >>> 0);
      return;
    }
    if (hi !== 0) gp();
    if (!this.writeRegister((index - X2APIC_MSR_FIRST) << 4, lo | 0)) gp();
  }
}
