// Control and debug registers: MOV to/from CR0, CR2, CR3, CR4, CR8 and DR0-DR7, CLTS,
// SMSW, LMSW. Only long mode is modeled, so the writes that would leave it (clearing
// CR0.PG or CR4.PAE) raise #GP(0), as they do in 64-bit mode on hardware.
//
// The TLB caches rights already combined with CR0.WP, CR4.SMEP/SMAP/PGE, so a change of
// any of those flushes it entirely; a CR3 load flushes the non-global translations.
//
// Debug registers are storage only: breakpoints (DR7 enables) and DR6 status bits are
// not produced yet, and DR7.GD does not raise #DB.

import type { Cpu } from "../cpu.ts";
import {
  CpuFault, GP, CR0_PE, CR0_MP, CR0_EM, CR0_TS, CR0_ET, CR0_NE, CR0_AM, CR0_NW, CR0_CD, CR0_PG, CR0_WP,
  CR4_PAE, CR4_PGE, CR4_OSFXSR, CR4_VMXE, CR4_FSGSBASE, CR4_PCIDE, CR4_OSXSAVE, CR4_SMEP, CR4_SMAP, EFER_LMA,
} from "../arch.ts";
import { NO_REG, type Insn } from "../decoder.ts";
import { MAXPHYADDR } from "../paging.ts";
import type { Handler } from "./index.ts";
import { linear, loOf, hiOf } from "./system-util.ts";
import { cr0Allowed, cr4Allowed } from "../../vmx/capabilities.ts";
import { crRead, crWrite, cr0View, interceptClts, interceptLmsw, interceptMovDr } from "../../vmx/intercepts.ts";

export const CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4, CR4_OSXMMEXCPT = 1 << 10;

/** CR0 bits software can change (ET is fixed at 1, the other bits 31:0 are ignored). */
export const CR0_WRITABLE = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits this processor has (CPUID reports the matching features); others are reserved. */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT |
  CR4_VMXE | CR4_FSGSBASE | CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP;
/** CR4 bits whose change invalidates every cached translation. */
export const CR4_FLUSH = CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE;

function gp(): never {
  throw new CpuFault(GP, 0);
}

/**
 * The general register of MOV CR/DR. These instructions use ModRM.rm as a register
 * whatever ModRM.mod says; the decoder only gives i.rm for mod = 3 (what assemblers
 * emit), so other encodings are refused here rather than guessed.
 */
function regOperand(c: Cpu, i: Insn): number {
  if (i.rm === NO_REG) c.undefinedOpcode("MOV CR/DR with ModRM.mod != 3 is not decoded");
  return i.rm;
}

// ---------------------------------------------------------------- control registers

/** Writes CR0 with MOV's checks; reserved bits 31:0 are ignored, 63:32 fault. */
export function writeCr0(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) gp();
  const v = (lo & CR0_WRITABLE) | CR0_ET;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) gp();
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) gp();
  if ((v & CR0_PG) === 0 && (c.efer & EFER_LMA) !== 0) gp(); // would leave long mode
  if (c.vmx?.on && !cr0Allowed(v)) gp(); // VMX operation fixes some bits (IA32_VMX_CR0_FIXED0/1)
  const changed = v ^ c.cr0;
  c.cr0 = v;
  if (changed & (CR0_PG | CR0_PE | CR0_WP | CR0_CD)) c.flushTlb(true);
}

/**
 * Writes CR3. Bits above MAXPHYADDR fault; with CR4.PCIDE, bit 63 asks to keep the
 * TLB. The TLB is not tagged by PCID, so it is kept only when the PCID stays the same.
 */
export function writeCr3(c: Cpu, lo: number, hi: number): void {
  const pcide = (c.cr4 & CR4_PCIDE) !== 0;
  const keep = pcide && hi < 0;
  const h = pcide ? hi & 0x7fffffff : hi;
  if (h >>> (MAXPHYADDR - 32) !== 0) gp();
  const v = (h >>> 0) * 4294967296 + (lo >>> 0);
  const old = c.cr3;
  c.cr3 = v;
  if (!(keep && v % 4096 === old % 4096)) c.flushTlb(false);
}

export function writeCr4(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~CR4_SUPPORTED) !== 0) gp();
  if ((lo & CR4_PAE) === 0) gp(); // long mode needs PAE
  if ((lo & CR4_PCIDE) !== 0 && (c.cr4 & CR4_PCIDE) === 0 && c.cr3 % 4096 !== 0) gp();
  if (c.vmx?.on && !cr4Allowed(lo)) gp(); // VMX operation fixes some bits (CR4.VMXE, IA32_VMX_CR4_FIXED0/1)
  const changed = lo ^ c.cr4;
  c.cr4 = lo;
  if (changed & CR4_FLUSH) c.flushTlb(true);
}

