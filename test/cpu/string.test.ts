// String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with and without REP,
// against an element-by-element model; page boundaries, overlaps, faults in the middle,
// restarts, 32-bit addressing, segment overrides, self-modifying code, port I/O.
import { describe, it, expect } from "vitest";
import { OpsMachine, CF, ZF, SF, PF, AF, OF, DF, ARITH, type Regs } from "./ops-machine.ts";
import { CODE, DATA } from "../helpers/snippet.ts";
import { FS, GS } from "../../src/machine/cpu/cpu.ts";

const m = new OpsMachine();
const WINDOW = 0x40000; // bytes of DATA the model covers

let seed = 0x1234567;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

function fillWindow(pattern: (k: number) => number): Uint8Array {
  const bytes = new Uint8Array(WINDOW);
  for (let k = 0; k < WINDOW; k++) bytes[k] = pattern(k) & 0xff;
  m.s.mem.load(DATA, bytes);
  return bytes;
}

type Kind = "movs" | "cmps" | "stos" | "lods" | "scas";
const SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "d", 8: "q" };

interface State { rsi: bigint; rdi: bigint; rcx: bigint; rax: bigint; flags: number }

/** The SDM's loop over a copy of the window (linear = physical here). */
function model(kind: Kind, size: number, rep: string, df: boolean, st: State, mem: Uint8Array): State {
  const s = { ...st };
  const step = BigInt(df ? -size : size);
  const rd = (a: bigint) => {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(mem[Number(a) - DATA + k]);
    return v;
  };
  const wr = (a: bigint, v: bigint) => {
    for (let k = 0; k < size; k++) mem[Number(a) - DATA + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  };
  const bits = BigInt(size * 8);
  const M = (1n << bits) - 1n;
  const cmp = (a: bigint, b: bigint) => {
    const r = (a - b) & M;
    let f = 0;
    if (a < b) f |= CF;
    if (r === 0n) f |= ZF;
    if ((r >> (bits - 1n)) & 1n) f |= SF;
    let p = 1;
    for (let t = Number(r & 0xffn); t; t >>= 1) p ^= t & 1;
    if (p) f |= PF;
    if (((a ^ b ^ r) & 0x10n) !== 0n) f |= AF;
    const sa = (a >> (bits - 1n)) & 1n, sb = (b >> (bits - 1n)) & 1n, sr = (r >> (bits - 1n)) & 1n;
    if (sa !== sb && sr !== sa) f |= OF;
    s.flags = (s.flags & ~ARITH) | f;
  };
  const once = () => {
    switch (kind) {
      case "movs": wr(s.rdi, rd(s.rsi)); s.rsi += step; s.rdi += step; break;
      case "cmps": cmp(rd(s.rsi), rd(s.rdi)); s.rsi += step; s.rdi += step; break;
      case "stos": wr(s.rdi, s.rax & M); s.rdi += step; break;
      case "lods": s.rax = size >= 4 ? rd(s.rsi) : (s.rax & ~M) | rd(s.rsi); s.rsi += step; break;
      case "scas": cmp(s.rax & M, rd(s.rdi)); s.rdi += step; break;
    }
  };
  if (!rep) {
    once();
    return s;
  }
  while (s.rcx !== 0n) {
    once();
    s.rcx--;
    if (kind === "cmps" || kind === "scas") {
      const zf = (s.flags & ZF) !== 0;
      if (rep !== "repne" && !zf) break; // F3 is REPE here
      if (rep === "repne" && zf) break;
    }
  }
  return s;
}

function runString(kind: Kind, size: number, rep: string, df: boolean, st: State): void {
  const before = new Uint8Array(m.s.mem.bytes.subarray(DATA, DATA + WINDOW));
  const text = `${df ? "std\n" : ""}${rep ? rep + " " : ""}${kind}${SUFFIX[size]}`;
  const regs: Regs = { rsi: st.rsi, rdi: st.rdi, rcx: st.rcx, rax: st.rax };
  m.run(text, regs, st.flags);
  const expectMem = new Uint8Array(before);
  const e = model(kind, size, rep, df, st, expectMem);
  const what = `${text} rsi=${st.rsi.toString(16)} rdi=${st.rdi.toString(16)} rcx=${st.rcx} rax=${st.rax.toString(16)}`;
  expect(m.faultVector(), what).toBe(-1);
  expect(m.get("rsi").toString(16), what + " rsi").toBe(e.rsi.toString(16));
  expect(m.get("rdi").toString(16), what + " rdi").toBe(e.rdi.toString(16));
  expect(m.get("rcx"), what + " rcx").toBe(e.rcx);
  expect(m.get("rax").toString(16), what + " rax").toBe(e.rax.toString(16));
  expect(m.flags(ARITH | DF), what + " flags").toBe((e.flags & ARITH) | (df ? DF : 0));
  const got = m.s.mem.bytes.subarray(DATA, DATA + WINDOW);
  for (let k = 0; k < WINDOW; k++) {
    if (got[k] !== expectMem[k]) throw new Error(`${what}: byte +0x${k.toString(16)} is ${got[k]}, expected ${expectMem[k]}`);
  }
}

describe("string instructions against the element-by-element model", () => {
  for (const kind of ["movs", "stos", "cmps", "scas", "lods"] as Kind[]) {
    it(`${kind}: sizes, REP/REPE/REPNE, both directions, page crossings and overlaps`, () => {
      for (let t = 0; t < 160; t++) {
        const size = [1, 2, 4, 8][t & 3];
        const df = (t & 4) !== 0;
        const rep = ["", "rep", "repe", "repne"][(t >> 3) & 3];
        const big = t % 5 === 0;
        const count = rep ? (big ? 1000 + rnd(12000) : rnd(40)) : 1;
        const span = count * size;
        // Equal data most of the time for CMPS, so REPE goes a long way.
        const variant = rnd(3);
        const pat = (k: number) => (variant === 0 ? (k * 7 + (k >> 9)) : variant === 1 ? (k & 0x1ff) === 0x77 ? 0x41 : 0 : 0x41);
        fillWindow(pat);
        const lo = DATA + span + 16, hi = DATA + WINDOW - span - 16;
        let rsi = lo + rnd(Math.max(1, hi - lo));
        // Overlapping ranges on purpose a third of the time (near either side).
        let rdi = rnd(3) === 0 ? rsi + rnd(2 * size + 3) - size : lo + rnd(Math.max(1, hi - lo));
        if (kind === "cmps" && variant === 2) rdi = rsi + 0x1000 * (rnd(2) ? 1 : -1);
        rdi = Math.min(Math.max(rdi, lo), hi);
        if (rnd(4) === 0) rsi = (rsi & ~0xfff) + 0x1000 - rnd(3 * size); // straddle a page
        if (rnd(4) === 0) rdi = (rdi & ~0xfff) + 0x1000 - rnd(3 * size);
        rsi = Math.min(Math.max(rsi, lo), hi);
        rdi = Math.min(Math.max(rdi, lo), hi);
        const rax = [0x41n, 0x4141414141414141n, 0x1122334455667788n, 0n][rnd(4)];
        const flags = [0, ZF, CF | SF | OF][rnd(3)];
        runString(kind, size, rep, df, { rsi: BigInt(rsi), rdi: BigInt(rdi), rcx: BigInt(count), rax, flags });
      }
    });
  }

  it("REP with RCX=0 does nothing at all", () => {
    for (const kind of ["movs", "stos", "cmps", "scas", "lods"] as Kind[]) {
      fillWindow((k) => k);
      runString(kind, 8, kind === "cmps" || kind === "scas" ? "repe" : "rep", false,
        { rsi: BigInt(DATA + 0x100), rdi: BigInt(DATA + 0x900), rcx: 0n, rax: 5n, flags: CF | ZF | PF });
    }
  });

  it("a forward copy onto itself shifted by one replicates (byte-by-byte semantics)", () => {
    fillWindow((k) => k + 1);
    m.run("rep movsb", { rsi: DATA, rdi: DATA + 1, rcx: 5000 });
    expect(m.bytes(DATA, 5001).every((b) => b === 1)).toBe(true);
    fillWindow((k) => k);
    // MOVSQ with the destination 3 bytes above the source: element by element.
    const st = { rsi: BigInt(DATA + 0x100), rdi: BigInt(DATA + 0x103), rcx: 100n, rax: 0n, flags: 0 };
    runString("movs", 8, "rep", false, st);
  });
});

describe("REP iterations and interrupts", () => {
  it("a long REP runs in bounded slices with RIP left on the instruction", () => {
    m.load("rep stosq", { rdi: DATA, rcx: 200000, rax: 0x0101010101010101n });
    m.cpu.step();
    const left = m.get("rcx");
    expect(left).toBeGreaterThan(0n);
    expect(left).toBeLessThan(200000n);
    expect(m.cpu.rip).toBe(CODE);
    expect(m.get("rdi")).toBe(BigInt(DATA) + (200000n - left) * 8n);
    m.s.run();
    expect(m.get("rcx")).toBe(0n);
    expect(m.get("rdi")).toBe(BigInt(DATA + 1600000));
    expect(m.readN(DATA + 1600000 - 8, 8)).toBe(0x0101010101010101n);
    expect(m.cpu.rip).toBe(CODE + 4); // after the HLT
  });

  it("REPE CMPS over a long equal run, also sliced", () => {
    fillWindow(() => 0x5a);
    m.s.mem.bytes[DATA + 0x10000 + 0x4321] = 0;
    m.run("repe cmpsb", { rsi: DATA, rdi: DATA + 0x10000, rcx: 0x10000 });
    expect(m.get("rcx")).toBe(BigInt(0x10000 - 0x4322));
    expect(m.get("rsi")).toBe(BigInt(DATA + 0x4322));
    expect(m.flags(ZF | CF)).toBe(0); // 0x5a - 0: not equal, no borrow
  });
});

describe("faults in the middle of a REP", () => {
  const PAGE = 0x1000000, PA = 0x1100000;

  it("MOVS stops with RSI/RDI/RCX at the faulting element and restarts from there", () => {
    m.s.pt.map(PAGE, PA, 0x1000, { write: true });
    m.cpu.invlpg(PAGE + 0x1000);
    fillWindow((k) => k * 3);
    m.run("rep movsb", { rsi: DATA, rdi: PAGE + 100, rcx: 6000 });
    expect(m.faultVector()).toBe(14);
    expect(m.faultError()).toBe(2); // not present, write
    expect(m.cpu.cr2).toBe(PAGE + 0x1000);
    expect(m.faultRip()).toBe(CODE);
    const done = 0x1000 - 100;
    expect(m.get("rcx")).toBe(BigInt(6000 - done));
    expect(m.get("rsi")).toBe(BigInt(DATA + done));
    expect(m.get("rdi")).toBe(BigInt(PAGE + 0x1000));
    expect(m.bytes(PA + 100, done)).toEqual(m.bytes(DATA, done));
    // Map the next page and resume at the instruction: the copy completes.
    m.s.pt.map(PAGE + 0x1000, PA + 0x1000, 0x1000, { write: true });
    const c = m.cpu;
    c.rip = CODE;
    c.halted = false;
    c.rsp = 0x800000;
    m.s.run();
    expect(m.faultVector()).toBe(-1);
    expect(m.get("rcx")).toBe(0n);
    expect(m.bytes(PA + 100, 6000)).toEqual(m.bytes(DATA, 6000));
  });

  it("an element straddling into a missing page is not written at all", () => {
    const P2 = PAGE + 0x10000;
    m.s.pt.map(P2, PA + 0x10000, 0x1000, { write: true });
    m.s.mem.load(PA + 0x10000 + 0xff8, new Uint8Array(8));
    m.run("rep stosq", { rdi: P2 + 0xffc, rcx: 3, rax: -1 });
    expect(m.faultVector()).toBe(14);
    expect(m.get("rcx")).toBe(3n);
    expect(m.get("rdi")).toBe(BigInt(P2 + 0xffc));
    expect(m.bytes(PA + 0x10000 + 0xff8, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("a source fault is a read fault on the source", () => {
    const P3 = PAGE + 0x20000;
    m.s.pt.map(P3, PA + 0x20000, 0x1000, { write: true });
    m.run("rep movsq", { rsi: P3 + 0xff0, rdi: DATA, rcx: 10 });
    expect(m.faultVector()).toBe(14);
    expect(m.faultError()).toBe(0);
    expect(m.cpu.cr2).toBe(P3 + 0x1000);
    expect(m.get("rcx")).toBe(8n);
    expect(m.get("rsi")).toBe(BigInt(P3 + 0x1000));
    expect(m.get("rdi")).toBe(BigInt(DATA + 16));
  });

  it("REPE CMPS faulting in the middle keeps the flags it started with (Intel)", () => {
    const P4 = PAGE + 0x40000;
    m.s.pt.map(P4, PA + 0x40000, 0x1000, { write: true });
    m.s.mem.bytes.fill(0x33, PA + 0x40000, PA + 0x41000);
    fillWindow(() => 0x33);
    m.run("repe cmpsb", { rsi: P4 + 0xff0, rdi: DATA, rcx: 100 }, CF | SF);
    expect(m.faultVector()).toBe(14);
    expect(m.get("rcx")).toBe(84n);
    expect(m.get("rsi")).toBe(BigInt(P4 + 0x1000));
    expect(m.get("rdi")).toBe(BigInt(DATA + 16));
    expect(m.flags()).toBe(CF | SF);
  });

  it("a read-only destination faults before anything is written, even in the bulk path", () => {
    const RO = PAGE + 0x30000;
    m.s.pt.map(RO, PA + 0x30000, 0x1000, { write: false });
    m.run("rep stosb", { rdi: RO, rcx: 100, rax: 7 });
    expect(m.faultVector()).toBe(14);
    expect(m.faultError()).toBe(3);
    expect(m.get("rcx")).toBe(100n);
    expect(m.s.mem.bytes[PA + 0x30000]).toBe(0);
  });
});

describe("addressing", () => {
  it("with a 67h prefix uses ESI/EDI/ECX and writes them back zero-extended", () => {
    fillWindow((k) => k ^ 0x55);
    m.run("rep movs byte ptr es:[edi], byte ptr [esi]", {
      rsi: 0xffff0000_00000000n | BigInt(DATA), rdi: 0x12345678_00000000n | BigInt(DATA + 0x1000), rcx: 0xdead0000_00000010n,
    });
    expect(m.faultVector()).toBe(-1);
    expect(m.get("rsi")).toBe(BigInt(DATA + 16));
    expect(m.get("rdi")).toBe(BigInt(DATA + 0x1000 + 16));
    expect(m.get("rcx")).toBe(0n);
    expect(m.bytes(DATA + 0x1000, 16)).toEqual(m.bytes(DATA, 16));
    // ECX = 0: nothing is done, but RCX is written back zero-extended, and for MOVS/STOS
    // also RSI/RDI; LODS/CMPS/SCAS leave RSI/RDI (Intel).
    const regs = { rsi: 0xffff0000_00000000n | BigInt(DATA), rdi: 0xffff0000_00000005n, rcx: 0xdead0000_00000000n };
    m.run("rep movs byte ptr es:[edi], byte ptr [esi]", regs);
    expect([m.get("rcx"), m.get("rsi"), m.get("rdi")]).toEqual([0n, BigInt(DATA), 5n]);
    m.run("rep stos byte ptr es:[edi], al", regs);
    expect([m.get("rcx"), m.get("rsi"), m.get("rdi")]).toEqual([0n, regs.rsi, 5n]);
    m.run("repe cmps byte ptr [esi], byte ptr es:[edi]", regs);
    expect([m.get("rcx"), m.get("rsi"), m.get("rdi")]).toEqual([0n, regs.rsi, regs.rdi]);
    // Also when the first element faults.
    m.run("rep stos byte ptr es:[edi], al", { rdi: 0x12345678_ffffff00n, rcx: 0x1_00000003n });
    expect(m.faultVector()).toBe(14);
    expect([m.get("rcx"), m.get("rdi")]).toEqual([3n, 0xffffff00n]);
    // ESI wraps at 4 GB.
    m.s.pt.map(0xfffff000, 0x1180000, 0x1000, { write: true });
    m.s.mem.bytes[0x1180fff] = 0xab;
    m.run("lods al, byte ptr [esi]", { rsi: 0xffffffff });
    expect(m.faultVector()).toBe(-1);
    expect(m.get("rax")).toBe(0xabn);
    expect(m.get("rsi")).toBe(0n);
  });

  it("an FS/GS override applies to the source only", () => {
    fillWindow((k) => k);
    const c = m.cpu;
    c.segBase[FS] = 0x1000;
    m.run("rep movs byte ptr es:[rdi], byte ptr fs:[rsi]", { rsi: DATA, rdi: DATA + 0x4000, rcx: 8 });
    expect(m.bytes(DATA + 0x4000, 8)).toEqual(m.bytes(DATA + 0x1000, 8));
    expect(m.get("rsi")).toBe(BigInt(DATA + 8));
    c.segBase[GS] = 0x2000;
    m.run("lods eax, dword ptr gs:[rsi]", { rsi: DATA });
    expect(m.get("rax")).toBe(m.readN(DATA + 0x2000, 4));
    m.s.mem.bytes[DATA + 0x500] = 0x99;
    m.run("scas al, byte ptr es:[rdi]", { rdi: DATA + 0x500, rax: 0x99 });
    expect(m.flags(ZF)).toBe(ZF);
    c.segBase[FS] = 0;
    c.segBase[GS] = 0;
  });

  it("a non-canonical address raises #GP(0)", () => {
    m.run("rep stosb", { rdi: 0x0000800000000000n, rcx: 4 });
    expect(m.faultVector()).toBe(13);
    expect(m.get("rcx")).toBe(4n);
  });

  it("REPNE (F2) on MOVS/STOS repeats like REP", () => {
    fillWindow(() => 0);
    m.run("repne stosb", { rdi: DATA, rcx: 10, rax: 0xee }, ZF);
    expect(m.get("rcx")).toBe(0n);
    expect(m.bytes(DATA, 11)).toEqual([...Array(10).fill(0xee), 0]);
  });
});

describe("decoded code is dropped when a string instruction overwrites it", () => {
  for (const how of ["rep stosb", "rep movsb"]) {
    it(how, () => {
      m.s.mem.load(DATA, new Uint8Array(16).fill(0x90));
      m.run(`
        xor ebx, ebx
      target:
        mov eax, 0x12345678
        inc ebx
        cmp ebx, 2
        je done
        lea rdi, [rip + target]
        mov al, 0x90
        mov ecx, 5
        ${how}
        mov eax, 1
        jmp target
      done:`, { rsi: DATA });
      expect(m.get("rax")).toBe(1n); // the second pass ran NOPs, not the old MOV
    });
  }
});

describe("INS and OUTS", () => {
  it("OUTS writes the source bytes to port DX; INS stores port data at RDI", () => {
    m.s.mem.load(DATA, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    m.s.ports.writes.length = 0;
    m.run("rep outsb", { rsi: DATA, rdx: 0x3f8, rcx: 3 });
    expect(m.s.ports.writes).toEqual([[0x3f8, 1, 1], [0x3f8, 1, 2], [0x3f8, 1, 3]]);
    expect(m.get("rsi")).toBe(BigInt(DATA + 3));
    m.s.ports.writes.length = 0;
    m.run("outsd", { rsi: DATA, rdx: 0x80 });
    expect(m.s.ports.writes).toEqual([[0x80, 4, 0x04030201]]);
    m.s.mem.load(DATA + 0x40, new Uint8Array(8));
    m.run("rep insw", { rdi: DATA + 0x40, rdx: 0x1f0, rcx: 2 });
    expect(m.bytes(DATA + 0x40, 5)).toEqual([0xff, 0xff, 0xff, 0xff, 0]); // NullPorts reads all ones
    expect(m.get("rdi")).toBe(BigInt(DATA + 0x44));
    // DF=1 goes down.
    m.run("std\ninsb", { rdi: DATA + 0x80, rdx: 0x60 });
    expect(m.get("rdi")).toBe(BigInt(DATA + 0x7f));
  });

  it("at CPL 3 with IOPL 0, ports outside the TSS bitmap raise #GP(0) before anything happens", () => {
    const user = new OpsMachine({ user: true });
    user.s.ports.writes.length = 0;
    user.run("rep outsb", { rsi: DATA, rdx: 0x3f8, rcx: 2 });
    expect(user.faultVector()).toBe(13);
    expect(user.faultError()).toBe(0);
    expect(user.s.ports.writes.length).toBe(0);
    // IOPL 3 lets it through (the HLT after it then faults: it is privileged).
    user.run("rep outsb", { rsi: DATA, rdx: 0x3f8, rcx: 2 }, 0x3000);
    expect(user.s.ports.writes.length).toBe(2);
    expect(user.faultRip()).toBe(CODE + 2);
  });
});

