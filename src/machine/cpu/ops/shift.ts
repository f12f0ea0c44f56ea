// Shifts and rotates: group 2 (ROL ROR RCL RCR SHL SHR SAL SAR) and SHLD/SHRD.
//
// Values travel as 32-bit halves (lo, hi); 8- and 16-bit values are zero-extended in lo.
// The count comes from CL, the constant 1 or an imm8 and is masked to 5 bits (6 with a
// 64-bit operand). A masked count of 0 changes no flags and no value, although a memory
// operand has been translated for writing (and may fault) and a 32-bit register has its
// upper half cleared like any 32-bit destination. Shifts compute ZF, SF
// and PF lazily from the result; CF and OF are computed here, AF is set to 0 (undefined).
// Rotates change only CF and OF.
//
// Where the SDM leaves flags undefined, this does what Intel processors do (checked
// against a host CPU): OF for a count other than 1 is computed as for a count of 1 from
// the original operand (SHL/ROL/RCL: MSB xor next bit; SHR: MSB; SAR: 0; ROR: MSB xor
// LSB; RCR: MSB xor CF; SHLD as SHL; SHRD: MSB of dest xor LSB of src), except that ROL
// and ROR by an immediate other than 1 leave OF unchanged. RCL/RCR of 8/16 bits by a
// multiple of 9/17 change nothing. 8- and 16-bit shifts by counts up to 31 go on past
// the width, as the hardware does: SHL/SHR then give 0 and CF is the last bit shifted out
// (0 once only zeros are left), SAR gives the sign.

import type { Cpu } from "../cpu.ts";
import { RCX } from "../arch.ts";
import { NO_REG, type Insn } from "../decoder.ts";
import { ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR } from "../decode-table.ts";
import { recordResult, setArithFlags, getCF, getOF, CF, OF } from "../flags.ts";
import type { Handler } from "./index.ts";

/** High half of the last 64-bit helper result. */
let H = 0;

/** (hi:lo) << n for n in 0..127 (64 and above give 0); high half in H. */
function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi; return lo; }
  if (n < 32) { H = (hi << n) | (lo >>> (32 - n)); return lo << n; }
  if (n < 64) { H = lo << (n - 32); return 0; }
  H = 0;
  return 0;
}

/** (hi:lo) >>> n (logical) for n in 0..127 (64 and above give 0); high half in H. */
function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) { H = hi; return lo; }
  if (n < 32) { H = hi >>> n; return (lo >>> n) | (hi << (32 - n)); }
  if (n < 64) { H = 0; return hi >>> (n - 32); }
  H = 0;
  return 0;
}

/** Bit n (0..63) of (hi:lo). */
function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/** Shift/rotate of an 8-, 16- or 32-bit value; the result's flags are set here. */
function shift32(c: Cpu, op: number, size: number, a: number, n: number): number {
  const bits = size << 3;
  const msb = bits - 1;
  let r: number, cf: number, of: number;
  switch (op) {
    case SHL:
    case SAL: {
      r = bits === 32 ? a << n : (a << n) & ((1 << bits) - 1);
      cf = n <= bits ? (a >>> (bits - n)) & 1 : 0;
      of = ((a >>> msb) ^ (a >>> (msb - 1))) & 1;
      recordResult(c, size, r, 0, (cf ? CF : 0) | (of ? OF : 0));
      return r;
    }
    case SHR: {
      r = a >>> n; // 8/16-bit values are zero-extended, so counts up to 31 shift in zeros
      cf = (a >>> (n - 1)) & 1;
      of = (a >>> msb) & 1;
      if (bits === 32) r |= 0;
      recordResult(c, size, r, 0, (cf ? CF : 0) | (of ? OF : 0));
      return r;
    }
    case SAR: {
      const s = bits === 32 ? a : (a << (32 - bits)) >> (32 - bits);
      r = s >> n;
      cf = (s >> (n - 1)) & 1;
      if (bits !== 32) r &= (1 << bits) - 1;
      recordResult(c, size, r, 0, cf ? CF : 0);
      return r;
    }
    case ROL: {
      const k = n & msb;
      r = k === 0 ? a : (a << k) | (a >>> (bits - k));
      r = bits === 32 ? r | 0 : r & ((1 << bits) - 1);
      cf = r & 1;
      of = ((a >>> msb) ^ (a >>> (msb - 1))) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      return r;
    }
    case ROR: {
      const k = n & msb;
      r = k === 0 ? a : (a >>> k) | (a << (bits - k));
      r = bits === 32 ? r | 0 : r & ((1 << bits) - 1);
      cf = (r >>> msb) & 1;
      of = ((a >>> msb) ^ a) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      return r;
    }
    case RCL: {
      const k = bits === 32 ? n : n % (bits + 1);
      if (k === 0) return a; // a whole turn: CF and OF unchanged too
      const cin = getCF(c) ? 1 : 0;
      r = (k < bits ? a << k : 0) | (cin << (k - 1)) | (k > 1 ? a >>> (bits + 1 - k) : 0);
      r = bits === 32 ? r | 0 : r & ((1 << bits) - 1);
      cf = (a >>> (bits - k)) & 1;
      of = ((a >>> msb) ^ (a >>> (msb - 1))) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      return r;
    }
    default: { // RCR
      const k = bits === 32 ? n : n % (bits + 1);
      if (k === 0) return a;
      const cin = getCF(c) ? 1 : 0;
      of = ((a >>> msb) & 1) ^ cin;
      r = (a >>> k) | (cin << (bits - k)) | (k > 1 ? a << (bits + 1 - k) : 0);
      r = bits === 32 ? r | 0 : r & ((1 << bits) - 1);
      cf = (a >>> (k - 1)) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      return r;
    }
  }
}

