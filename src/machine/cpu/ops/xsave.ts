// x87/SSE/AVX state management: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE, XSAVEOPT,
// XRSTOR, XGETBV, XSETBV.
//
// No x87/SSE/AVX instruction executes, so this state is only bytes, kept in cpu.xstate in
// the standard XSAVE layout: the 512-byte legacy region (x87 at 0..23 and 32..159,
// MXCSR at 24, MXCSR_MASK at 28, XMM0-15 at 160..415), the header at 512 and YMM_Hi128 at
// 576..831. The header's XSTATE_BV in cpu.xstate holds XINUSE: the components not in
// their initial configuration (set by FXRSTOR/XRSTOR loading them, cleared when XRSTOR
// initializes them). Saves and restores move these bytes exactly, so state round-trips.
// Bytes 416..511 of the legacy region are never written (software may use 464..511).

import type { Cpu } from "../cpu.ts";
import { CpuFault, GP, NM, UD, RAX, RCX, RDX, CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXSAVE } from "../arch.ts";
import type { Insn } from "../decoder.ts";
import type { Handler } from "./index.ts";
import { XCR0_SUPPORTED } from "./cpuid.ts";
import { checkWriteRange, readBytes, writeBytes } from "./system-util.ts";
import { exitAlways } from "../../vmx/intercepts.ts";
import { EXIT_XSETBV } from "../../vmx/fields.ts";

const X87 = 1, SSE = 2, AVX = 4;
const MXCSR = 24, MXCSR_MASK_VALUE = 0xffff;
const HEADER = 512, YMM_HI = 576, AREA_END = 832;
/** Byte ranges [from, to) of each component in the legacy region / extended area. */
const X87_RANGES: [number, number][] = [[0, 24], [32, 160]];
const XMM_RANGE: [number, number] = [160, 416];
const YMM_RANGE: [number, number] = [YMM_HI, AREA_END];

function dword(b: Uint8Array, off: number): number {
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
}
function setDword(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/** The in-use bitmap (XINUSE) kept in cpu.xstate's header. */
function xinuse(x: Uint8Array): number {
  return x[HEADER] & XCR0_SUPPORTED;
}

function initComponent(x: Uint8Array, bit: number): void {
  if (bit === X87) {
    for (const [a, b] of X87_RANGES) x.fill(0, a, b);
    x[0] = 0x7f;
    x[1] = 0x03;
  } else if (bit === SSE) x.fill(0, XMM_RANGE[0], XMM_RANGE[1]);
  else x.fill(0, YMM_RANGE[0], YMM_RANGE[1]);
}

/** MXCSR bits outside MXCSR_MASK are reserved. */
function checkMxcsr(v: number): void {
  if ((v & ~MXCSR_MASK_VALUE) !== 0) throw new CpuFault(GP, 0);
}

function alignedAddress(c: Cpu, i: Insn, align: number): number {
  const la = c.ea(i);
  if (la % align !== 0) throw new CpuFault(GP, 0);
  return la;
}

// ---------------------------------------------------------------- FXSAVE / FXRSTOR

function fxChecks(c: Cpu): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(NM);
}

const fxsave: Handler = (c, i) => {
  fxChecks(c);
  const la = alignedAddress(c, i, 16);
  const x = c.xstate;
  checkWriteRange(c, la, 416);
  writeBytes(c, la, x, 0, 416);
};

const fxrstor: Handler = (c, i) => {
  fxChecks(c);
  const la = alignedAddress(c, i, 16);
  const img = readBytes(c, la, 416);
  checkMxcsr(dword(img, MXCSR));
  const x = c.xstate;
  x.set(img.subarray(0, MXCSR + 4), 0); // x87 and MXCSR; MXCSR_MASK is read-only
  x.set(img.subarray(32, 416), 32);
  x[HEADER] |= X87 | SSE;
};

// ---------------------------------------------------------------- MXCSR

function sseChecks(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) throw new CpuFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new CpuFault(NM);
}

const ldmxcsr: Handler = (c, i) => {
  sseChecks(c);
  const v = c.readMem(c.ea(i), 4);
  checkMxcsr(v);
  setDword(c.xstate, MXCSR, v);
};

const stmxcsr: Handler = (c, i) => {
  sseChecks(c);
  c.writeMem(c.ea(i), 4, dword(c.xstate, MXCSR), 0);
};

// ---------------------------------------------------------------- XSAVE / XRSTOR

function xChecks(c: Cpu): void {
  if ((c.cr4 & CR4_OSXSAVE) === 0) throw new CpuFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new CpuFault(NM);
}

