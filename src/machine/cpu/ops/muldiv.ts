// Multiplication and division: MUL, IMUL (one, two and three operands), DIV, IDIV.
//
// Values travel as 32-bit halves. Products are built from exact 32x32->64 partial
// products (Math.imul gives the low half; the high half is the rounded double product
// corrected by it), so the hot paths never touch BigInt. Division uses doubles while the
// dividend is below 2^53 (where floor/trunc of the rounded quotient is exact), 16-bit
// long division for a 32-bit divisor, and BigInt only for the rare rest.
//
// Flags: CF = OF = "the upper half is significant"; SF and PF come from the low half of
// the result, ZF and AF are 0 (undefined by the SDM; this is what Intel processors do).
// DIV/IDIV leave the flags unchanged (undefined; again as Intel processors do). #DE is
// raised before anything is written.

import type { Cpu } from "../cpu.ts";
import { RAX, RDX, DE, CpuFault } from "../arch.ts";
import { recordResult, CF, OF } from "../flags.ts";
import type { Handler } from "./index.ts";

const TWO32 = 4294967296;

/** High half of the last mul32 (as int32). */
let MH = 0;

/** Unsigned 32x32 -> 64: the low half returned (int32), the high half in MH. */
function mulU32(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const lo = Math.imul(a, b);
  // The double product is within 2^12 of the exact one; subtracting the exact low half
  // leaves a multiple of 2^32 give or take that error.
  MH = Math.round((a * b - (lo >>> 0)) / TWO32) | 0;
  return lo;
}

/** Signed 32x32 -> 64 (a, b as int32). */
function mulS32(a: number, b: number): number {
  a |= 0;
  b |= 0;
  const lo = Math.imul(a, b);
  MH = Math.round((a * b - (lo >>> 0)) / TWO32) | 0;
  return lo;
}

/** The four 32-bit words of the last 128-bit product, least significant first. */
let W0 = 0, W1 = 0, W2 = 0, W3 = 0;

/** Unsigned 64x64 -> 128 into W0..W3. */
function mulU64(al: number, ah: number, bl: number, bh: number): void {
  const p0 = mulU32(al, bl), p0h = MH;
  const p1 = mulU32(al, bh), p1h = MH;
  const p2 = mulU32(ah, bl), p2h = MH;
  const p3 = mulU32(ah, bh), p3h = MH;
  const s1 = (p0h >>> 0) + (p1 >>> 0) + (p2 >>> 0);
  const c1 = Math.floor(s1 / TWO32);
  const s2 = (p1h >>> 0) + (p2h >>> 0) + (p3 >>> 0) + c1;
  const c2 = Math.floor(s2 / TWO32);
  W0 = p0;
  W1 = s1 | 0;
  W2 = s2 | 0;
  W3 = (p3h + c2) | 0;
}

/** Subtracts (bh:bl) from the upper 64 bits W3:W2. */
function subHigh(bl: number, bh: number): void {
  const d = (W2 >>> 0) - (bl >>> 0);
  W2 = d | 0;
  W3 = (W3 - bh - (d < 0 ? 1 : 0)) | 0;
}

/** Signed 64x64 -> 128 into W0..W3. */
function mulS64(al: number, ah: number, bl: number, bh: number): void {
  mulU64(al, ah, bl, bh);
  if (ah < 0) subHigh(bl, bh);
  if (bh < 0) subHigh(al, ah);
}

/**
 * CF = OF = overflow. The SDM leaves SF, ZF, AF and PF undefined; Intel processors set
 * SF and PF from the low half of the result and clear ZF and AF. The lazy record gets a
 * value with the same sign bit and low byte that is never zero (for sizes below 64 the
 * record's high half is not otherwise read; for 64 bits, bit 8 does not count).
 */
function mulFlags(c: Cpu, size: number, lo: number, hi: number, overflow: boolean): void {
  if (size === 8) recordResult(c, 8, lo | 0x100, hi, overflow ? CF | OF : 0);
  else recordResult(c, size, lo, 1, overflow ? CF | OF : 0);
}

