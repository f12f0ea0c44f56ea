// MUL, IMUL (one, two, three operands), DIV, IDIV: every size, against BigInt arithmetic,
// with the #DE cases and the flag rules.
import { describe, it, expect } from "vitest";
import { OpsMachine, CF, OF, ZF, SF, PF, AF, u64 } from "./ops-machine.ts";
import { CODE, DATA } from "../helpers/snippet.ts";

const m = new OpsMachine();

const s = (v: bigint, bits: number) => BigInt.asIntN(bits, v);
const u = (v: bigint, bits: number) => BigInt.asUintN(bits, v);

const VALUES64 = [
  0n, 1n, 2n, 3n, 7n, 0xffn, 0x80n, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0x100000000n, 0x123456789n, 0xcccccccccccccccdn, 0xaaaaaaaaaaaaaaabn, 0x8000000000000000n,
  0x7fffffffffffffffn, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x0123456789abcdefn, 0xfedcba9876543210n,
  0x1fffffffffffffn, 0x20000000000000n, 0xdeadbeefcafebaben,
];

describe("MUL and one-operand IMUL", () => {
  const forms: [string, number][] = [["bl", 8], ["bx", 16], ["ebx", 32], ["rbx", 64]];
  for (const signed of [false, true]) {
    const op = signed ? "imul" : "mul";
    it(`${op}: accumulator x operand into the double-width result, CF=OF, SF/PF from the low half`, () => {
      for (const [src, bits] of forms) {
        const B = BigInt(bits);
        for (const a of VALUES64) {
          for (const b of VALUES64) {
            const rax = 0x5555555555555555n ^ a, rdx = 0x3333333333333333n;
            m.run(`${op} ${src}`, { rax: (rax & ~((1n << B) - 1n)) | u(a, bits), rbx: b, rdx }, ZF | AF);
            const x = signed ? s(a, bits) : u(a, bits);
            const y = signed ? s(b, bits) : u(b, bits);
            const p = u(x * y, 2 * bits);
            const lo = u(p, bits), hi = u(p >> B, bits);
            const over = signed ? s(p, 2 * bits) !== s(lo, bits) : hi !== 0n;
            const what = `${op} ${src}: ${x} * ${y}`;
            if (bits === 8) {
              expect(m.get("rax") & 0xffffn, what).toBe(p);
              expect(m.get("rax") >> 16n, what).toBe(((rax & ~0xffn) >> 16n));
              expect(m.get("rdx"), what).toBe(rdx);
            } else if (bits === 16) {
              expect(m.get("rax") & 0xffffn, what).toBe(lo);
              expect(m.get("rdx") & 0xffffn, what).toBe(hi);
              expect(m.get("rdx") >> 16n, what).toBe(rdx >> 16n);
            } else {
              expect(m.get("rax"), what).toBe(lo); // 32-bit results zero-extend
              expect(m.get("rdx"), what).toBe(hi);
            }
            expect(m.flags(CF | OF), what).toBe(over ? CF | OF : 0);
            // Undefined by the SDM; Intel: SF and PF from the low half, ZF and AF clear.
            const low = bits === 8 ? u(p, 8) : lo;
            let pf = 1;
            for (let t = Number(low & 0xffn); t; t >>= 1) pf ^= t & 1;
            expect(m.flags(SF | ZF | PF | AF), what).toBe(((low >> (B - 1n)) & 1n ? SF : 0) | (pf ? PF : 0));
          }
        }
      }
    });
  }

  it("MUL r/m64 by a magic constant (division by 10 the way gcc compiles it)", () => {
    for (const n of [0n, 9n, 10n, 12345678901234567890n, 0xffffffffffffffffn]) {
      m.run("mul rdx\nshr rdx, 3", { rax: n, rdx: 0xcccccccccccccccdn });
      expect(m.get("rdx")).toBe(n / 10n);
    }
  });

  it("reads a memory operand", () => {
    m.writeN(DATA, 8, 0xffffffffffffffffn);
    m.run("mul qword ptr [rsi]", { rax: 0xffffffffffffffffn, rsi: DATA });
    expect(m.get("rax")).toBe(1n);
    expect(m.get("rdx")).toBe(0xfffffffffffffffen);
    m.run("imul byte ptr [rsi]", { rax: 0x7f, rsi: DATA });
    expect(m.get("rax")).toBe(0xff81n);
    expect(m.flags(CF | OF)).toBe(0);
  });

  it("uses AH..BH", () => {
    m.run("mul ah", { rax: 0x1010 });
    expect(m.get("rax")).toBe(0x100n);
    expect(m.flags(CF | OF)).toBe(CF | OF);
  });
});

