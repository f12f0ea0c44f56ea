// BT/BTS/BTR/BTC (register and immediate offsets, register and memory operands), BSF,
// BSR, TZCNT, LZCNT, POPCNT.
import { describe, it, expect } from "vitest";
import { OpsMachine, CF, OF, ZF, SF, PF, AF, ARITH } from "./ops-machine.ts";
import { DATA } from "../helpers/snippet.ts";

const m = new OpsMachine();
const u = (v: bigint, bits: number) => BigInt.asUintN(bits, v);
const s = (v: bigint, bits: number) => BigInt.asIntN(bits, v);
const OPS = ["bt", "bts", "btr", "btc"] as const;

function apply(op: (typeof OPS)[number], v: bigint, bit: bigint): bigint {
  const mask = 1n << bit;
  return op === "bt" ? v : op === "bts" ? v | mask : op === "btr" ? v & ~mask : v ^ mask;
}

describe("BT, BTS, BTR, BTC", () => {
  const forms: [string, string, number][] = [["ax", "bx", 16], ["eax", "ebx", 32], ["rax", "rbx", 64]];

  it("register operand: the offset is taken modulo the operand size; CF = the bit, other flags unchanged", () => {
    const value = 0xf0f0_1234_8000_0001n;
    for (const op of OPS) {
      for (const [d, src, bits] of forms) {
        for (const off of [0n, 1n, 15n, 16n, 31n, 32n, 63n, 64n, 100n, -1n, -16n]) {
          const init = 0xaaaa_5555_0000_0000n | (value & 0xffffffffn);
          m.run(`${op} ${d}, ${src}`, { rax: init, rbx: off }, ZF | SF | OF | PF | AF);
          const bit = u(off, bits) % BigInt(bits);
          const M = (1n << BigInt(bits)) - 1n;
          const what = `${op} ${d}, ${src}=${off}`;
          expect(m.flags(CF), what).toBe((init >> bit) & 1n ? CF : 0);
          expect(m.flags(ARITH & ~CF), what).toBe(ZF | SF | OF | PF | AF);
          let e = init;
          if (op !== "bt") {
            const r = apply(op, init & M, bit);
            e = bits === 16 ? (init & ~M) | r : r; // 32-bit writes zero-extend
          }
          expect(m.get("rax").toString(16), what).toBe(e.toString(16));
        }
      }
    }
  });

  it("immediate offset: masked to the operand size, also on memory", () => {
    for (const op of OPS) {
      for (const [d, , bits] of forms) {
        for (const imm of [0, 5, 15, 17, 33, 63, 200, 255]) {
          const init = 0x8000_0000_0000_8001n | (1n << 33n);
          m.run(`${op} ${d}, ${imm}`, { rax: init });
          const bit = BigInt(imm % bits);
          expect(m.flags(CF), `${op} ${d}, ${imm}`).toBe((init >> bit) & 1n ? CF : 0);
          const size = bits / 8;
          m.writeN(DATA, 16, 0n);
          m.writeN(DATA + 4, size, u(init, bits));
          const width = size === 2 ? "word" : size === 4 ? "dword" : "qword";
          m.run(`${op} ${width} ptr [rsi+4], ${imm}`, { rsi: DATA });
          expect(m.flags(CF), `${op} mem, ${imm}`).toBe((init >> bit) & 1n ? CF : 0);
          expect(m.readN(DATA + 4, size), `${op} mem, ${imm}`).toBe(apply(op, u(init, bits), bit));
          expect(m.readN(DATA, 4), "nothing below").toBe(0n);
          expect(m.readN(DATA + 4 + size, 16 - 4 - size), "nothing above").toBe(0n);
        }
      }
    }
  });

  it("memory operand with a register offset addresses bits outside it, negative offsets included", () => {
    const BASE = DATA + 0x800;
    for (const op of OPS) {
      for (const [, src, bits] of forms) {
        const size = bits / 8;
        const width = size === 2 ? "word" : size === 4 ? "dword" : "qword";
        for (const off of [0n, 7n, 8n, 63n, 64n, 65n, 1000n, -1n, -8n, -9n, -64n, -65n, -1000n, 0x7fffn, -0x8000n]) {
          if (bits === 16 && (off > 0x7fffn || off < -0x8000n)) continue;
          // A recognisable pattern around BASE.
          const pattern = (k: number) => (k * 29 + 7) & 0xff;
          for (let k = -0x1100; k < 0x1100; k++) m.s.mem.bytes[BASE + k] = pattern(k);
          m.run(`${op} ${width} ptr [rdi], ${src}`, { rdi: BASE, rbx: off });
          const o = s(off, bits);
          // Byte view: bit o of the bit string starting at BASE (as for any operand size).
          const byte = BASE + Number(o >> 3n);
          const b = BigInt(o & 7n);
          const what = `${op} ${width} [base], ${o}`;
          expect(m.faultVector(), what).toBe(-1);
          expect(m.flags(CF), what).toBe((BigInt(pattern(byte - BASE)) >> b) & 1n ? CF : 0);
          const expected = Number(apply(op, BigInt(pattern(byte - BASE)), b));
          expect(m.s.mem.bytes[byte], what).toBe(expected);
          // Nothing else changed.
          for (let k = -0x1100; k < 0x1100; k++) {
            if (BASE + k !== byte && m.s.mem.bytes[BASE + k] !== pattern(k)) throw new Error(`${what}: byte ${k} changed`);
          }
        }
      }
    }
  });

  it("the operand-sized word is what is accessed (a fault beyond the page names it)", () => {
    // 32-bit operand, offset 32*1024: the dword at base + 4096 — on an unmapped page.
    const PAGE = 0x1000000;
    m.s.pt.map(PAGE, 0x1100000, 0x1000, { write: true });
    m.run("bts dword ptr [rdi], ebx", { rdi: PAGE, rbx: 32 * 1024 });
    expect(m.faultVector()).toBe(14);
    expect(m.s.cpu.cr2).toBe(PAGE + 4096);
    // BT reads only: a read-only page is fine; BTS needs write access.
    const RO = 0x1002000;
    m.s.pt.map(RO, 0x1101000, 0x1000, { write: false });
    m.run("bt qword ptr [rdi], rbx", { rdi: RO, rbx: 70 });
    expect(m.faultVector()).toBe(-1);
    m.run("btc qword ptr [rdi], rbx", { rdi: RO, rbx: 70 });
    expect(m.faultVector()).toBe(14);
    expect(m.faultError()).toBe(3);
  });

  it("LOCK BTS on memory", () => {
    m.writeN(DATA, 16, 0n);
    m.run("lock bts qword ptr [rsi], rax", { rsi: DATA, rax: 66 });
    expect(m.faultVector()).toBe(-1);
    expect(m.readN(DATA, 16)).toBe(1n << 66n);
  });
});