const mul: Handler = (c, i) => {
  const b = c.readE(i);
  const bh = c.h;
  switch (i.opsize) {
    case 1: {
      const p = (c.lo[RAX] & 0xff) * b;
      c.writeReg(2, RAX, p, 0);
      mulFlags(c, 1, p & 0xff, 0, p > 0xff);
      return;
    }
    case 2: {
      const p = (c.lo[RAX] & 0xffff) * b;
      const lo = p & 0xffff, hi = p >>> 16;
      c.writeReg(2, RAX, lo, 0);
      c.writeReg(2, RDX, hi, 0);
      mulFlags(c, 2, lo, 0, hi !== 0);
      return;
    }
    case 4: {
      const lo = mulU32(c.lo[RAX], b);
      const hi = MH;
      c.writeReg(4, RAX, lo, 0);
      c.writeReg(4, RDX, hi, 0);
      mulFlags(c, 4, lo, 0, hi !== 0);
      return;
    }
    default: {
      mulU64(c.lo[RAX], c.hi[RAX], b, bh);
      c.writeReg(8, RAX, W0, W1);
      c.writeReg(8, RDX, W2, W3);
      mulFlags(c, 8, W0, W1, (W2 | W3) !== 0);
    }
  }
};

const imul1: Handler = (c, i) => {
  const b = c.readE(i);
  const bh = c.h;
  switch (i.opsize) {
    case 1: {
      const p = ((c.lo[RAX] << 24) >> 24) * ((b << 24) >> 24);
      c.writeReg(2, RAX, p & 0xffff, 0);
      mulFlags(c, 1, p & 0xff, 0, p !== (p << 24) >> 24);
      return;
    }
    case 2: {
      const p = ((c.lo[RAX] << 16) >> 16) * ((b << 16) >> 16);
      c.writeReg(2, RAX, p & 0xffff, 0);
      c.writeReg(2, RDX, (p >> 16) & 0xffff, 0);
      mulFlags(c, 2, p & 0xffff, 0, p !== (p << 16) >> 16);
      return;
    }
    case 4: {
      const lo = mulS32(c.lo[RAX], b);
      const hi = MH;
      c.writeReg(4, RAX, lo, 0);
      c.writeReg(4, RDX, hi, 0);
      mulFlags(c, 4, lo, 0, hi !== lo >> 31);
      return;
    }
    default: {
      mulS64(c.lo[RAX], c.hi[RAX], b, bh);
      c.writeReg(8, RAX, W0, W1);
      c.writeReg(8, RDX, W2, W3);
      const s = W1 >> 31;
      mulFlags(c, 8, W0, W1, W2 !== s || W3 !== s);
    }
  }
};

/** IMUL with a truncated result (two- and three-operand forms); result high half in c.h. */
function imulTrunc(c: Cpu, size: number, a: number, ah: number, b: number, bh: number): number {
  switch (size) {
    case 2: {
      const p = ((a << 16) >> 16) * ((b << 16) >> 16);
      const r = p & 0xffff;
      mulFlags(c, 2, r, 0, p !== (p << 16) >> 16);
      c.h = 0;
      return r;
    }
    case 4: {
      const r = Math.imul(a, b);
      // The double product is exact when it fits 32 bits, and out of range when not.
      mulFlags(c, 4, r, 0, (a | 0) * (b | 0) !== r);
      c.h = 0;
      return r;
    }
    default: {
      if (ah === a >> 31 && bh === b >> 31) {
        // Both operands are sign-extended 32-bit values: the product fits 63 bits.
        const r = mulS32(a, b);
        mulFlags(c, 8, r, MH, false);
        c.h = MH;
        return r;
      }
      mulS64(a, ah, b, bh);
      const s = W1 >> 31;
      mulFlags(c, 8, W0, W1, W2 !== s || W3 !== s);
      c.h = W1;
      return W0;
    }
  }
}

const imul2: Handler = (c, i) => {
  const b = c.readE(i);
  const bh = c.h;
  const a = c.readG(i);
  const r = imulTrunc(c, i.opsize, a, c.h, b, bh);
  c.writeG(i, r, c.h);
};

