// Shifts and rotates (group 2), SHLD and SHRD, against a bit-at-a-time model of the
// SDM pseudo-code, over every operand size and the interesting counts.
import { describe, it, expect } from "vitest";
import { OpsMachine, CF, OF, ZF, SF, PF, AF, ARITH, szp, u64, type RegName } from "./ops-machine.ts";
import { DATA } from "../helpers/snippet.ts";

const m = new OpsMachine();

type Op = "rol" | "ror" | "rcl" | "rcr" | "shl" | "shr" | "sar" | "sal";

interface Ref {
  r: bigint;
  cf: number;
  /** OF when the SDM defines it (masked count 1), else undefined. */
  of?: number;
  /** The masked count was 0 (or a whole RCL/RCR turn): flags unchanged. */
  none: boolean;
}

/** The SDM's loop for a shift/rotate of `bits` bits by `count` (unmasked). */
function ref(op: Op, bits: number, a: bigint, count: number, cfIn: number): Ref {
  const B = BigInt(bits);
  const M = (1n << B) - 1n;
  const msb = (v: bigint) => Number((v >> (B - 1n)) & 1n);
  const n = count & (bits === 64 ? 63 : 31);
  if (n === 0) return { r: a, cf: cfIn, none: true };
  let d = a, cf = cfIn;
  let k = n;
  if (op === "rol" || op === "ror") k = n % bits;
  if (op === "rcl" || op === "rcr") k = bits === 8 ? n % 9 : bits === 16 ? n % 17 : n;
  for (let j = 0; j < k; j++) {
    switch (op) {
      case "shl": case "sal": cf = msb(d); d = (d << 1n) & M; break;
      case "shr": cf = Number(d & 1n); d >>= 1n; break;
      case "sar": cf = Number(d & 1n); d = (d >> 1n) | (BigInt(msb(d)) << (B - 1n)); break;
      case "rol": d = ((d << 1n) | BigInt(msb(d))) & M; break;
      case "ror": d = (d >> 1n) | ((d & 1n) << (B - 1n)); break;
      case "rcl": { const t = msb(d); d = ((d << 1n) | BigInt(cf)) & M; cf = t; break; }
      case "rcr": { const t = Number(d & 1n); d = (d >> 1n) | (BigInt(cf) << (B - 1n)); cf = t; break; }
    }
  }
  if (op === "rol") cf = Number(d & 1n);
  if (op === "ror") cf = msb(d);
  if ((op === "rcl" || op === "rcr") && k === 0) return { r: d, cf, none: true };
  let of: number | undefined;
  if (n === 1) {
    switch (op) {
      case "shl": case "sal": case "rol": case "rcl": of = msb(d) ^ cf; break;
      case "shr": of = msb(a); break;
      case "sar": of = 0; break;
      case "ror": of = msb(d) ^ Number((d >> (B - 2n)) & 1n); break;
      case "rcr": of = msb(a) ^ cfIn; break;
    }
  }
  return { r: d, cf, of, none: false };
}

interface Operand { text: string; reg: RegName; bits: number; shift: number }
const OPERANDS: Operand[] = [
  { text: "al", reg: "rax", bits: 8, shift: 0 },
  { text: "bh", reg: "rbx", bits: 8, shift: 8 },
  { text: "r10b", reg: "r10", bits: 8, shift: 0 },
  { text: "dx", reg: "rdx", bits: 16, shift: 0 },
  { text: "esi", reg: "rsi", bits: 32, shift: 0 },
  { text: "r9", reg: "r9", bits: 64, shift: 0 },
];

const VALUES = [
  0n, 1n, 0x80n, 0x7fn, 0xa5n, 0x8001n, 0x7ffen, 0x12345678n, 0x80000001n, 0xfedcba9876543210n,
  0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x0123456789abcdefn,
];
const COUNTS = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255];
const OPS: Op[] = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar", "sal"];

/** Runs `op operand, count-form` and checks value (all 64 bits of the register) and flags. */
function check(op: Op, o: Operand, form: string, a: bigint, count: number, cfIn: number, flagsIn: number) {
  const B = BigInt(o.bits);
  const M = (1n << B) - 1n;
  const v = a & M;
  const init = 0x1122334455667788n ^ a; // the rest of the register
  const regVal = u64((init & ~(M << BigInt(o.shift))) | (v << BigInt(o.shift)));
  m.run(`${op} ${o.text}, ${form}`, { [o.reg]: regVal, rcx: count }, (flagsIn & ~CF) | cfIn);
  const e = ref(op, o.bits, v, count, cfIn);
  let expectReg = u64((regVal & ~(M << BigInt(o.shift))) | (e.r << BigInt(o.shift)));
  if (o.bits === 32) expectReg &= 0xffffffffn; // 32-bit destinations are always written
  const what = `${op} ${o.text}=${v.toString(16)}, ${form} (count ${count}) CF=${cfIn}`;
  expect(m.get(o.reg).toString(16), what).toBe(expectReg.toString(16));
  const f = m.flags();
  const inF = (flagsIn & ~CF) | cfIn;
  if (e.none) {
    expect(f, what + " flags unchanged").toBe(inF & ARITH);
    return;
  }
  expect(f & CF, what + " CF").toBe(e.cf ? CF : 0);
  if (e.of !== undefined) expect(f & OF, what + " OF").toBe(e.of ? OF : 0);
  const rotate = op === "rol" || op === "ror" || op === "rcl" || op === "rcr";
  if (rotate) expect(f & (SF | ZF | PF | AF), what + " SZAP unchanged").toBe(inF & (SF | ZF | PF | AF));
  else expect(f & (SF | ZF | PF), what + " SZP").toBe(szp(e.r, o.bits));
}