const movFromCr: Handler = (c, i) => {
  const r = regOperand(c, i);
  let v: number;
  switch (i.reg) {
    case 0: v = c.cr0 >>> 0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    case 8: v = c.cr8; break;
    default: return c.undefinedOpcode(`CR${i.reg}`);
  }
  if (c.vmx?.nonRoot && i.reg !== 2) v = crRead(c, i, i.reg, r, v); // VMX: CR3/CR8-store exiting, read shadows
  c.writeReg(8, r, loOf(v), hiOf(v));
};

const movToCr: Handler = (c, i) => {
  const r = regOperand(c, i);
  let lo = c.lo[r];
  const hi = c.hi[r];
  // VMX: guest/host masks, the CR3-target list, CR8-load exiting.
  if (c.vmx?.nonRoot && (i.reg === 0 || i.reg === 3 || i.reg === 4 || i.reg === 8)) lo = crWrite(c, i, i.reg, r, lo, hi);
  switch (i.reg) {
    case 0: writeCr0(c, lo, hi); return;
    case 2: c.cr2 = linear(lo, hi); return;
    case 3: writeCr3(c, lo, hi); return;
    case 4: writeCr4(c, lo, hi); return;
    case 8:
      if (hi !== 0 || (lo & ~0xf) !== 0) gp();
      if (lo < c.cr8) c.attention = true; // CR8 is TPR[7:4]: a pending interrupt may now be deliverable
      c.cr8 = lo;
      return;
    default: c.undefinedOpcode(`CR${i.reg}`);
  }
};

const clts: Handler = (c, i) => {
  if (c.vmx?.nonRoot && !interceptClts(c, i)) return; // VMX: a host-owned TS is left alone
  c.cr0 &= ~CR0_TS;
};

/** SMSW: CR0[15:0] to memory; a register destination gets CR0 zero-extended. */
const smsw: Handler = (c, i) => {
  const cr0 = c.vmx?.nonRoot ? cr0View(c) : c.cr0; // VMX: host-owned bits read from the CR0 read shadow
  if (i.rm !== NO_REG) c.writeReg(i.rexW ? 8 : 4, i.rm, cr0, 0);
  else c.writeMem(c.ea(i), 2, cr0 & 0xffff, 0);
};

/** LMSW: loads CR0.PE/MP/EM/TS; it can set PE but never clear it. */
const lmsw: Handler = (c, i) => {
  const la = i.rm === NO_REG ? c.ea(i) : null;
  const src = la === null ? c.readReg(2, i.rm) : c.readMem(la, 2);
  // VMX: exits per the CR0 guest/host mask and read shadow; host-owned bits are not changed.
  const may = c.vmx?.nonRoot ? interceptLmsw(c, i, src, la) : 0xf;
  const v = src & 0xf & may;
  c.cr0 = (c.cr0 & ~(0xe & may)) | v | (c.cr0 & CR0_PE);
};

// ---------------------------------------------------------------- debug registers

const DR6_FIXED1 = 0xfffe07f0 | 0, DR6_WRITABLE = 0x0001e80f;
const DR7_FIXED1 = 0x400, DR7_WRITABLE = 0xffff2bff | 0;

/** DR4 and DR5 alias DR6 and DR7 unless CR4.DE makes them #UD; DR8-15 do not exist. */
function drIndex(c: Cpu, n: number): number {
  if (n > 7) c.undefinedOpcode(`DR${n}`);
  if (n === 4 || n === 5) {
    if ((c.cr4 & CR4_DE) !== 0) c.undefinedOpcode(`DR${n} with CR4.DE`);
    return n + 2;
  }
  return n;
}

const movFromDr: Handler = (c, i) => {
  const r = regOperand(c, i);
  const n = drIndex(c, i.reg);
  if (c.vmx?.nonRoot) interceptMovDr(c, i, i.reg & 7, true, r); // VMX: MOV-DR exiting
  const v = c.dr[n];
  c.writeReg(8, r, loOf(v), hiOf(v));
};

const movToDr: Handler = (c, i) => {
  const r = regOperand(c, i);
  const n = drIndex(c, i.reg);
  if (c.vmx?.nonRoot) interceptMovDr(c, i, i.reg & 7, false, r); // VMX: MOV-DR exiting
  const lo = c.lo[r], hi = c.hi[r];
  if (n < 4) c.dr[n] = linear(lo, hi);
  else {
    if (hi !== 0) gp();
    c.dr[n] = (n === 6 ? (lo & DR6_WRITABLE) | DR6_FIXED1 : (lo & DR7_WRITABLE) | DR7_FIXED1) >>> 0;
  }
};

export const controlRegs: Record<string, Handler> = { movFromCr, movToCr, movFromDr, movToDr, clts, smsw, lmsw };
