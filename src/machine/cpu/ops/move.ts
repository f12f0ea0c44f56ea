// Data movement: MOV in all its forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, BSWAP, XLAT,
// segment-register moves, and the no-operation forms.

import { RAX, RBX, SS, CS } from "../cpu.ts";
import type { Insn } from "../decoder.ts";
import type { Cpu } from "../cpu.ts";
import type { Handler } from "./index.ts";
import { trunc } from "./alu.ts";
import { loadSegment } from "./segments.ts";

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
  const v = c.readESized(i, i.sub);
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
  c.writeE(i, b, c.h);
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

const xlat: Handler = (c, i) => {
  let la = c.reg64(RBX) + (c.lo[RAX] & 0xff);
  if (i.addrsize === 4) la = la % 4294967296;
  if (i.seg >= 0) la += c.segBase[i.seg];
  c.writeReg(1, RAX, c.readMem(la, 1), 0);
};

const movFromSeg: Handler = (c, i) => {
  if (i.reg > 5) c.undefinedOpcode();
  const sel = c.segSel[i.reg];
  if (i.rm >= 0) c.writeReg(i.opsize === 2 ? 2 : 4, i.rm, sel, 0);
  else c.writeMem(c.ea(i), 2, sel, 0);
};

const movToSeg: Handler = (c, i) => {
  if (i.reg > 5 || i.reg === CS) c.undefinedOpcode();
  const sel = i.rm >= 0 ? c.readReg(2, i.rm) : c.readMem(c.ea(i), 2);
  loadSegment(c, i.reg, sel);
  if (i.reg === SS) c.interruptShadow = true;
};

const nop: Handler = () => {};
const pause: Handler = () => {};
const ud: Handler = (c) => c.undefinedOpcode();

export const move: Record<string, Handler> = {
  movEG, movGE, movEI, movZI, movAO, movOA, movzx, movsx, lea, xchgEG, xchgZA, bswap, xlat,
  movFromSeg, movToSeg, nop, pause, ud,
};