describe("group 2 shifts and rotates", () => {
  for (const op of OPS) {
    it(`${op}: every size, counts in CL, flags in and out`, () => {
      let k = 0;
      for (const o of OPERANDS) {
        for (const a of VALUES) {
          for (const count of COUNTS) {
            const flagsIn = [0, SF | ZF | PF | AF | OF, ZF | OF][k % 3];
            check(op, o, "cl", a, count, k++ & 1, flagsIn);
          }
        }
      }
    });
    it(`${op}: the 1 and imm8 forms`, () => {
      let k = 0;
      for (const o of OPERANDS) {
        for (const a of [0x81n, 0xfedcba9876543210n, 0x4000000000000001n]) {
          check(op, o, "1", a, 1, k++ & 1, ZF);
          for (const count of [0, 1, 3, o.bits - 1, 63]) {
            check(op, o, String(count), a, count, k++ & 1, PF | ZF | OF);
          }
        }
      }
    });
  }

  it("8/16-bit shifts by more than the width shift on past it", () => {
    // SHL AL by 9: all bits gone, CF = the zero that came in last.
    m.run("shl al, 9", { rax: 0xff }, CF);
    expect(m.get("rax")).toBe(0n);
    expect(m.flags(CF | ZF)).toBe(ZF);
    // SHR AX by 17 from 0xffff: 0, CF 0; by 16: CF = bit 15.
    m.run("shr ax, cl", { rax: 0xffff, rcx: 16 });
    expect(m.get("rax")).toBe(0n);
    expect(m.flags(CF)).toBe(CF);
    m.run("shr ax, cl", { rax: 0xffff, rcx: 17 }, CF);
    expect(m.flags(CF)).toBe(0);
    // SAR keeps shifting in the sign.
    m.run("sar bl, 30", { rbx: 0x80 });
    expect(m.get("rbx")).toBe(0xffn);
    expect(m.flags(CF | SF)).toBe(CF | SF);
  });

  it("a count of 0 leaves flags and value but clears the upper half of a 32-bit register", () => {
    m.run("shl eax, cl", { rax: 0xffffffff_80000000n, rcx: 0x20 }, CF | OF | ZF);
    expect(m.get("rax")).toBe(0x80000000n);
    expect(m.flags()).toBe(CF | OF | ZF);
    m.run("rol rax, 64", { rax: 0x8000000000000001n }, SF);
    expect(m.get("rax")).toBe(0x8000000000000001n);
    expect(m.flags()).toBe(SF);
    m.run("shl ax, cl", { rax: 0xffffffff_ffff8000n, rcx: 0x40 }, 0);
    expect(m.get("rax")).toBe(0xffffffff_ffff8000n);
  });

  it("RCL/RCR of 8 and 16 bits by a whole turn (9, 17) change nothing", () => {
    m.run("rcl al, 9", { rax: 0x81 }, CF | OF);
    expect(m.get("rax")).toBe(0x81n);
    expect(m.flags()).toBe(CF | OF);
    m.run("rcr ax, 17", { rax: 0x8001 }, 0);
    expect(m.get("rax")).toBe(0x8001n);
    expect(m.flags()).toBe(0);
  });

  it("OF for counts above 1 follows Intel (as for a count of 1; ROL/ROR imm keep it)", () => {
    // SHL: MSB xor next bit of the original.
    m.run("shl eax, 4", { rax: 0x40000000 });
    expect(m.flags(OF)).toBe(OF);
    // SHR: MSB of the original.
    m.run("shr eax, 4", { rax: 0x80000000 });
    expect(m.flags(OF)).toBe(OF);
    // ROL by CL computes it, ROL by an immediate keeps it.
    m.run("rol eax, cl", { rax: 0x40000000, rcx: 4 });
    expect(m.flags(OF)).toBe(OF);
    m.run("rol eax, 4", { rax: 0x40000000 }, 0);
    expect(m.flags(OF)).toBe(0);
    m.run("ror eax, 4", { rax: 0 }, OF);
    expect(m.flags(OF)).toBe(OF);
    // ROR by CL: MSB xor LSB.
    m.run("ror rax, cl", { rax: 1, rcx: 5 });
    expect(m.flags(OF)).toBe(OF);
  });

  it("shifts a memory operand (read-modify-write)", () => {
    m.writeN(DATA, 8, 0x8000000000000001n);
    m.run(`shl qword ptr [rsi], 1`, { rsi: DATA });
    expect(m.readN(DATA, 8)).toBe(2n);
    expect(m.flags(CF | OF | ZF)).toBe(CF | OF);
    m.writeN(DATA + 3, 2, 0x1234);
    m.run(`rcr word ptr [rsi+3], cl`, { rsi: DATA, rcx: 4 }, CF);
    expect(m.readN(DATA + 3, 2)).toBe(ref("rcr", 16, 0x1234n, 4, 1).r);
  });

  it("a count of 0 still checks a memory operand for writing", () => {
    const RO = 0x1000000;
    m.s.pt.map(RO, 0x1100000, 0x1000, { write: false });
    m.run(`shl byte ptr [rax], cl`, { rax: RO, rcx: 0 });
    expect(m.faultVector()).toBe(14);
    expect(m.faultError()).toBe(3); // present, write
  });
});