describe("IMUL with two and three operands", () => {
  it("truncates to the destination, CF=OF = signed overflow", () => {
    const forms: [string, string, number][] = [["cx", "bx", 16], ["ecx", "ebx", 32], ["rcx", "rbx", 64]];
    for (const [d, src, bits] of forms) {
      for (const a of VALUES64) {
        for (const b of VALUES64) {
          const high = 0x1111111111111111n;
          m.run(`imul ${d}, ${src}`, { rcx: a | (bits === 16 ? high << 16n : 0n), rbx: b });
          const p = s(a, bits) * s(b, bits);
          const r = u(p, bits);
          const what = `imul ${d}: ${s(a, bits)} * ${s(b, bits)}`;
          const expectReg = bits === 16 ? (u64(a | (high << 16n)) & ~0xffffn) | r : r;
          expect(m.get("rcx").toString(16), what).toBe(expectReg.toString(16));
          expect(m.flags(CF | OF), what).toBe(s(r, bits) !== p ? CF | OF : 0);
        }
      }
    }
  });

  it("three-operand forms with imm8 and imm32 (sign-extended)", () => {
    const cases: [string, number, bigint][] = [
      ["imul rax, rbx, -7", 64, -7n], ["imul eax, ebx, 0x12345", 32, 0x12345n], ["imul ax, bx, -300", 16, -300n],
      ["imul rax, rbx, 0x7fffffff", 64, 0x7fffffffn], ["imul rax, rbx, -0x80000000", 64, -0x80000000n],
    ];
    for (const [text, bits, imm] of cases) {
      for (const b of VALUES64) {
        m.run(text, { rbx: b });
        const p = s(b, bits) * imm;
        const r = u(p, bits);
        expect(m.get("rax") & ((1n << BigInt(bits)) - 1n), `${text} with ${b}`).toBe(r);
        expect(m.flags(CF | OF), `${text} with ${b}`).toBe(s(r, bits) !== p ? CF | OF : 0);
      }
    }
  });

  it("the source may be memory and the destination the same register", () => {
    m.writeN(DATA, 4, 0xfffffffe);
    m.run("imul eax, dword ptr [rsi]", { rax: 0xffffffff_00000003n, rsi: DATA });
    expect(m.get("rax")).toBe(0xfffffffan);
    m.run("imul rax, rax", { rax: 0x100000000n });
    expect(m.get("rax")).toBe(0n);
    expect(m.flags(CF | OF)).toBe(CF | OF);
  });
});

