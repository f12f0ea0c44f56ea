// Data movement: MOV in all its forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, BSWAP, XLAT,
// segment-register moves, and the no-operation forms.

import { RAX, RBX, SS, CS } from "../arch.ts";
import type { Insn } from "../decoder.ts";
import type { Cpu } from "../cpu.ts";
import type { Handler } from "./index.ts";
import { trunc } from "./alu.ts";
import { loadSegment } from "./segments.ts";
import { ACC_READ } from "../paging.ts";
import { interceptPause } from "../../vmx/intercepts.ts";

const movEG: Handler = (c, i) => {
  const v = c.readG(i);
  c.writeE(i, v, c.h);
};
const movGE: Handler = (c, i) => {
  const v = c.readE(i);
  c.writeG(i, v, c.h);
};
const movEI: Handler = (c, i) => c.writeE(i, trunc(i.opsize, i.immLo), i.immHi);
const movZI: Handler = (c, i) => c.writeReg(i.opsize, i.reg, i.immLo, i.immHi);

/** The moffs operand of A0-A3: a full 64-bit address in the immediate. */
function moffs(c: Cpu, i: Insn): number {
  let la = i.immHi * 4294967296 + (i.immLo >>> 0);
  if (i.seg >= 0) la += c.segBase[i.seg];
  return la;
}
const movAO: Handler = (c, i) => {
  const v = c.readMem(moffs(c, i), i.opsize);
  c.writeReg(i.opsize, RAX, v, c.h);
};
const movOA: Handler = (c, i) => {
  const v = c.readReg(i.opsize, RAX);
  c.writeMem(moffs(c, i), i.opsize, v, c.h);
};

const movzx: Handler = (c, i) => c.writeG(i, c.readESized(i, i.sub), 0);

const movsx: Handler = (c, i) => {
  // MOVSXD with a 16-bit operand size is MOVSXD r16, r/m16: it reads a word (SDM).
  const v = c.readESized(i, Math.min(i.sub, i.opsize));
  const s = i.sub === 1 ? (v << 24) >> 24 : i.sub === 2 ? (v << 16) >> 16 : v;
  c.writeG(i, trunc(i.opsize, s), s >> 31);
};

const lea: Handler = (c, i) => {
  const lo = c.eaHalves(i);
  c.writeG(i, trunc(i.opsize, lo), c.h);
};

const xchgEG: Handler = (c, i) => {
  const a = c.readEForWrite(i);
  const ah = c.h;
  const b = c.readG(i);
  c.writeBack(i, b, c.h);
  c.writeG(i, a, ah);
};

/** 90+r: XCHG r, rAX; with register 0 (plain 90, even with REX.W) it is NOP. */
const xchgZA: Handler = (c, i) => {
  if (i.reg === 0) return;
  const a = c.readReg(i.opsize, RAX);
  const ah = c.h;
  const b = c.readReg(i.opsize, i.reg);
  c.writeReg(i.opsize, RAX, b, c.h);
  c.writeReg(i.opsize, i.reg, a, ah);
};

function swap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
const bswap: Handler = (c, i) => {
  const r = i.reg;
  if (i.opsize === 8) {
    const lo = c.lo[r];
    c.lo[r] = swap32(c.hi[r]);
    c.hi[r] = swap32(lo);
  } else {
    c.lo[r] = swap32(c.lo[r]);
    c.hi[r] = 0;
  }
};

/** XLAT: AL = [rBX + AL], the sum wrapping at the address size (exact: computed in halves). */
const xlat: Handler = (c, i) => {
  const sum = (c.lo[RBX] >>> 0) + (c.lo[RAX] & 0xff);
  let la: number;
  if (i.addrsize === 4) la = sum >>> 0;
  else la = ((c.hi[RBX] + (sum > 0xffffffff ? 1 : 0)) | 0) * 4294967296 + (sum >>> 0);
  if (i.seg >= 0) la += c.segBase[i.seg];
  c.writeReg(1, RAX, c.readMem(la, 1), 0);
};

// The Sreg field is ModRM.reg without REX.R (which the CPU ignores here); 6 and 7 are #UD.
const movFromSeg: Handler = (c, i) => {
  const seg = i.reg & 7;
  if (seg > 5) c.undefinedOpcode();
  const sel = c.segSel[seg];
  if (i.rm >= 0) c.writeReg(i.opsize === 2 ? 2 : 4, i.rm, sel, 0);
  else c.writeMem(c.ea(i), 2, sel, 0);
};

const movToSeg: Handler = (c, i) => {
  const seg = i.reg & 7;
  if (seg > 5 || seg === CS) c.undefinedOpcode();
  const sel = i.rm >= 0 ? c.readReg(2, i.rm) : c.readMem(c.ea(i), 2);
  loadSegment(c, seg, sel);
  if (seg === SS) {
    c.interruptShadow = true; // the MOV SS shadow (cpu/events.ts)
    c.attention = true;
  }
};

const nop: Handler = () => {};
/** CLFLUSH: no cache to flush, but it checks and faults like a byte load (SDM). */
const clflush: Handler = (c, i) => {
  c.translate(c.ea(i), ACC_READ);
};
const pause: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptPause(c, i); // VMX: PAUSE exiting
};
const ud: Handler = (c) => c.undefinedOpcode();

export const move: Record<string, Handler> = {
  movEG, movGE, movEI, movZI, movAO, movOA, movzx, movsx, lea, xchgEG, xchgZA, bswap, xlat,
  movFromSeg, movToSeg, nop, clflush, pause, ud,
};
