// Transfers between privilege levels: INT n, INT3, INT1, IRET, SYSCALL and SYSRET.
//
// Software interrupts go through interrupts.ts (deliverEvent) with the next instruction
// as the frame's return address. The gate checks that make INT n itself
// fault (IDT limit, gate type, DPL < CPL, not present) are made here first, so those
// faults are reported at the INT instruction, not after it.
//
// IRET reads the whole frame and checks every selector before it changes anything, so a
// fault leaves the processor as it was. Only 64-bit code segments are modeled: returning
// to a compatibility-mode code segment (L=0) raises #GP(selector).

import type { Cpu } from "../cpu.ts";
import {
  CpuFault, GP, NP, SS_VEC, UD, CS, SS, DS, ES, FS, GS, RSP, RCX, EFER_SCE, EFER_LMA,
} from "../arch.ts";
import type { Insn } from "../decoder.ts";
import { deliverEvent, readDescriptor } from "../interrupts.ts";
import { IF, IOPL, NT, RF, VM, WRITABLE } from "../flags.ts";
import type { Handler } from "./index.ts";
import { readMsr, IA32_STAR, IA32_LSTAR, IA32_FMASK } from "./msr.ts";
import { linear, readSup32 } from "./system-util.ts";
import { interceptSoftwareException } from "../../vmx/intercepts.ts";

const R11 = 11;

/** INT n / INT3: the gate checks that fault on the INT instruction itself. */
function checkSoftwareGate(c: Cpu, vector: number): void {
  const err = vector * 8 + 2;
  if (vector * 16 + 15 > c.idtLimit) throw new CpuFault(GP, err);
  const w1 = readSup32(c, c.idtBase + vector * 16 + 4);
  const type = (w1 >> 8) & 0xf;
  if (type !== 0xe && type !== 0xf) throw new CpuFault(GP, err);
  if (((w1 >> 13) & 3) < c.cpl) throw new CpuFault(GP, err);
  if ((w1 & 0x8000) === 0) throw new CpuFault(NP, err);
}

/** Delivers `vector` as a trap: the frame holds the address of the next instruction. */
function trap(c: Cpu, vector: number, soft: boolean): void {
  if (soft) checkSoftwareGate(c, vector);
  deliverEvent(c, vector, -1, soft ? "soft" : "fault", c.nextRip);
  c.nextRip = c.rip;
}

const intN: Handler = (c, i) => trap(c, i.immLo & 0xff, true);
const int3: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptSoftwareException(c, i, 3); // VMX: exception bitmap
  trap(c, 3, true);
};
/** INT1 (ICEBP): a #DB delivered like a hardware exception (no gate DPL check). */
const int1: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptSoftwareException(c, i, 1); // VMX: exception bitmap
  trap(c, 1, false);
};

/**
 * Called after IRET has completed: IRET ends NMI blocking (any IRET, as on hardware), so
 * an NMI held back meanwhile is taken at the next boundary (cpu/events.ts). Under VMX,
 * "NMI unblocking due to IRET" is recorded for VM exits. (IF set by IRET asks for the
 * event service through the RFLAGS setter.)
 */
export function afterIret(c: Cpu): void {
  if (!c.nmiBlocked) return;
  c.nmiBlocked = false;
  if (c.apic !== null && c.apic.nmiPending) c.attention = true;
}

/** #GP for a selector (error code: the selector without RPL). */
function gpSel(sel: number): never {
  throw new CpuFault(GP, sel & ~3);
}

/**
 * The stack segment IRET or SYSRET-like returns load in 64-bit mode: a writable data
 * segment with RPL = DPL = the new CPL, or a null selector when the new CPL is below 3.
 */
function checkStackSegment(c: Cpu, ss: number, cpl: number): void {
  if ((ss & ~3) === 0) {
    if (cpl === 3) throw new CpuFault(GP, 0);
    return;
  }
  const [, hi] = readDescriptor(c, ss);
  if ((ss & 3) !== cpl) gpSel(ss);
  if ((hi & 0x1a00) !== 0x1200 || ((hi >> 13) & 3) !== cpl) gpSel(ss);
  if ((hi & 0x8000) === 0) throw new CpuFault(SS_VEC, ss & ~3);
}

/**
 * Data segment registers that a return to an outer privilege level must clear: those
 * holding a data or non-conforming code segment more privileged than the new CPL. FS
 * and GS keep their 64-bit bases (they come from MSRs or WRFSBASE, not descriptors).
 */
function segmentsToNull(c: Cpu, cpl: number): number[] {
  const out: number[] = [];
  for (const seg of [ES, DS, FS, GS]) {
    const sel = c.segSel[seg];
    if ((sel & ~3) === 0) continue;
    let hi: number;
    try {
      hi = readDescriptor(c, sel)[1];
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      out.push(seg); // an unreadable descriptor cannot be valid at the new CPL either
      continue;
    }
    const conformingCode = (hi & 0x1c00) === 0x1c00;
    if (!conformingCode && ((hi >> 13) & 3) < cpl) out.push(seg);
  }
  return out;
}

