// Control transfer and the stack: Jcc, JMP, CALL, RET, LOOP*, JRCXZ, PUSH, POP,
// PUSHF, POPF, ENTER, LEAVE.

import type { Cpu } from "../cpu.ts";
import { RCX, RSP, RBP } from "../arch.ts";
import type { Insn } from "../decoder.ts";
import { condition, getZF, IF, IOPL, RF, VM, WRITABLE, ARITH } from "../flags.ts";
import type { Handler } from "./index.ts";
import { loadSegment } from "./segments.ts";

/** A 64-bit value as a linear address (sign-extended halves). */
function linear(lo: number, hi: number): number {
  return hi * 4294967296 + (lo >>> 0);
}

const jcc: Handler = (c, i) => {
  if (condition(c, i.sub)) c.jumpTo(c.nextRip + i.immLo);
};
const jmpJ: Handler = (c, i) => c.jumpTo(c.nextRip + i.immLo);
const jmpE: Handler = (c, i) => {
  const lo = c.readE(i);
  c.jumpTo(linear(lo, c.h));
};

function pushReturn(c: Cpu): void {
  const r = c.nextRip;
  c.push(8, r | 0, Math.floor(r / 4294967296) | 0);
}
const callJ: Handler = (c, i) => {
  const target = c.nextRip + i.immLo;
  if (!c.isCanonical(target)) c.generalProtection(0);
  pushReturn(c);
  c.nextRip = target;
};
const callE: Handler = (c, i) => {
  const lo = c.readE(i);
  const target = linear(lo, c.h);
  if (!c.isCanonical(target)) c.generalProtection(0);
  pushReturn(c);
  c.nextRip = target;
};

const ret: Handler = (c, i) => {
  const sp = c.reg64(RSP);
  const lo = c.readMem(sp, 8);
  const target = linear(lo, c.h);
  if (!c.isCanonical(target)) c.generalProtection(0);
  c.setReg64(RSP, sp + 8 + (i.entry!.operands === "Iw" ? i.immLo & 0xffff : 0));
  c.nextRip = target;
};

/** LOOPNE, LOOPE, LOOP (decrement the count register) and JRCXZ (test it). */
const loop: Handler = (c, i) => {
  const wide = i.addrsize === 8;
  let lo = c.lo[RCX], hi = wide ? c.hi[RCX] : 0;
  if (i.sub !== 3) {
    if (lo === 0 && wide) hi = (hi - 1) | 0;
    lo = (lo - 1) | 0;
    if (wide) c.hi[RCX] = hi;
    else c.hi[RCX] = 0;
    c.lo[RCX] = lo;
  }
  const zeroCount = lo === 0 && hi === 0;
  let taken: boolean;
  switch (i.sub) {
    case 0: taken = !zeroCount && !getZF(c); break;
    case 1: taken = !zeroCount && getZF(c); break;
    case 2: taken = !zeroCount; break;
    default: taken = zeroCount;
  }
  if (taken) c.jumpTo(c.nextRip + i.immLo);
};

const pushZ: Handler = (c, i) => {
  const v = c.readReg(i.opsize, i.reg);
  c.push(i.opsize, v, c.h);
};
const popZ: Handler = (c, i) => {
  const v = c.pop(i.opsize);
  c.writeReg(i.opsize, i.reg, v, c.h);
};
const pushE: Handler = (c, i) => {
  const v = c.readE(i);
  c.push(i.opsize, v, c.h);
};
/** POP r/m: a memory destination's address uses RSP after the increment (SDM). */
const popE: Handler = (c, i) => {
  const oldSp = c.reg64(RSP);
  const v = c.pop(i.opsize);
  const vh = c.h;
  try {
    c.writeE(i, v, vh);
  } catch (e) {
    c.setReg64(RSP, oldSp);
    throw e;
  }
};
const pushI: Handler = (c, i) => c.push(i.opsize, i.immLo, i.immHi);

const pushSeg: Handler = (c, i) => c.push(i.opsize, c.segSel[i.sub], 0);
const popSeg: Handler = (c, i) => {
  const oldSp = c.reg64(RSP);
  const sel = c.pop(i.opsize) & 0xffff;
  try {
    loadSegment(c, i.sub, sel);
  } catch (e) {
    c.setReg64(RSP, oldSp);
    throw e;
  }
};

const pushf: Handler = (c, i) => c.push(i.opsize, c.rflags & ~(RF | VM), 0);

/** POPF: what may change depends on CPL and IOPL; RF and VM are never loaded. */
const popf: Handler = (c, i) => {
  const v = c.pop(i.opsize);
  let mask = WRITABLE & ~RF;
  if (c.cpl > 0) mask &= ~IOPL;
  if (c.cpl > ((c.rfl & IOPL) >> 12)) mask &= ~IF;
  if (i.opsize === 2) mask &= 0xffff;
  c.rflags = (c.rflags & ~mask) | (v & mask);
};

const enter: Handler = (c, i) => {
  const size = i.opsize;
  const level = i.imm2 & 31;
  const oldSp = c.reg64(RSP), oldBp = c.reg64(RBP);
  try {
    c.push(size, c.lo[RBP], c.hi[RBP]);
    const frame = c.reg64(RSP);
    let bp = oldBp;
    for (let k = 1; k < level; k++) {
      bp -= size;
      const v = c.readMem(bp, size);
      c.push(size, v, c.h);
    }
    if (level > 0) c.push(size, frame | 0, Math.floor(frame / 4294967296) | 0);
    const newSp = c.reg64(RSP) - (i.immLo & 0xffff);
    c.writeMem(newSp, 1, c.readMem(newSp, 1), 0); // the new stack top must be writable
    c.writeReg(size, RBP, frame | 0, Math.floor(frame / 4294967296) | 0);
    c.setReg64(RSP, newSp);
  } catch (e) {
    c.setReg64(RSP, oldSp);
    c.setReg64(RBP, oldBp);
    throw e;
  }
};

const leave: Handler = (c, i) => {
  const bp = c.reg64(RBP);
  const v = c.readMem(bp, i.opsize);
  const vh = c.h;
  c.setReg64(RSP, bp + i.opsize);
  c.writeReg(i.opsize, RBP, v, vh);
};

export const control: Record<string, Handler> = {
  jcc, jmpJ, jmpE, callJ, callE, ret, loop, pushZ, popZ, pushE, popE, pushI, pushSeg, popSeg,
  pushf, popf, enter, leave,
};

// Keep ARITH referenced for readers: POPF's mask includes the six arithmetic flags.
void ARITH;