describe("DIV and IDIV", () => {
  /** Runs a division; returns null when the reference says #DE. */
  function divide(signed: boolean, bits: number, hi: bigint, lo: bigint, d: bigint): [bigint, bigint] | null {
    const B = BigInt(bits);
    let n = (u(hi, bits) << B) | u(lo, bits);
    let dv = u(d, bits);
    if (signed) {
      n = s(n, 2 * bits);
      dv = s(dv, bits);
    }
    if (dv === 0n) return null;
    const q = n / dv; // truncating, like the instruction
    const r = n - q * dv;
    if (signed ? s(q, bits) !== q : u(q, bits) !== q) return null;
    return [u(q, bits), u(r, bits)];
  }

  const pairs: [bigint, bigint][] = [];
  for (const hi of [0n, 1n, 0xffffffffffffffffn, 0x7fffn, 0x12345678n, 0x8000000000000000n, 0x3n]) {
    for (const lo of [0n, 1n, 0xfffffffffffffff0n, 0x8000000000000000n, 0x123456789abcdef0n, 0xffffn]) pairs.push([hi, lo]);
  }

  for (const signed of [false, true]) {
    const op = signed ? "idiv" : "div";
    it(`${op}: quotient and remainder for every size, #DE on zero divisor and overflow`, () => {
      const forms: [string, number][] = [["bl", 8], ["bx", 16], ["ebx", 32], ["rbx", 64]];
      let faults = 0, ok = 0;
      for (const [src, bits] of forms) {
        const B = BigInt(bits);
        for (const [hi, lo] of pairs) {
          for (const d of VALUES64) {
            const rax = 0x6666666666666666n, rdx = 0x7777777777777777n;
            let regs: { rax: bigint; rdx: bigint; rbx: bigint };
            let e: [bigint, bigint] | null;
            if (bits === 8) {
              const ax = u((hi << 8n) | (lo & 0xffn), 16);
              regs = { rax: (rax & ~0xffffn) | ax, rdx, rbx: d };
              e = divide(signed, 8, ax >> 8n, ax & 0xffn, d);
            } else {
              const M = (1n << B) - 1n;
              regs = { rax: (rax & ~M) | u(lo, bits), rdx: (rdx & ~M) | u(hi, bits), rbx: d };
              e = divide(signed, bits, hi, lo, d);
            }
            m.run(`${op} ${src}`, regs, CF | ZF | OF);
            const what = `${op} ${src}: ${regs.rdx.toString(16)}:${regs.rax.toString(16)} / ${u(d, bits).toString(16)}`;
            if (!e) {
              faults++;
              expect(m.faultVector(), what).toBe(0);
              expect(m.faultRip(), what).toBe(CODE);
              expect(m.get("rax"), what).toBe(regs.rax);
              expect(m.get("rdx"), what).toBe(regs.rdx);
              continue;
            }
            ok++;
            expect(m.faultVector(), what).toBe(-1);
            const [q, r] = e;
            if (bits === 8) {
              expect(m.get("rax"), what).toBe((regs.rax & ~0xffffn) | (r << 8n) | q);
            } else if (bits === 16) {
              expect(m.get("rax"), what).toBe((regs.rax & ~0xffffn) | q);
              expect(m.get("rdx"), what).toBe((regs.rdx & ~0xffffn) | r);
            } else {
              expect(m.get("rax"), what).toBe(q);
              expect(m.get("rdx"), what).toBe(r);
            }
            // Undefined by the SDM; Intel leaves them unchanged.
            expect(m.flags(), what).toBe(CF | ZF | OF);
          }
        }
      }
      expect(faults).toBeGreaterThan(50);
      expect(ok).toBeGreaterThan(500);
    });
  }

  it("IDIV of the most negative value by -1 raises #DE", () => {
    m.run("idiv rbx", { rax: 0x8000000000000000n, rdx: 0xffffffffffffffffn, rbx: -1 });
    expect(m.faultVector()).toBe(0);
    m.run("idiv ebx", { rax: 0x80000000, rdx: 0xffffffff, rbx: 0xffffffff });
    expect(m.faultVector()).toBe(0);
    m.run("idiv bx", { rax: 0x8000, rdx: 0xffff, rbx: 0xffff });
    expect(m.faultVector()).toBe(0);
    m.run("idiv bl", { rax: 0xff80, rbx: 0xff });
    expect(m.faultVector()).toBe(0);
    // One less in magnitude is fine.
    m.run("idiv rbx", { rax: 0x8000000000000001n, rdx: 0xffffffffffffffffn, rbx: -1 });
    expect(m.faultVector()).toBe(-1);
    expect(m.get("rax")).toBe(0x7fffffffffffffffn);
    expect(m.get("rdx")).toBe(0n);
  });

  it("128-bit dividends with large values (long division and BigInt paths)", () => {
    const cases: [bigint, bigint, bigint][] = [
      [0xfffffffen, 0xffffffffffffffffn, 0xffffffffn], // divisor < 2^32, RDX != 0
      [0x1234n, 0x0123456789abcdefn, 0x12345n],
      [0xfffffffffffffffen, 0xffffffffffffffffn, 0xffffffffffffffffn], // quotient 2^64-1
      [0x7fffffffffffffffn, 0n, 0x8000000000000000n],
      [0n, 0xffffffffffffffffn, 0x100000001n],
      [0n, 0x1fffffffffffffn, 3n], // fast path
    ];
    for (const [hi, lo, d] of cases) {
      m.run("div rbx", { rax: lo, rdx: hi, rbx: d });
      const n = (hi << 64n) | lo;
      expect(m.faultVector(), `${n} / ${d}`).toBe(-1);
      expect(m.get("rax"), `${n} / ${d}`).toBe(n / d);
      expect(m.get("rdx"), `${n} % ${d}`).toBe(n % d);
    }
    // Signed with a dividend that is not a sign-extended RAX.
    const n = -(0x123456789abcdefn << 20n), d = 0x7654321n;
    m.run("idiv rbx", { rax: u(n, 64), rdx: u(n >> 64n, 64), rbx: d });
    expect(m.faultVector()).toBe(-1);
    expect(m.get("rax")).toBe(u(n / d, 64));
    expect(m.get("rdx")).toBe(u(n % d, 64));
  });

  it("remainder takes the sign of the dividend", () => {
    m.run("cqo\nidiv rbx", { rax: -7, rbx: 2 });
    expect(s(m.get("rax"), 64)).toBe(-3n);
    expect(s(m.get("rdx"), 64)).toBe(-1n);
    m.run("cdq\nidiv ebx", { rax: 7, rbx: -2 });
    expect(s(m.get("rax"), 32)).toBe(-3n);
    expect(m.get("rdx")).toBe(1n);
  });

  it("#DE leaves everything as it was, a memory divisor is read first", () => {
    m.writeN(DATA, 8, 0);
    m.run("div qword ptr [rsi]", { rax: 5, rdx: 0, rsi: DATA });
    expect(m.faultVector()).toBe(0);
    expect(m.get("rax")).toBe(5n);
    m.run("div qword ptr [rsi]", { rax: 5, rdx: 0, rsi: 0x2000000 });
    expect(m.faultVector()).toBe(14);
  });
});