/** IRETQ (REX.W), IRETD, IRET: returns from an interrupt or exception handler. */
const iret: Handler = (c: Cpu, i: Insn) => {
  if ((c.rfl & NT) !== 0) throw new CpuFault(GP, 0); // task return: not in IA-32e mode
  const size = i.opsize;
  const sp = c.reg64(RSP);
  if (!c.isCanonical(sp) || !c.isCanonical(sp + 5 * size - 1)) throw new CpuFault(SS_VEC, 0);

  // Read the frame: RIP, CS, RFLAGS, RSP, SS (all five in 64-bit mode).
  const ripLo = c.readMem(sp, size), ripHi = c.h;
  const cs = c.readMem(sp + size, size) & 0xffff;
  const flags = c.readMem(sp + 2 * size, size);
  const rspLo = c.readMem(sp + 3 * size, size), rspHi = c.h;
  const ss = c.readMem(sp + 4 * size, size) & 0xffff;
  const rip = size === 8 ? linear(ripLo, ripHi) : ripLo >>> 0;

  // The code segment: a present 64-bit code segment, not more privileged than CPL.
  if ((cs & ~3) === 0) throw new CpuFault(GP, 0);
  const [, hi] = readDescriptor(c, cs);
  const rpl = cs & 3;
  if ((hi & 0x1800) !== 0x1800) gpSel(cs);
  if (rpl < c.cpl) gpSel(cs);
  const dpl = (hi >> 13) & 3;
  if ((hi & 0x400) !== 0 ? dpl > rpl : dpl !== rpl) gpSel(cs);
  if ((hi & 0x8000) === 0) throw new CpuFault(NP, cs & ~3);
  if ((hi & 0x200000) === 0 || (hi & 0x400000) !== 0) gpSel(cs); // L=1, D=0: 64-bit mode only
  checkStackSegment(c, ss, rpl);
  if (!c.isCanonical(rip)) throw new CpuFault(GP, 0);
  const nulls = rpl > c.cpl ? segmentsToNull(c, rpl) : [];

  // Commit.
  const iopl = (c.rfl & IOPL) >> 12;
  let mask = WRITABLE;
  if (c.cpl > 0) mask &= ~IOPL;
  if (c.cpl > iopl) mask &= ~IF;
  if (size === 2) mask &= 0xffff;
  c.rflags = (c.rflags & ~mask) | (flags & mask & ~VM);
  c.segSel[CS] = cs;
  c.segSel[SS] = ss;
  for (const seg of nulls) c.segSel[seg] = 0;
  c.cpl = rpl;
  c.lo[RSP] = rspLo;
  c.hi[RSP] = size === 8 ? rspHi : 0;
  if (size === 2) c.lo[RSP] &= 0xffff;
  c.nextRip = rip;
  c.refetch();
  afterIret(c);
};

/** SYSCALL and SYSRET exist in 64-bit mode with EFER.SCE set. */
function requireSyscall(c: Cpu): void {
  if ((c.efer & EFER_SCE) === 0 || (c.efer & EFER_LMA) === 0) throw new CpuFault(UD);
}

/**
 * SYSCALL: RCX = next RIP, R11 = RFLAGS, RFLAGS &= ~FMASK (and RF cleared), CS from
 * STAR[47:32], SS = that + 8, CPL 0, RIP = LSTAR. No stack switch (that is SWAPGS's job).
 */
const syscall: Handler = (c) => {
  requireSyscall(c);
  const starHi = readMsr(c, IA32_STAR)[1];
  const [lstarLo, lstarHi] = readMsr(c, IA32_LSTAR);
  const fmask = readMsr(c, IA32_FMASK)[0];
  const sel = starHi & 0xffff;
  const next = c.nextRip;
  const flags = c.rflags;
  c.writeReg(8, RCX, next | 0, Math.floor(next / 4294967296) | 0);
  c.writeReg(8, R11, flags, 0);
  c.rflags = flags & ~fmask & ~RF;
  c.segSel[CS] = sel & 0xfffc;
  c.segSel[SS] = (sel + 8) & 0xffff;
  c.cpl = 0;
  c.nextRip = linear(lstarLo, lstarHi);
  c.refetch();
};

/** RFLAGS bits SYSRET loads from R11. */
const SYSRET_FLAGS = 0x3c7fd7;

/**
 * SYSRET with REX.W (SYSRETQ): RIP = RCX (#GP(0) if non-canonical, checked at CPL 0 as
 * Intel does), RFLAGS = R11, CS = STAR[63:48] + 16, SS = STAR[63:48] + 8, both RPL 3,
 * CPL 3. Without REX.W it returns to compatibility mode, which is not modeled: #GP(0).
 */
const sysret: Handler = (c, i) => {
  requireSyscall(c);
  if (c.cpl !== 0) throw new CpuFault(GP, 0);
  if (!i.rexW) throw new CpuFault(GP, 0);
  const rip = linear(c.lo[RCX], c.hi[RCX]);
  if (!c.isCanonical(rip)) throw new CpuFault(GP, 0);
  const sel = readMsr(c, IA32_STAR)[1] >>> 16;
  c.rflags = (c.lo[R11] & SYSRET_FLAGS) | 2;
  c.segSel[CS] = ((sel + 16) & 0xffff) | 3;
  c.segSel[SS] = ((sel + 8) & 0xffff) | 3;
  c.cpl = 3;
  c.nextRip = rip;
  c.refetch();
};

export const traps: Record<string, Handler> = { int3, intN, int1, iret, syscall, sysret };