// ------------------------------------------------------------------ SHLD / SHRD

function refDouble(left: boolean, bits: number, d: bigint, s: bigint, count: number): { r: bigint; cf: number; of?: number } | null {
  const n = count & (bits === 64 ? 63 : 31);
  if (n === 0) return null;
  const B = BigInt(bits), M = (1n << B) - 1n;
  if (n > bits) return { r: -1n, cf: -1 }; // undefined (16-bit only)
  let r: bigint, cf: number;
  if (left) {
    const x = (d << B) | s;
    r = ((x << BigInt(n)) >> B) & M;
    cf = Number((d >> BigInt(bits - n)) & 1n);
  } else {
    const x = (s << B) | d;
    r = (x >> BigInt(n)) & M;
    cf = Number((d >> BigInt(n - 1)) & 1n);
  }
  const of = n === 1 ? Number(((r ^ d) >> (B - 1n)) & 1n) : undefined;
  return { r, cf, of };
}

describe("SHLD and SHRD", () => {
  const forms: [string, string, number][] = [["ax", "bx", 16], ["eax", "ebx", 32], ["rax", "rbx", 64]];
  for (const left of [true, false]) {
    const op = left ? "shld" : "shrd";
    it(`${op}: every size and count, CL and imm8`, () => {
      for (const [d, s, bits] of forms) {
        const M = (1n << BigInt(bits)) - 1n;
        for (const [dv, sv] of [[0x0123456789abcdefn, 0xfedcba9876543210n], [0x8000000000000001n, 0x7fffffffffffffffn], [0n, M]]) {
          for (const count of [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64]) {
            const e = refDouble(left, bits, dv & M, sv & M, count);
            for (const form of ["cl", String(count & 255)]) {
              const initD = (0xaaaaaaaa_aaaaaaaan & ~M) | (dv & M);
              m.run(`${op} ${d}, ${s}, ${form}`, { rax: initD, rbx: sv, rcx: count }, ZF | CF | OF);
              const what = `${op} ${d}=${(dv & M).toString(16)}, ${s}=${(sv & M).toString(16)}, ${form}`;
              if (!e) {
                expect(m.get("rax"), what).toBe(bits === 32 ? initD & M : initD);
                expect(m.flags(), what).toBe(ZF | CF | OF);
                continue;
              }
              if (e.cf < 0) continue; // 16-bit count above 16: undefined
              const high = bits === 16 ? initD & ~M : 0n;
              expect(m.get("rax").toString(16), what).toBe((high | e.r).toString(16));
              expect(m.flags(CF), what).toBe(e.cf ? CF : 0);
              if (e.of !== undefined) expect(m.flags(OF), what).toBe(e.of ? OF : 0);
              expect(m.flags(SF | ZF | PF), what).toBe(szp(e.r, bits));
            }
          }
        }
      }
    });
  }

  it("16-bit counts above 16 shift the three-part value dest:src:dest (Intel)", () => {
    // SHLD AX, BX, 20: (AX:BX:AX) << 20, top 16 bits = BX:AX shifted left by 4.
    m.run("shld ax, bx, 20", { rax: 0x1234, rbx: 0xabcd });
    expect(m.get("rax")).toBe(0xbcd1n);
    m.run("shrd ax, bx, 20", { rax: 0x1234, rbx: 0xabcd });
    expect(m.get("rax")).toBe(0x4abcn);
  });

  it("SHLD on memory", () => {
    m.writeN(DATA + 16, 8, 0x00000000ffffffffn);
    m.run("shld qword ptr [rdi], rdx, 8", { rdi: DATA + 16, rdx: 0xab00000000000000n });
    expect(m.readN(DATA + 16, 8)).toBe(0x000000ffffffffabn);
  });
});
