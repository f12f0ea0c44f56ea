// A reusable snippet machine for instruction tests: one machine per test file, reloaded
// with each code fragment, registers and RFLAGS set from the test, then run to HLT.
// Values are BigInts so 64-bit expectations can be computed exactly.

import { snippet, CODE, STACK_TOP, type Snippet } from "../helpers/snippet.ts";
import { assemble } from "../helpers/asm.ts";
import { CS, SS } from "../../src/machine/cpu/cpu.ts";

export const REG = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type RegName = keyof typeof REG;
export type Regs = Partial<Record<RegName, bigint | number>>;

export const M64 = (1n << 64n) - 1n;

/** Two's complement of a (possibly negative) value in 64 bits. */
export const u64 = (v: bigint | number) => BigInt.asUintN(64, BigInt(v));

export class OpsMachine {
  readonly s: Snippet;
  private readonly user: boolean;

  constructor(opts: { user?: boolean } = {}) {
    this.s = snippet(new Uint8Array([0xf4]), opts);
    this.user = !!opts.user;
  }

  get cpu() {
    return this.s.cpu;
  }

  /** Loads `src` (with a final HLT) at CODE, sets registers (others 0) and RFLAGS, runs. */
  run(src: string, regs: Regs = {}, rflags = 0, maxSteps = 1_000_000): this {
    this.load(src, regs, rflags);
    this.s.run(maxSteps);
    return this;
  }

  /** Like run() but without running (the caller steps). */
  load(src: string, regs: Regs = {}, rflags = 0): this {
    const { s } = this;
    const c = s.cpu;
    s.mem.load(CODE, assemble(src + "\nhlt"));
    for (let r = 0; r < 16; r++) {
      c.lo[r] = 0;
      c.hi[r] = 0;
    }
    for (const [k, v] of Object.entries(regs)) this.set(k as RegName, v);
    c.rsp = STACK_TOP;
    c.halted = false;
    if (this.user) {
      c.cpl = 3;
      c.segSel[CS] = 0x23;
      c.segSel[SS] = 0x1b;
    }
    c.rflags = rflags | 2;
    c.rip = CODE;
    return this;
  }

  set(r: RegName, v: bigint | number): void {
    const x = u64(v);
    this.s.cpu.lo[REG[r]] = Number(x & 0xffffffffn) | 0;
    this.s.cpu.hi[REG[r]] = Number(x >> 32n) | 0;
  }

  /** A register as an unsigned 64-bit BigInt. */
  get(r: RegName): bigint {
    const c = this.s.cpu;
    return (BigInt(c.hi[REG[r]] >>> 0) << 32n) | BigInt(c.lo[REG[r]] >>> 0);
  }

  /** RFLAGS masked (the six arithmetic flags by default). */
  flags(mask = 0x8d5): number {
    return this.s.cpu.rflags & mask;
  }

  /** Bytes of physical memory. */
  bytes(pa: number, n: number): number[] {
    return [...this.s.mem.bytes.subarray(pa, pa + n)];
  }

  /** A little-endian unsigned value of `n` bytes at physical `pa`. */
  readN(pa: number, n: number): bigint {
    let v = 0n;
    for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(this.s.mem.bytes[pa + k]);
    return v;
  }
  writeN(pa: number, n: number, v: bigint | number): void {
    let x = BigInt.asUintN(n * 8, BigInt(v));
    for (let k = 0; k < n; k++) {
      this.s.mem.write8(pa + k, Number(x & 0xffn));
      x >>= 8n;
    }
  }

  faultVector(): number {
    return this.s.faultVector();
  }
  faultError(): number {
    return this.s.faultError();
  }
  faultRip(): number {
    return this.s.faultRip();
  }
}

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** The flags SF, ZF, PF of a result of `bits` bits (what most instructions set from it). */
export function szp(v: bigint, bits: number): number {
  v = BigInt.asUintN(bits, v);
  let f = 0;
  if (v === 0n) f |= ZF;
  if ((v >> BigInt(bits - 1)) & 1n) f |= SF;
  let p = 1;
  for (let b = Number(v & 0xffn); b; b >>= 1) p ^= b & 1;
  if (p) f |= PF;
  return f;
}
