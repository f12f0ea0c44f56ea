// Lazy arithmetic flags.
//
// Most flag results are never read: gcc code compares, branches once, and overwrites
// them. So an ALU instruction records what it did (the operation, size, operands and
// result) and each flag is computed only when something reads it. Operands and result
// are kept as 32-bit halves; for sizes below 64 bits the high halves are 0 and the low
// halves are truncated to the size (zero-extended for 8 and 16 bits, int32 for 32).
//
// fop tells how to read the record:
//   ADD/ADC/SUB/SBB  all six flags from operands and result (fcin is the carry in)
//   INC/DEC          like ADD/SUB of 1, but CF comes from the eager bits
//   LOGIC            CF = OF = AF = 0; ZF, SF, PF from the result
//   RESULT           ZF, SF, PF from the result; CF, OF, AF from the eager bits
//   EAGER            every flag from the eager bits (fe)

import type { Cpu } from "./cpu.ts";

export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;
export const TF = 1 << 8, IF = 1 << 9, DF = 1 << 10, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16;
export const VM = 1 << 17, AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** RFLAGS bits software can change (all others read as fixed values; bit 1 is always 1). */
export const WRITABLE = ARITH | TF | IF | DF | IOPL | NT | RF | AC | ID;

export const F_ADD = 0, F_ADC = 1, F_SUB = 2, F_SBB = 3, F_INC = 4, F_DEC = 5, F_LOGIC = 6, F_RESULT = 7, F_EAGER = 8;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = i; b; b >>= 1) p ^= b & 1;
  PARITY[i] = p;
}

/** Unsigned (ah:al) < (bh:bl). */
export function ltu64(ah: number, al: number, bh: number, bl: number): boolean {
  return ah >>> 0 !== bh >>> 0 ? ah >>> 0 < bh >>> 0 : al >>> 0 < bl >>> 0;
}

/** The sign bit of a value of the current flag size (hi holds bit 63 for size 8). */
function signOf(size: number, lo: number, hi: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (size * 8 - 1)) & 1;
}

export function getCF(c: Cpu): boolean {
  switch (c.fop) {
    case F_ADD:
      return c.fsize === 8 ? ltu64(c.frh, c.fr, c.fah, c.fa) : c.fr >>> 0 < c.fa >>> 0;
    case F_ADC:
      if (c.fsize === 8) return ltu64(c.frh, c.fr, c.fah, c.fa) || (c.fcin !== 0 && c.fr === c.fa && c.frh === c.fah);
      return c.fr >>> 0 < c.fa >>> 0 || (c.fcin !== 0 && c.fr === c.fa);
    case F_SUB:
      return c.fsize === 8 ? ltu64(c.fah, c.fa, c.fbh, c.fb) : c.fa >>> 0 < c.fb >>> 0;
    case F_SBB:
      if (c.fsize === 8) return ltu64(c.fah, c.fa, c.fbh, c.fb) || (c.fcin !== 0 && c.fa === c.fb && c.fah === c.fbh);
      return c.fa >>> 0 < c.fb >>> 0 || (c.fcin !== 0 && c.fa === c.fb);
    case F_LOGIC:
      return false;
    default:
      return (c.fe & CF) !== 0;
  }
}

export function getZF(c: Cpu): boolean {
  return c.fop === F_EAGER ? (c.fe & ZF) !== 0 : c.fr === 0 && c.frh === 0;
}

export function getSF(c: Cpu): boolean {
  return c.fop === F_EAGER ? (c.fe & SF) !== 0 : signOf(c.fsize, c.fr, c.frh) !== 0;
}

export function getOF(c: Cpu): boolean {
  switch (c.fop) {
    case F_ADD:
    case F_ADC:
    case F_INC:
      return signOf(c.fsize, (c.fa ^ c.fr) & (c.fb ^ c.fr), (c.fah ^ c.frh) & (c.fbh ^ c.frh)) !== 0;
    case F_SUB:
    case F_SBB:
    case F_DEC:
      return signOf(c.fsize, (c.fa ^ c.fb) & (c.fa ^ c.fr), (c.fah ^ c.fbh) & (c.fah ^ c.frh)) !== 0;
    case F_LOGIC:
      return false;
    default:
      return (c.fe & OF) !== 0;
  }
}

export function getPF(c: Cpu): boolean {
  return c.fop === F_EAGER ? (c.fe & PF) !== 0 : PARITY[c.fr & 0xff] !== 0;
}

export function getAF(c: Cpu): boolean {
  if (c.fop <= F_DEC) return ((c.fa ^ c.fb ^ c.fr) & 0x10) !== 0;
  return c.fop === F_LOGIC ? false : (c.fe & AF) !== 0;
}

/** The arithmetic flag bits, materialised. */
export function arithFlags(c: Cpu): number {
  if (c.fop === F_EAGER) return c.fe & ARITH;
  return (
    (getCF(c) ? CF : 0) |
    (getPF(c) ? PF : 0) |
    (getAF(c) ? AF : 0) |
    (getZF(c) ? ZF : 0) |
    (getSF(c) ? SF : 0) |
    (getOF(c) ? OF : 0)
  );
}

/** Replaces the arithmetic flags selected by `mask` with those of `bits`. */
export function setArithFlags(c: Cpu, bits: number, mask = ARITH): void {
  c.fe = (arithFlags(c) & ~mask) | (bits & mask);
  c.fop = F_EAGER;
}

/** Records an ALU result whose flags follow one of the lazy rules. */
export function record(c: Cpu, op: number, size: number, a: number, ah: number, b: number, bh: number, r: number, rh: number): void {
  c.fop = op;
  c.fsize = size;
  c.fa = a;
  c.fah = ah;
  c.fb = b;
  c.fbh = bh;
  c.fr = r;
  c.frh = rh;
}

/** A result whose ZF/SF/PF come from the value and whose CF/OF/AF are given. */
export function recordResult(c: Cpu, size: number, r: number, rh: number, cfOfAf: number): void {
  c.fe = cfOfAf;
  c.fop = F_RESULT;
  c.fsize = size;
  c.fr = r;
  c.frh = rh;
}

/** Condition code n (0-15, encoding order O NO B AE E NE BE A S NS P NP L GE LE G). */
export function condition(c: Cpu, n: number): boolean {
  let r: boolean;
  switch (n >> 1) {
    case 0: r = getOF(c); break;
    case 1: r = getCF(c); break;
    case 2: r = getZF(c); break;
    case 3: r = getCF(c) || getZF(c); break;
    case 4: r = getSF(c); break;
    case 5: r = getPF(c); break;
    case 6: r = getSF(c) !== getOF(c); break;
    default: r = getZF(c) || getSF(c) !== getOF(c); break;
  }
  return (n & 1) !== 0 ? !r : r;
}