describe("BSF and BSR", () => {
  it("index of the lowest/highest set bit; ZF=0", () => {
    const vals = [1n, 2n, 0x80n, 0x8000n, 0x10000n, 0x80000000n, 0x100000000n, 0x8000000000000000n, 0x0000f00000000f00n, 0xffffffffffffffffn];
    for (const [d, src, bits] of [["ax", "bx", 16], ["eax", "ebx", 32], ["rax", "rbx", 64]] as [string, string, number][]) {
      for (const v of vals) {
        const x = u(v, bits);
        if (x === 0n) continue;
        const low = BigInt(x.toString(2).length - x.toString(2).lastIndexOf("1") - 1);
        const high = BigInt(x.toString(2).length - 1);
        for (const [op, e] of [["bsf", low], ["bsr", high]] as [string, bigint][]) {
          const init = 0x1234_5678_9abc_def0n;
          m.run(`${op} ${d}, ${src}`, { rax: init, rbx: v }, ZF | CF | OF | SF | AF);
          const expectReg = bits === 16 ? (init & ~0xffffn) | e : e;
          expect(m.get("rax"), `${op} ${d}, ${x.toString(16)}`).toBe(expectReg);
          expect(m.flags(ZF), `${op} ${d}, ${x.toString(16)}`).toBe(0);
          // Undefined by the SDM; Intel clears CF OF SF AF and sets PF from the index.
          let p = 1;
          for (let t = Number(e); t; t >>= 1) p ^= t & 1;
          expect(m.flags(), `${op} flags`).toBe(p ? PF : 0);
        }
      }
    }
  });

  it("a zero source sets ZF and leaves the destination unchanged, all 64 bits", () => {
    for (const op of ["bsf", "bsr"]) {
      for (const [d, src] of [["ax", "bx"], ["eax", "ebx"], ["rax", "rbx"]]) {
        m.run(`${op} ${d}, ${src}`, { rax: 0xdeadbeef_12345678n, rbx: 0xffffffff_00000000n & (d === "rax" ? 0n : -1n) });
        expect(m.get("rax"), `${op} ${d}`).toBe(0xdeadbeef_12345678n);
        expect(m.flags(ZF), `${op} ${d}`).toBe(ZF);
      }
      m.writeN(DATA, 8, 0n);
      m.run(`${op} rcx, qword ptr [rsi]`, { rcx: 77, rsi: DATA });
      expect(m.get("rcx")).toBe(77n);
      expect(m.flags(ZF)).toBe(ZF);
    }
  });
});

describe("TZCNT, LZCNT, POPCNT", () => {
  const forms: [string, string, number][] = [["ax", "bx", 16], ["eax", "ebx", 32], ["rax", "rbx", 64]];
  const vals = [0n, 1n, 0x8000n, 0x10000n, 0x80000000n, 0x100000000n, 0x8000000000000000n, 0x00ff00ff00ff00f0n, 0xffffffffffffffffn, 0x0123456789abcdefn];

  it("counts, CF = source zero, ZF = result zero", () => {
    for (const [d, src, bits] of forms) {
      for (const v of vals) {
        const x = u(v, bits);
        const bin = x.toString(2).padStart(bits, "0");
        const tz = x === 0n ? bits : bits - 1 - bin.lastIndexOf("1");
        const lz = x === 0n ? bits : bin.indexOf("1");
        const pop = [...bin].filter((c) => c === "1").length;
        const init = 0x5555_6666_7777_8888n;
        for (const [op, e] of [["tzcnt", tz], ["lzcnt", lz]] as [string, number][]) {
          m.run(`${op} ${d}, ${src}`, { rax: init, rbx: v }, ARITH);
          const what = `${op} ${d}, ${x.toString(16)}`;
          expect(m.get("rax"), what).toBe(bits === 16 ? (init & ~0xffffn) | BigInt(e) : BigInt(e));
          expect(m.flags(CF | ZF), what).toBe((x === 0n ? CF : 0) | (e === 0 ? ZF : 0));
          expect(m.flags(OF | SF | AF | PF), what).toBe(0); // undefined; Intel clears them
        }
        m.run(`popcnt ${d}, ${src}`, { rax: init, rbx: v }, ARITH);
        const what = `popcnt ${d}, ${x.toString(16)}`;
        expect(m.get("rax"), what).toBe(bits === 16 ? (init & ~0xffffn) | BigInt(pop) : BigInt(pop));
        expect(m.flags(), what).toBe(x === 0n ? ZF : 0);
      }
    }
  });
});
