// Integer arithmetic and logic: group 1 (ADD..CMP), TEST, NOT, NEG, INC, DEC, CMPXCHG,
// XADD, flag instructions, SETcc, CMOVcc, CBW..CQO.
//
// Values travel as 32-bit halves (lo, hi); 8- and 16-bit values are zero-extended in lo.

import type { Cpu } from "../cpu.ts";
import { RAX, RCX, RDX, RBX, GP } from "../arch.ts";
import { CpuFault } from "../arch.ts";
import { NO_REG, type Insn } from "../decoder.ts";
import { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP } from "../decode-table.ts";
import {
  record, getCF, condition, setArithFlags, arithFlags,
  F_ADD, F_ADC, F_SUB, F_SBB, F_INC, F_DEC, F_LOGIC, CF, ZF, SF, AF, PF, DF,
} from "../flags.ts";
import type { Handler } from "./index.ts";

/** Truncates a 32-bit value to an operand size (8/16 zero-extended, 32/64 as int32). */
export function trunc(size: number, v: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
}

/** Adds with carry-in; result low half returned, high half in c.h. No flags. */
function addRaw(c: Cpu, size: number, a: number, ah: number, b: number, bh: number, cin: number): number {
  if (size === 8) {
    const s = (a >>> 0) + (b >>> 0) + cin;
    c.h = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
    return s | 0;
  }
  c.h = 0;
  return trunc(size, a + b + cin);
}

function subRaw(c: Cpu, size: number, a: number, ah: number, b: number, bh: number, bin: number): number {
  if (size === 8) {
    const d = (a >>> 0) - (b >>> 0) - bin;
    c.h = (ah - bh - (d < 0 ? 1 : 0)) | 0;
    return d | 0;
  }
  c.h = 0;
  return trunc(size, a - b - bin);
}

/** One group-1 operation with its flags; result low half returned, high half in c.h. */
export function aluOp(c: Cpu, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  let r: number, rh: number;
  switch (op) {
    case ADD:
      r = addRaw(c, size, a, ah, b, bh, 0);
      record(c, F_ADD, size, a, ah, b, bh, r, c.h);
      return r;
    case ADC: {
      const cin = getCF(c) ? 1 : 0;
      r = addRaw(c, size, a, ah, b, bh, cin);
      record(c, cin ? F_ADC : F_ADD, size, a, ah, b, bh, r, c.h);
      c.fcin = cin;
      return r;
    }
    case SBB: {
      const bin = getCF(c) ? 1 : 0;
      r = subRaw(c, size, a, ah, b, bh, bin);
      record(c, bin ? F_SBB : F_SUB, size, a, ah, b, bh, r, c.h);
      c.fcin = bin;
      return r;
    }
    case SUB:
    case CMP:
      r = subRaw(c, size, a, ah, b, bh, 0);
      record(c, F_SUB, size, a, ah, b, bh, r, c.h);
      return r;
    case OR: r = a | b; rh = ah | bh; break;
    case AND: r = a & b; rh = ah & bh; break;
    case XOR: r = a ^ b; rh = ah ^ bh; break;
    default: throw new Error(`bad ALU op ${op}`);
  }
  c.h = rh;
  record(c, F_LOGIC, size, a, ah, b, bh, r, rh);
  return r;
}

/** High half of the immediate: its sign extension for 64-bit operands, else 0 (values are truncated). */
function immediateHigh(i: Insn): number {
  return i.opsize === 8 ? i.immHi : 0;
}

function immediate(i: Insn): number {
  return trunc(i.opsize, i.immLo);
}

const aluEG: Handler = (c, i) => {
  const op = i.sub;
  const a = op === CMP ? c.readE(i) : c.readEForWrite(i);
  const ah = c.h;
  const b = c.readG(i);
  const r = aluOp(c, op, i.opsize, a, ah, b, c.h);
  if (op !== CMP) c.writeBack(i, r, c.h);
};

