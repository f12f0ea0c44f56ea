// Bit instructions: BT/BTS/BTR/BTC (register and immediate bit offsets), BSF, BSR,
// TZCNT, LZCNT, POPCNT.
//
// Values travel as 32-bit halves; 16-bit values are zero-extended in lo. Where the SDM
// leaves flags undefined, they get the values Intel processors produce (checked against
// a host CPU): BT* leaves all but CF unchanged.

import type { Cpu } from "../cpu.ts";
import type { Insn } from "../decoder.ts";
import { NO_REG } from "../decoder.ts";
import { setArithFlags, CF, ZF, PF, ARITH } from "../flags.ts";
import type { Handler } from "./index.ts";

/** The operand with the selected bit set/cleared/complemented (sub 1/2/3). */
function modify(op: number, v: number, mask: number): number {
  return op === 1 ? v | mask : op === 2 ? v & ~mask : v ^ mask;
}

/** BT* on a register or on the memory word at `la`, bit `bit` (already reduced). */
function bitOp(c: Cpu, i: Insn, la: number, bit: number): void {
  const op = i.sub;
  const size = i.opsize;
  let lo: number, hi: number;
  if (i.rm !== NO_REG) {
    lo = c.readReg(size, i.rm);
    hi = c.h;
  } else if (op === 0) {
    lo = c.readMem(la, size);
    hi = c.h;
  } else {
    c.checkWrite(la, size);
    lo = c.readMem(la, size);
    hi = c.h;
  }
  const inHigh = bit >= 32;
  const mask = 1 << (bit & 31);
  const cf = ((inHigh ? hi : lo) & mask) !== 0;
  if (op !== 0) {
    if (inHigh) hi = modify(op, hi, mask);
    else lo = modify(op, lo, mask);
    if (size === 2) lo &= 0xffff;
    if (i.rm !== NO_REG) c.writeReg(size, i.rm, lo, hi);
    else c.writeMem(la, size, lo, hi);
  }
  setArithFlags(c, cf ? CF : 0, CF);
}

/** BT* Ev,Gv: the bit offset is a signed value of operand size; in memory it can reach outside the operand. */
const btG: Handler = (c, i) => {
  const size = i.opsize;
  const off = c.readG(i);
  const offh = c.h;
  const bits = size << 3;
  if (i.rm !== NO_REG) {
    bitOp(c, i, 0, off & (bits - 1));
    return;
  }
  // The address moves by whole operands: ea + size * floor(offset / bits).
  let disp: number, dl: number;
  if (size === 2) disp = dl = ((off << 16) >> 20) * 2;
  else if (size === 4) disp = dl = (off >> 5) * 4;
  else {
    // (offset SAR 6) * 8 = (offset SAR 3) with the low three bits cleared, as halves.
    dl = ((off >>> 3) | (offh << 29)) & ~7;
    disp = (offh >> 3) * 4294967296 + (dl >>> 0);
  }
  let la: number;
  if (i.addrsize === 8) la = c.ea(i) + disp;
  else {
    // 32-bit addressing: the sum wraps at 4 GB before an FS/GS base is added.
    la = (c.eaHalves(i) + dl) >>> 0;
    if (i.seg >= 0) la += c.segBase[i.seg]; // a canonical base: no 64-bit wraparound
  }
  bitOp(c, i, la, off & (bits - 1));
};

/** BT* Ev,Ib: the offset is masked to the operand size. */
const btI: Handler = (c, i) => {
  const bit = i.immLo & ((i.opsize << 3) - 1);
  bitOp(c, i, i.rm !== NO_REG ? 0 : c.ea(i), bit);
};

/** Index of the lowest set bit of (hi:lo), which is not 0. */
function lowestBit(lo: number, hi: number): number {
  return lo !== 0 ? 31 - Math.clz32(lo & -lo) : 63 - Math.clz32(hi & -hi);
}
/** Index of the highest set bit of (hi:lo), which is not 0. */
function highestBit(lo: number, hi: number): number {
  return hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
}

/**
 * BSF/BSR: a zero source sets ZF and leaves the destination unchanged (all 64 bits, even
 * for a 32-bit operand, as Intel and AMD processors do). CF, OF, SF, AF and PF are
 * undefined; Intel processors clear CF, OF, SF and AF and set PF from the index (from 0
 * when the source is 0), and so does this.
 */
function bitScan(c: Cpu, i: Insn, reverse: boolean): void {
  const lo = c.readE(i);
  const hi = c.h;
  if ((lo | hi) === 0) {
    setArithFlags(c, ZF | PF, ARITH);
    return;
  }
  const r = reverse ? highestBit(lo, hi) : lowestBit(lo, hi);
  c.writeG(i, r, 0);
  setArithFlags(c, parityEven(r) ? PF : 0, ARITH);
}
/** Even parity of the low byte (PF). */
function parityEven(v: number): boolean {
  v &= 0xff;
  v ^= v >> 4;
  v ^= v >> 2;
  v ^= v >> 1;
  return (v & 1) === 0;
}

const bsf: Handler = (c, i) => bitScan(c, i, false);
const bsr: Handler = (c, i) => bitScan(c, i, true);

/**
 * TZCNT/LZCNT: CF = the source is 0 (the count is the operand size), ZF = the count is 0.
 * OF, SF, AF and PF are undefined; Intel processors clear them.
 */
function countFlags(c: Cpu, count: number, size: number): void {
  const bits = size << 3;
  setArithFlags(c, (count === bits ? CF : 0) | (count === 0 ? ZF : 0), ARITH);
}

const tzcnt: Handler = (c, i) => {
  const size = i.opsize;
  const lo = c.readE(i);
  const hi = c.h;
  let n: number;
  if (size === 8) n = (lo | hi) === 0 ? 64 : lowestBit(lo, hi);
  else n = lo === 0 ? size << 3 : 31 - Math.clz32(lo & -lo);
  c.writeG(i, n, 0);
  countFlags(c, n, size);
};

const lzcnt: Handler = (c, i) => {
  const size = i.opsize;
  const lo = c.readE(i);
  const hi = c.h;
  let n: number;
  if (size === 8) n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
  else n = Math.clz32(lo) - (32 - (size << 3));
  c.writeG(i, n, 0);
  countFlags(c, n, size);
};

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

const popcnt: Handler = (c, i) => {
  const lo = c.readE(i);
  const hi = c.h;
  const n = popcount32(lo) + (i.opsize === 8 ? popcount32(hi) : 0);
  c.writeG(i, n, 0);
  setArithFlags(c, (lo | hi) === 0 ? ZF : 0, ARITH);
};

export const bits: Record<string, Handler> = { btG, btI, bsf, bsr, tzcnt, lzcnt, popcnt };