/** The requested-feature bitmap: EDX:EAX AND XCR0 (XCR0 has no bits above 31). */
function rfbm(c: Cpu): number {
  return c.lo[RAX] & c.xcr0;
}

/** XSAVE and XSAVEOPT (which may skip unmodified components; this one never does). */
const xsave: Handler = (c, i) => {
  xChecks(c);
  const la = alignedAddress(c, i, 64);
  const rf = rfbm(c);
  const x = c.xstate;
  const oldBv = c.readMem(la + HEADER, 4);
  checkWriteRange(c, la, (rf & AVX) !== 0 ? AREA_END : YMM_HI);
  if (rf & X87) for (const [a, b] of X87_RANGES) writeBytes(c, la, x, a, b);
  if (rf & (SSE | AVX)) writeBytes(c, la, x, MXCSR, MXCSR + 8);
  if (rf & SSE) writeBytes(c, la, x, XMM_RANGE[0], XMM_RANGE[1]);
  if (rf & AVX) writeBytes(c, la, x, YMM_RANGE[0], YMM_RANGE[1]);
  c.writeMem(la + HEADER, 4, (oldBv & ~rf) | (xinuse(x) & rf), 0);
};

const xrstor: Handler = (c, i) => {
  xChecks(c);
  const la = alignedAddress(c, i, 64);
  const rf = rfbm(c);
  // Read and check everything before changing any state.
  const hdr = readBytes(c, la + HEADER, 24);
  const bv = dword(hdr, 0), bvHi = dword(hdr, 4);
  if ((bv & ~c.xcr0) !== 0 || bvHi !== 0) throw new CpuFault(GP, 0);
  for (let k = 8; k < 24; k++) if (hdr[k] !== 0) throw new CpuFault(GP, 0); // XCOMP_BV (standard form only) and reserved
  const load = rf & bv;
  const img = new Uint8Array(AREA_END);
  if (load & X87) for (const [a, b] of X87_RANGES) img.set(readBytes(c, la + a, b - a), a);
  if (rf & (SSE | AVX)) {
    const m = c.readMem(la + MXCSR, 4);
    checkMxcsr(m);
    setDword(img, MXCSR, m);
  }
  if (load & SSE) img.set(readBytes(c, la + XMM_RANGE[0], XMM_RANGE[1] - XMM_RANGE[0]), XMM_RANGE[0]);
  if (load & AVX) img.set(readBytes(c, la + YMM_RANGE[0], YMM_RANGE[1] - YMM_RANGE[0]), YMM_RANGE[0]);

  const x = c.xstate;
  for (const bit of [X87, SSE, AVX]) {
    if ((rf & bit) === 0) continue;
    if ((load & bit) === 0) initComponent(x, bit);
    else if (bit === X87) for (const [a, b] of X87_RANGES) x.set(img.subarray(a, b), a);
    else if (bit === SSE) x.set(img.subarray(XMM_RANGE[0], XMM_RANGE[1]), XMM_RANGE[0]);
    else x.set(img.subarray(YMM_RANGE[0], YMM_RANGE[1]), YMM_RANGE[0]);
  }
  if (rf & (SSE | AVX)) x.set(img.subarray(MXCSR, MXCSR + 4), MXCSR);
  x[HEADER] = (x[HEADER] & ~rf) | load;
};

// ---------------------------------------------------------------- XCR0

const xgetbv: Handler = (c) => {
  if ((c.cr4 & CR4_OSXSAVE) === 0) throw new CpuFault(UD);
  if (c.lo[RCX] !== 0) throw new CpuFault(GP, 0); // XINUSE (ECX = 1) is not reported
  c.writeReg(4, RAX, c.xcr0, 0);
  c.writeReg(4, RDX, 0, 0);
};

/** XSETBV (CPL 0): XCR0 bit 0 must stay set, AVX needs SSE, unsupported bits fault. */
const xsetbv: Handler = (c, i) => {
  if ((c.cr4 & CR4_OSXSAVE) === 0) throw new CpuFault(UD);
  if (c.vmx?.nonRoot) exitAlways(c, i, EXIT_XSETBV); // VMX: XSETBV always exits in non-root operation
  const lo = c.lo[RAX], hi = c.lo[RDX];
  if (c.lo[RCX] !== 0 || hi !== 0 || (lo & ~XCR0_SUPPORTED) !== 0) throw new CpuFault(GP, 0);
  if ((lo & X87) === 0 || ((lo & AVX) !== 0 && (lo & SSE) === 0)) throw new CpuFault(GP, 0);
  c.xcr0 = lo;
};

export const xsaveOps: Record<string, Handler> = {
  fxsave, fxrstor, ldmxcsr, stmxcsr, xsave, xrstor, xgetbv, xsetbv,
};