const aluGE: Handler = (c, i) => {
  const b = c.readE(i);
  const bh = c.h;
  const a = c.readG(i);
  const r = aluOp(c, i.sub, i.opsize, a, c.h, b, bh);
  if (i.sub !== CMP) c.writeG(i, r, c.h);
};

const aluAI: Handler = (c, i) => {
  const a = c.readReg(i.opsize, RAX);
  const r = aluOp(c, i.sub, i.opsize, a, c.h, immediate(i), immediateHigh(i));
  if (i.sub !== CMP) c.writeReg(i.opsize, RAX, r, c.h);
};

const aluEI: Handler = (c, i) => {
  const op = i.sub;
  const a = op === CMP ? c.readE(i) : c.readEForWrite(i);
  const r = aluOp(c, op, i.opsize, a, c.h, immediate(i), immediateHigh(i));
  if (op !== CMP) c.writeBack(i, r, c.h);
};

function test(c: Cpu, size: number, a: number, ah: number, b: number, bh: number): void {
  record(c, F_LOGIC, size, a, ah, b, bh, a & b, ah & bh);
}

const testEG: Handler = (c, i) => {
  const a = c.readE(i);
  const ah = c.h;
  const b = c.readG(i);
  test(c, i.opsize, a, ah, b, c.h);
};
const testAI: Handler = (c, i) => {
  const a = c.readReg(i.opsize, RAX);
  test(c, i.opsize, a, c.h, immediate(i), immediateHigh(i));
};
const testEI: Handler = (c, i) => {
  const a = c.readE(i);
  test(c, i.opsize, a, c.h, immediate(i), immediateHigh(i));
};

const not: Handler = (c, i) => {
  const a = c.readEForWrite(i);
  c.writeBack(i, trunc(i.opsize, ~a), ~c.h);
};

const neg: Handler = (c, i) => {
  const a = c.readEForWrite(i);
  const ah = c.h;
  const r = subRaw(c, i.opsize, 0, 0, a, ah, 0);
  record(c, F_SUB, i.opsize, 0, 0, a, ah, r, c.h);
  c.writeBack(i, r, c.h);
};

const incdec: Handler = (c, i) => {
  const a = c.readEForWrite(i);
  const ah = c.h;
  const carry = getCF(c) ? CF : 0;
  const dec = i.sub === 1;
  const r = dec ? subRaw(c, i.opsize, a, ah, 1, 0, 0) : addRaw(c, i.opsize, a, ah, 1, 0, 0);
  const rh = c.h;
  record(c, dec ? F_DEC : F_INC, i.opsize, a, ah, 1, 0, r, rh);
  c.fe = carry;
  c.writeBack(i, r, rh);
};

const cmpxchg: Handler = (c, i) => {
  const size = i.opsize;
  const dest = c.readEForWrite(i);
  const desth = c.h;
  const acc = c.readReg(size, RAX);
  const acch = c.h;
  aluOp(c, CMP, size, acc, acch, dest, desth);
  if (dest === acc && (size !== 8 || desth === acch)) {
    const src = c.readG(i);
    c.writeBack(i, src, c.h);
  } else {
    // A memory destination is written back unchanged (a locked cycle always writes); a
    // register destination is not written at all, so a 32-bit one keeps its high half.
    if (i.rm === NO_REG) c.writeBack(i, dest, desth);
    c.writeReg(size, RAX, dest, desth);
  }
};