/** Shift/rotate of a 64-bit value (count 1..63); result low half returned, high in H. */
function shift64(c: Cpu, op: number, lo: number, hi: number, n: number): number {
  let r: number, rh: number, cf: number, of: number;
  switch (op) {
    case SHL:
    case SAL:
      r = shl64(lo, hi, n);
      rh = H;
      cf = bit64(lo, hi, 64 - n);
      of = ((hi >>> 31) ^ (hi >>> 30)) & 1;
      recordResult(c, 8, r, rh, (cf ? CF : 0) | (of ? OF : 0));
      break;
    case SHR:
      r = shr64(lo, hi, n);
      rh = H;
      cf = bit64(lo, hi, n - 1);
      recordResult(c, 8, r, rh, (cf ? CF : 0) | (hi < 0 ? OF : 0));
      break;
    case SAR:
      if (n < 32) {
        r = (lo >>> n) | (hi << (32 - n));
        rh = hi >> n;
      } else {
        r = hi >> (n - 32);
        rh = hi >> 31;
      }
      cf = bit64(lo, hi, n - 1);
      recordResult(c, 8, r, rh, cf ? CF : 0);
      break;
    case ROL: {
      r = shl64(lo, hi, n);
      rh = H;
      r |= shr64(lo, hi, 64 - n);
      rh |= H;
      cf = r & 1;
      of = ((hi >>> 31) ^ (hi >>> 30)) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      break;
    }
    case ROR: {
      r = shr64(lo, hi, n);
      rh = H;
      r |= shl64(lo, hi, 64 - n);
      rh |= H;
      cf = rh >>> 31;
      of = ((hi >>> 31) ^ lo) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      break;
    }
    case RCL: {
      // A 65-bit rotate of CF:value.
      const cin = getCF(c) ? 1 : 0;
      r = shl64(lo, hi, n);
      rh = H;
      r |= shl64(cin, 0, n - 1);
      rh |= H;
      r |= shr64(lo, hi, 65 - n);
      rh |= H;
      cf = bit64(lo, hi, 64 - n);
      of = ((hi >>> 31) ^ (hi >>> 30)) & 1;
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
      break;
    }
    default: { // RCR
      const cin = getCF(c) ? 1 : 0;
      of = (hi >>> 31) ^ cin;
      r = shr64(lo, hi, n);
      rh = H;
      r |= shl64(cin, 0, 64 - n);
      rh |= H;
      r |= shl64(lo, hi, 65 - n);
      rh |= H;
      cf = bit64(lo, hi, n - 1);
      setArithFlags(c, (cf ? CF : 0) | (of ? OF : 0), CF | OF);
    }
  }
  H = rh;
  return r;
}

/**
 * A masked count of 0 leaves the operand's value alone, but a 32-bit register is still
 * written, so its upper half is cleared (as on Intel and AMD processors).
 */
function zeroCountWrite(c: Cpu, i: Insn): void {
  if (i.opsize === 4 && i.rm !== NO_REG) c.hi[i.rm] = 0;
}