const imul3: Handler = (c, i) => {
  const a = c.readE(i);
  const r = imulTrunc(c, i.opsize, a, c.h, i.immLo, i.immHi);
  c.writeG(i, r, c.h);
};

// ---------------------------------------------------------------- division

function divideError(): never {
  throw new CpuFault(DE);
}

/** Quotient and remainder of the last division, as 32-bit halves. */
let QL = 0, QH = 0, RL = 0, RH = 0;

function toBigU(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
function fromBig(v: bigint): [number, number] {
  return [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
}

/** Splits a number (an integer below 2^53 in magnitude) into halves: low returned, high in MH. */
function halves(v: number): number {
  MH = Math.floor(v / TWO32) | 0;
  return v % TWO32 | 0;
}

/**
 * Unsigned (n3:n2:n1:n0) / d with d < 2^32 and n3:n2 < d (so the quotient fits 64 bits),
 * by 16-bit long division: every partial remainder stays below 2^48. Sets QL/QH, RL.
 */
function divWordsBy32(n2: number, n1: number, n0: number, d: number): void {
  let r = n2 >>> 0;
  let q = 0, qh = 0;
  const digits = [n1 >>> 16, n1 & 0xffff, n0 >>> 16, n0 & 0xffff];
  for (let k = 0; k < 4; k++) {
    r = r * 65536 + digits[k];
    const qd = Math.floor(r / d);
    r -= qd * d;
    qh = (qh << 16) | (q >>> 16);
    q = (q << 16) | qd;
  }
  QL = q;
  QH = qh;
  RL = r | 0;
  RH = 0;
}

/** Unsigned 128/64: RDX:RAX / (dh:dl). Raises #DE on a zero divisor or overflow. */
function divU64(c: Cpu, dl: number, dh: number): void {
  const nl = c.lo[RAX], nh = c.hi[RAX], xl = c.lo[RDX], xh = c.hi[RDX];
  if ((dl | dh) === 0) divideError();
  if (dh === 0) {
    if (xh !== 0 || xl >>> 0 >= dl >>> 0) divideError();
    if (xl === 0 && nh >>> 0 < 0x200000) {
      const n = (nh >>> 0) * TWO32 + (nl >>> 0);
      const d = dl >>> 0;
      const q = Math.floor(n / d);
      QL = halves(q); QH = MH;
      RL = (n - q * d) | 0; RH = 0;
      return;
    }
    divWordsBy32(xl, nh, nl, dl >>> 0);
    return;
  }
  if ((xl | xh) === 0 && nh >>> 0 < 0x200000 && dh >>> 0 < 0x200000) {
    const n = (nh >>> 0) * TWO32 + (nl >>> 0);
    const d = (dh >>> 0) * TWO32 + (dl >>> 0);
    const q = Math.floor(n / d);
    QL = halves(q); QH = MH;
    RL = halves(n - q * d); RH = MH;
    return;
  }
  const n = (toBigU(xl, xh) << 64n) | toBigU(nl, nh);
  const d = toBigU(dl, dh);
  const q = n / d;
  if (q >> 64n !== 0n) divideError();
  [QL, QH] = fromBig(q);
  [RL, RH] = fromBig(n - q * d);
}

/** Signed 128/64: RDX:RAX / (dh:dl). */
function divS64(c: Cpu, dl: number, dh: number): void {
  const nl = c.lo[RAX], nh = c.hi[RAX], xl = c.lo[RDX], xh = c.hi[RDX];
  if ((dl | dh) === 0) divideError();
  const s = nh >> 31;
  // Fast path: the dividend is a sign-extended RAX and both values are below 2^52.
  if (xl === s && xh === s && ((nh + 0x100000) >>> 0) < 0x200000 && ((dh + 0x100000) >>> 0) < 0x200000) {
    const n = nh * TWO32 + (nl >>> 0);
    const d = dh * TWO32 + (dl >>> 0);
    const q = Math.trunc(n / d);
    QL = halves(q); QH = MH;
    RL = halves(n - q * d); RH = MH;
    return;
  }
  const n = BigInt.asIntN(128, (toBigU(xl, xh) << 64n) | toBigU(nl, nh));
  const d = BigInt.asIntN(64, toBigU(dl, dh));
  const q = n / d; // BigInt division truncates toward zero, like IDIV
  if (q !== BigInt.asIntN(64, q)) divideError();
  [QL, QH] = fromBig(q);
  [RL, RH] = fromBig(n - q * d);
}

const div: Handler = (c, i) => {
  const d = c.readE(i);
  const dh = c.h;
  switch (i.opsize) {
    case 1: {
      const n = c.lo[RAX] & 0xffff;
      if (d === 0) divideError();
      const q = Math.floor(n / d);
      if (q > 0xff) divideError();
      c.writeReg(2, RAX, ((n - q * d) << 8) | q, 0);
      return;
    }
    case 2: {
      const n = (c.lo[RDX] & 0xffff) * 65536 + (c.lo[RAX] & 0xffff);
      if (d === 0) divideError();
      const q = Math.floor(n / d);
      if (q > 0xffff) divideError();
      c.writeReg(2, RAX, q, 0);
      c.writeReg(2, RDX, n - q * d, 0);
      return;
    }
    case 4: {
      const du = d >>> 0;
      const nh = c.lo[RDX] >>> 0, nl = c.lo[RAX] >>> 0;
      if (du === 0 || nh >= du) divideError();
      let q: number, r: number;
      if (nh < 0x200000) {
        const n = nh * TWO32 + nl;
        q = Math.floor(n / du);
        r = n - q * du;
      } else {
        divWordsBy32(0, nh, nl, du);
        q = QL;
        r = RL;
      }
      c.writeReg(4, RAX, q | 0, 0);
      c.writeReg(4, RDX, r | 0, 0);
      return;
    }
    default:
      divU64(c, d, dh);
      c.writeReg(8, RAX, QL, QH);
      c.writeReg(8, RDX, RL, RH);
  }
};

const idiv: Handler = (c, i) => {
  const dv = c.readE(i);
  const dvh = c.h;
  switch (i.opsize) {
    case 1: {
      const n = (c.lo[RAX] << 16) >> 16;
      const d = (dv << 24) >> 24;
      if (d === 0) divideError();
      const q = Math.trunc(n / d);
      if (q > 127 || q < -128) divideError();
      c.writeReg(2, RAX, (((n - q * d) & 0xff) << 8) | (q & 0xff), 0);
      return;
    }
    case 2: {
      const n = (c.lo[RDX] << 16) | (c.lo[RAX] & 0xffff);
      const d = (dv << 16) >> 16;
      if (d === 0) divideError();
      const q = Math.trunc(n / d);
      if (q > 32767 || q < -32768) divideError();
      c.writeReg(2, RAX, q & 0xffff, 0);
      c.writeReg(2, RDX, (n - q * d) & 0xffff, 0);
      return;
    }
    case 4: {
      const d = dv | 0;
      if (d === 0) divideError();
      const nh = c.lo[RDX], nl = c.lo[RAX];
      let q: number, r: number;
      if (((nh + 0x100000) >>> 0) < 0x200000) {
        const n = nh * TWO32 + (nl >>> 0);
        q = Math.trunc(n / d);
        r = n - q * d;
      } else {
        const n = BigInt.asIntN(64, toBigU(nl, nh));
        const bq = n / BigInt(d);
        if (bq !== BigInt.asIntN(32, bq)) divideError();
        q = Number(bq);
        r = Number(n - bq * BigInt(d));
      }
      if (q > 2147483647 || q < -2147483648) divideError();
      c.writeReg(4, RAX, q | 0, 0);
      c.writeReg(4, RDX, r | 0, 0);
      return;
    }
    default:
      divS64(c, dv, dvh);
      c.writeReg(8, RAX, QL, QH);
      c.writeReg(8, RDX, RL, RH);
  }
};

export const muldiv: Record<string, Handler> = { mul, imul1, imul2, imul3, div, idiv };