/** CMPXCHG8B m64, or CMPXCHG16B m128 with REX.W (which must be 16-byte aligned). */
const cmpxchg8b: Handler = (c, i) => {
  const low = c.eaHalves(i) + (i.seg >= 0 ? c.segBase[i.seg] & 15 : 0); // exact low bits
  const wide = i.rexW;
  const n = wide ? 16 : 8;
  // Misalignment (#GP) is checked before the canonical form (#SS for a stack reference), as on the host.
  if (wide && (low & 15) !== 0) throw new CpuFault(GP, 0);
  const la = c.ea(i); // (a non-canonical la is not exact as a number)
  c.checkWrite(la, n);
  const half = n / 2;
  const m0 = c.readMem(la, half), m0h = c.h;
  const m1 = c.readMem(la + half, half), m1h = c.h;
  const ax = c.readReg(half, RAX), axh = c.h;
  const dx = c.readReg(half, RDX), dxh = c.h;
  const equal = m0 === ax && m1 === dx && (!wide || (m0h === axh && m1h === dxh));
  if (equal) {
    const bx = c.readReg(half, RBX), bxh = c.h;
    const cx = c.readReg(half, RCX), cxh = c.h;
    c.writeMem(la, half, bx, bxh);
    c.writeMem(la + half, half, cx, cxh);
  } else {
    c.writeMem(la, half, m0, m0h);
    c.writeMem(la + half, half, m1, m1h);
    c.writeReg(half, RAX, m0, m0h);
    c.writeReg(half, RDX, m1, m1h);
  }
  setArithFlags(c, equal ? ZF : 0, ZF);
};

const xadd: Handler = (c, i) => {
  const dest = c.readEForWrite(i);
  const desth = c.h;
  const src = c.readG(i);
  const r = aluOp(c, ADD, i.opsize, dest, desth, src, c.h);
  const rh = c.h;
  // DEST is written last: XADD r, r with the same register keeps the sum. A memory
  // destination's address was fixed by readEForWrite, before G changed.
  c.writeG(i, dest, desth);
  c.writeBack(i, r, rh);
};

/** CMC, CLC, STC, CLD, STD. */
const flagOp: Handler = (c, i) => {
  switch (i.sub) {
    case 0: setArithFlags(c, getCF(c) ? 0 : CF, CF); break;
    case 1: setArithFlags(c, 0, CF); break;
    case 2: setArithFlags(c, CF, CF); break;
    case 3: c.rfl &= ~DF; break;
    default: c.rfl |= DF;
  }
};

const SAHF_MASK = SF | ZF | AF | PF | CF;
const sahf: Handler = (c) => setArithFlags(c, (c.lo[RAX] >> 8) & SAHF_MASK, SAHF_MASK);
const lahf: Handler = (c) => {
  const ah = (arithFlags(c) & SAHF_MASK) | 2;
  c.lo[RAX] = (c.lo[RAX] & ~0xff00) | (ah << 8);
};

const setcc: Handler = (c, i) => {
  c.writeE(i, condition(c, i.sub) ? 1 : 0, 0);
};

const cmovcc: Handler = (c, i) => {
  const v = c.readE(i); // the source is read (and may fault) whatever the condition
  if (condition(c, i.sub)) c.writeG(i, v, c.h);
  else if (i.opsize === 4) c.hi[i.reg] = 0; // a 32-bit destination is always zero-extended
};

/** CBW / CWDE / CDQE: sign-extend the lower half of the accumulator into all of it. */
const cbw: Handler = (c, i) => {
  const v = c.lo[RAX];
  switch (i.opsize) {
    case 2: c.writeReg(2, RAX, (v << 24) >> 24, 0); break;
    case 4: c.writeReg(4, RAX, (v << 16) >> 16, 0); break;
    default: c.writeReg(8, RAX, v, v >> 31);
  }
};

/** CWD / CDQ / CQO: fill DX/EDX/RDX with the sign of AX/EAX/RAX. */
const cwd: Handler = (c, i) => {
  const size = i.opsize;
  const sign = size === 2 ? -((c.lo[RAX] >> 15) & 1) : size === 4 ? c.lo[RAX] >> 31 : c.hi[RAX] >> 31;
  c.writeReg(size, RDX, sign, sign);
};

export const alu: Record<string, Handler> = {
  aluEG, aluGE, aluAI, aluEI, testEG, testAI, testEI, not, neg, incdec,
  cmpxchg, cmpxchg8b, xadd, flagOp, sahf, lahf, setcc, cmovcc, cbw, cwd,
};