const group2: Handler = (c, i) => {
  const size = i.opsize;
  const a = c.readEForWrite(i);
  const ah = c.h;
  const k = i.entry!.operands.charCodeAt(3);
  const n = (k === 0x49 /* I */ ? i.immLo : k === 0x31 /* 1 */ ? 1 : c.lo[RCX]) & (size === 8 ? 63 : 31);
  if (n === 0) {
    zeroCountWrite(c, i);
    return;
  }
  // ROL/ROR by an immediate other than 1 leave OF unchanged on Intel processors (the CL
  // forms compute it as for a count of 1).
  const keepOf = k === 0x49 && n !== 1 && i.sub <= ROR;
  const of = keepOf ? getOF(c) : false;
  let r: number, rh: number;
  if (size === 8) {
    r = shift64(c, i.sub, a, ah, n);
    rh = H;
  } else {
    r = shift32(c, i.sub, size, a, n);
    rh = 0;
  }
  if (keepOf) setArithFlags(c, of ? OF : 0, OF);
  c.writeBack(i, r, rh);
};

/** The count of SHLD/SHRD (operands "Ev,Gv,Ib" or "Ev,Gv,CL"), masked. */
function doubleCount(c: Cpu, i: Insn): number {
  const n = i.entry!.operands.charCodeAt(6) === 0x49 /* I */ ? i.immLo : c.lo[RCX];
  return n & (i.opsize === 8 ? 63 : 31);
}

/**
 * SHLD/SHRD of 16- or 32-bit operands. For a 16-bit operand with a count above 16 (the
 * SDM leaves the result undefined) the three-part value dest:src:dest is shifted, as
 * Intel processors do.
 */
function double32(c: Cpu, left: boolean, size: number, d: number, s: number, n: number): number {
  let r: number, cf: number;
  if (size === 4) {
    if (left) {
      r = (d << n) | (s >>> (32 - n));
      cf = (d >>> (32 - n)) & 1;
    } else {
      r = (d >>> n) | (s << (32 - n));
      cf = (d >>> (n - 1)) & 1;
    }
  } else if (left) {
    // 48-bit d:s:d, shifted left; the result is the top 16 bits.
    const x = ((d << 16) | s) >>> 0; // d:s
    if (n <= 16) {
      r = (x >>> (16 - n)) & 0xffff;
      cf = (d >>> (16 - n)) & 1;
    } else {
      const m = n - 16; // 1..15: s:d shifted by m
      const y = ((s << 16) | d) >>> 0;
      r = (y >>> (16 - m)) & 0xffff;
      cf = (s >>> (16 - m)) & 1;
    }
  } else {
    // d:s:d (d lowest), shifted right; the result is the low 16 bits.
    if (n <= 16) {
      const x = ((s << 16) | d) >>> 0;
      r = (x >>> n) & 0xffff;
      cf = (d >>> (n - 1)) & 1;
    } else {
      const m = n - 16;
      const y = ((d << 16) | s) >>> 0;
      r = (y >>> m) & 0xffff;
      cf = (s >>> (m - 1)) & 1;
    }
  }
  const msb = (size << 3) - 1;
  // OF as for a count of 1 (Intel's value for the other counts, which the SDM leaves undefined).
  const of = (left ? (d >>> msb) ^ (d >>> (msb - 1)) : (d >>> msb) ^ s) & 1;
  recordResult(c, size, r, 0, (cf ? CF : 0) | (of ? OF : 0));
  return r;
}

function doubleShift(c: Cpu, i: Insn, left: boolean): void {
  const size = i.opsize;
  const d = c.readEForWrite(i);
  const dh = c.h;
  const n = doubleCount(c, i);
  if (n === 0) {
    zeroCountWrite(c, i);
    return;
  }
  const s = c.readG(i);
  const sh = c.h;
  if (size !== 8) {
    c.writeBack(i, double32(c, left, size, d, s, n), 0);
    return;
  }
  let r: number, rh: number, cf: number;
  if (left) {
    r = shl64(d, dh, n);
    rh = H;
    r |= shr64(s, sh, 64 - n);
    rh |= H;
    cf = bit64(d, dh, 64 - n);
  } else {
    r = shr64(d, dh, n);
    rh = H;
    r |= shl64(s, sh, 64 - n);
    rh |= H;
    cf = bit64(d, dh, n - 1);
  }
  const of = (left ? (dh >>> 31) ^ (dh >>> 30) : (dh >>> 31) ^ s) & 1;
  recordResult(c, 8, r, rh, (cf ? CF : 0) | (of ? OF : 0));
  c.writeBack(i, r, rh);
}

const shld: Handler = (c, i) => doubleShift(c, i, true);
const shrd: Handler = (c, i) => doubleShift(c, i, false);

export const shift: Record<string, Handler> = { shift: group2, shld, shrd };
