// Random single-instruction cases for the host-CPU tests, generated from DECODE_TABLE.
//
// Every case is one instruction placed at CODE_BASE + codeOff in a page otherwise full of
// INT3, a data page at DATA_BASE filled from a seed (xorshift32, the same stream the
// native harness computes) and patched, all 16 GPRs and RFLAGS. Memory operands are
// generated so that their effective address lands in the data page (or, for a few
// deliberate cases, just across its edge or at a non-canonical address), identically on
// the host and on the emulator: base and index register values are solved from the
// chosen target address, displacement and scale.
//
// What is compared: all 16 GPRs, where execution continued (RIP), the data page, the
// exception vector (if any), and RFLAGS restricted to the flags that are defined for
// the case: see comparedFlags() below, which holds every "undefined" rule.

import { DECODE_TABLE, type TableEntry } from "../../src/machine/cpu/decode-table.ts";
import { operandSize, sizeLetter, letterSize } from "../../src/machine/cpu/decoder.ts";

export const CODE_BASE = 0x20000000;
export const DATA_BASE = 0x10000000;
/** GS base the harness installs (ARCH_SET_GS) and the emulator uses: DATA - GS_BASE fits a disp32. */
export const GS_BASE = 0x0f000000;
export const PAGE = 4096;

export const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Non-arithmetic RFLAGS bits that are always compared (RF is not: faults set it in the saved image). */
export const SYSTEM_FLAGS = 2 | TF | IF | DF | IOPL | NT | VM | AC | VIF | VIP | ID;
const FLAG_LETTERS: Record<string, number> = { O: OF, S: SF, Z: ZF, A: AF, P: PF, C: CF };

export const REG_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;

// ------------------------------------------------------------------ flag rules

function letters(s: string | undefined): number {
  let m = 0;
  for (const ch of s ?? "") m |= FLAG_LETTERS[ch] ?? 0;
  return m;
}

/**
 * The arithmetic flags whose output is compared for one case, or "skip" when the SDM
 * leaves the whole result undefined. `count` is the shift/rotate count as encoded (CL or
 * the immediate; 1 for the D0/D1 forms), `opsize` the operand size in bytes.
 *
 * Baseline: the table's `undef` letters are masked (Intel SDM vol. 2 "Flags Affected"
 * of each instruction: AND/OR/XOR/TEST leave AF undefined; MUL/IMUL leave SF ZF AF PF
 * undefined; DIV/IDIV all six; BSF/BSR all but ZF; BT* OF SF AF PF; TZCNT/LZCNT OF SF
 * AF PF). Flags an instruction does not write must be unchanged, so they are compared.
 * On top of that, the count-dependent rules:
 *  - SAL/SAR/SHL/SHR, ROL/ROR/RCL/RCR (SDM vol. 2B): the count is masked to 5 bits (6
 *    with REX.W). A masked count of 0 affects no flag. OF is defined only for a masked
 *    count of 1. For SHL/SHR, CF is undefined when the count is >= the operand width
 *    (possible for 8- and 16-bit operands). Shifts leave AF undefined for a nonzero count.
 *  - SHLD/SHRD (SDM vol. 2B): masked count 0 affects nothing; OF defined only for count 1;
 *    AF undefined; a count greater than the operand size (16-bit operands) leaves the
 *    result and all flags undefined: such cases are skipped.
 */
export function comparedFlags(e: TableEntry, opsize: number, count: number): number | "skip" {
  let compared = ARITH & ~letters(e.undef);
  if (e.exec === "shift" || e.exec === "shld" || e.exec === "shrd") {
    const masked = count & (opsize === 8 ? 63 : 31);
    if (masked === 0) return ARITH;
    if ((e.exec === "shld" || e.exec === "shrd") && masked > opsize * 8) return "skip";
    if (masked !== 1) compared &= ~OF;
    const sub = e.sub ?? 0;
    const shlShr = e.exec === "shift" && (sub === 4 || sub === 5 || sub === 6);
    if (shlShr && masked >= opsize * 8) compared &= ~CF;
  }
  return compared;
}

// ------------------------------------------------------------------ PRNG

/** xoshiro128** with a splitmix32 seeding: 32-bit operations only, deterministic everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const EDGES: bigint[] = [
  0n, 1n, 2n, 3n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0x8000000000000001n,
  0xff00ff00ff00ff00n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan, 0xffffffff80000000n, 0xffffffffffff8000n,
  0xffffffffffffff80n, 0x00000000ffff0000n,
];

/** An interesting 64-bit value: fully random, an edge value, small, or sparse. */
export function value64(rng: Rng): bigint {
  switch (rng.int(8)) {
    case 0: case 1: case 2: return rng.u64();
    case 3: case 4: return EDGES[rng.int(EDGES.length)];
    case 5: return BigInt(rng.int(66));
    case 6: return (M64 - BigInt(rng.int(66))) & M64;
    default: {
      const v = 1n << BigInt(rng.int(64));
      return rng.chance(0.5) ? v : (v - 1n) & M64;
    }
  }
}

/** A shift count: mostly 0..65, sometimes any byte. */
function shiftCount(rng: Rng): number {
  return rng.chance(0.8) ? rng.int(66) : rng.int(256);
}

// ------------------------------------------------------------------ data page

/** The initial data page for a seed: xorshift32 words, as harness.c's fill_data. */
export function fillData(seed: number): Uint8Array {
  const out = new Uint8Array(PAGE);
  const view = new DataView(out.buffer);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let k = 0; k < PAGE; k += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    view.setUint32(k, x, true);
  }
  return out;
}

export interface Patch {
  off: number;
  bytes: Uint8Array;
}

/** The data page a case starts with. */
export function initialData(c: FuzzCase): Uint8Array {
  const d = fillData(c.dataSeed);
  for (const p of c.patches) d.set(p.bytes, p.off);
  return d;
}

// ------------------------------------------------------------------ forms

export interface Form {
  entry: TableEntry;
  /** "mnemonic operands [opcode]": unique per table entry. */
  key: string;
  mandatory: number;
  /** Opcode bytes including 0F / 0F 38 escapes (the last one is the +r base for plusReg). */
  opcode: number[];
  plusReg: boolean;
  digit: number;
  exactModrm: number;
  modKind: "" | "m" | "r";
  ops: string[];
  needsModrm: boolean;
}

/**
 * Executors the host tests run, by name (a whitelist, so that an instruction added to the
 * table later, such as SYSCALL, is never run natively by accident). Entries marked
 * `priv` are run too: at CPL 3 they all raise #GP(0) before doing anything.
 * Not tested: segment loads (MOV Sreg, POP FS/GS: FS and GS hold the harness's TLS and
 * our GS base), host-specific values (CPUID, RDTSC(P), RDRAND/RDSEED, XGETBV, RDFSBASE),
 * the UMIP-emulated SGDT/SIDT/SMSW/SLDT/STR, x87/SSE state (FXSAVE, LDMXCSR, ...),
 * VMX, software interrupts (INT 80h is a system call) and SYSCALL.
 */
const TESTED_EXEC = new Set([
  // alu.ts
  "aluEG", "aluGE", "aluAI", "aluEI", "testEG", "testAI", "testEI", "not", "neg", "incdec", "cmpxchg", "cmpxchg8b",
  "xadd", "flagOp", "sahf", "lahf", "setcc", "cmovcc", "cbw", "cwd",
  // move.ts
  "movEG", "movGE", "movEI", "movZI", "movAO", "movOA", "movzx", "movsx", "lea", "xchgEG", "xchgZA", "bswap", "xlat",
  "movFromSeg", "nop", "clflush", "pause", "ud",
  // control.ts
  "jcc", "jmpJ", "jmpE", "callJ", "callE", "ret", "loop", "pushZ", "popZ", "pushE", "popE", "pushI", "pushSeg",
  "pushf", "popf", "enter", "leave",
  // shift.ts, muldiv.ts, bits.ts
  "shift", "shld", "shrd", "mul", "imul1", "imul2", "imul3", "div", "idiv",
  "btG", "btI", "bsf", "bsr", "tzcnt", "lzcnt", "popcnt",
  // string.ts (INS/OUTS: #GP at CPL 3 with IOPL 0 and no I/O bitmap)
  "movs", "cmps", "stos", "lods", "scas", "ins", "outs",
  // io.ts: #GP at CPL 3
  "inI", "outI", "inDX", "outDX",
  // system.ts: all fault at CPL 3 (#GP, or #UD for CLAC/STAC)
  "cli", "sti", "clacStac", "sysret", "xsetbv", "swapgs",
]);

function tested(e: TableEntry): boolean {
  return (TESTED_EXEC.has(e.exec) || e.priv === true) && e.cls !== "vmx" && e.cls !== "vmfunc";
}

function parseForm(e: TableEntry): Form {
  const parts = e.opcode.split(" ");
  let mandatory = 0;
  if ((parts[0] === "66" || parts[0] === "F2" || parts[0] === "F3") && parts.length > 1 && !parts[1].startsWith("/")) {
    mandatory = parseInt(parts.shift()!, 16);
  }
  const opcode: number[] = [];
  if (parts[0] === "0F") {
    opcode.push(0x0f);
    parts.shift();
    if ((parts[0] as string) === "38") opcode.push(parseInt(parts.shift()!, 16));
  }
  const opText = parts.shift()!;
  const plusReg = opText.endsWith("+");
  opcode.push(parseInt(opText, 16));
  let digit = -1, exactModrm = -1;
  let modKind: Form["modKind"] = "";
  const rest = parts.shift();
  if (rest?.startsWith("/")) {
    digit = parseInt(rest[1], 10);
    modKind = (rest[2] ?? "") as Form["modKind"];
  } else if (rest) exactModrm = parseInt(rest, 16);
  const ops = e.operands === "" ? [] : e.operands.split(",");
  // ModRM operands: E G M R S, and control/debug registers "Cq"/"Dq" (not CL or DX).
  const needsModrm = digit >= 0 || exactModrm >= 0 || /(^|,)([EGMRS]|[CD][a-z])/.test(e.operands);
  return { entry: e, key: `${e.mnemonic} ${e.operands} [${e.opcode}]`.replace(" []", ""), mandatory, opcode, plusReg, digit, exactModrm, modKind, ops, needsModrm };
}

let formsCache: Form[] | null = null;

/** The table entries the host tests cover. */
export function testedForms(): Form[] {
  if (formsCache) return formsCache;
  formsCache = DECODE_TABLE.filter(tested).map(parseForm);
  return formsCache;
}

/** Table entries not covered, with the reason (for the coverage report). */
export function untestedEntries(): string[] {
  return DECODE_TABLE.filter((e) => !tested(e)).map((e) => `${e.mnemonic} [${e.opcode}]`);
}

// ------------------------------------------------------------------ cases

export interface FuzzCase {
  index: number;
  form: Form;
  bytes: Uint8Array;
  codeOff: number;
  /** Input registers rax..r15 (unsigned 64-bit). */
  regs: bigint[];
  rflags: number;
  dataSeed: number;
  patches: Patch[];
  opsize: number;
  /** Arithmetic flags compared (comparedFlags()). */
  flagMask: number;
  /** What the case exercises beyond the form: prefixes, fault variants... ("lock", "addr32", "page-crossing"). */
  tags: string[];
  /** Instructions to run: 2 for a flag producer followed by a consumer (pair cases). */
  steps: number;
  /** The consumer of a pair case ("setcc", "adc", ...), which reads the producer's lazy flags. */
  second?: string;
}

/** What one execution produced (host or emulator). */
export interface Outcome {
  /** Exception vector, or -1 when the instruction completed. */
  vector: number;
  /** Error code of #GP/#PF/#SS..., -1 when none or not comparable. */
  err: number;
  regs: bigint[];
  /** Where execution continued (offset from CODE_BASE; for a fault, the faulting RIP). */
  rip: number;
  rflags: number;
  /** Changed data-page bytes as [offset, value], ascending. */
  diffs: [number, number][];
  /** The faulting linear address of a #PF. */
  cr2?: bigint;
  /** A harness failure (timeout, unexpected signal, emulator exception) described in words. */
  problem?: string;
}


interface Imm {
  size: number;
  value: bigint | ((len: number) => bigint);
}

/** Builds one case; a failed constraint throws Retry and the caller draws again. */
class Retry {}

class Builder {
  regs: bigint[] = [];
  pinned = new Set<number>();
  /** Registers to prefer not to use for addressing (their values get shaped). */
  avoid = new Set<number>();
  patches: Patch[] = [];
  prefixes: number[] = [];
  rex = -1;
  o16 = false;
  a32 = false;
  lock = false;
  gs = false;
  rep = 0;
  w = false;
  opsize = 4;
  modrm = -1;
  sib = -1;
  disp: { size: number; value: bigint } | null = null;
  ripRel = false;
  /** Effective-address target (linear) for RIP-relative: disp is solved at assembly. */
  ripTarget = 0n;
  imms: Imm[] = [];
  /** The memory operand's offset in the data page (when targeted), and its size. */
  memOff = -1;
  memSize = 0;
  /** Register rm (with REX.B and AH..BH mapping), or -1 for memory. */
  rm = -1;
  /** ModRM.reg / +r register (with REX and byte mapping). */
  reg = -1;
  baseReg = -1;
  indexReg = -1;
  scale = 1;
  note = "";
  codeOff: number;
  flags: number;
  rexBits = { w: 0, r: 0, x: 0, b: 0 };
  /** Low opcode bits of a +r opcode. */
  plusLow = 0;
  /** 1: the REX prefix precedes a legacy prefix (so it is ignored); 2: a second REX before it (the last one counts). */
  rexVariant = 0;
  /** Redundant prefixes make the instruction longer than 15 bytes (#GP). */
  tooLong = false;

  constructor(readonly rng: Rng, readonly f: Form) {
    for (let r = 0; r < 16; r++) this.regs.push(value64(rng));
    this.codeOff = rng.range(0x100, 0xf00);
    this.flags = 0x202 | (rng.u32() & ARITH) | (rng.chance(0.2) ? DF : 0);
  }

  pin(r: number, v: bigint): void {
    this.regs[r] = v & M64;
    this.pinned.add(r);
  }

  /** Records a memory ModRM (and SIB) with the REX bits the address needs. */
  modrmMem(mod: number, rm: number, sib: number, rexB: number, rexX: number): void {
    this.modrm = (mod << 6) | (this.modrm & 0x38) | rm;
    this.sib = sib;
    this.rexBits.b = rexB;
    this.rexBits.x = rexX;
  }

  /** Sets bits of a register (byte registers 16-19 are AH..BH) unless it is pinned. */
  setPart(r: number, size: number, v: bigint): boolean {
    const full = r >= 16 ? r - 16 : r;
    if (this.pinned.has(full)) return false;
    const shift = r >= 16 ? 8n : 0n;
    const m = ((1n << BigInt(size * 8)) - 1n) << shift;
    this.regs[full] = (this.regs[full] & ~m) | ((v << shift) & m);
    return true;
  }
  getPart(r: number, size: number): bigint {
    const full = r >= 16 ? r - 16 : r;
    const shift = r >= 16 ? 8n : 0n;
    return (this.regs[full] >> shift) & ((1n << BigInt(size * 8)) - 1n);
  }

  patch(off: number, size: number, v: bigint): void {
    const bytes = new Uint8Array(size);
    for (let j = 0; j < size; j++) bytes[j] = Number((v >> BigInt(8 * j)) & 0xffn);
    this.patchBytes(off, bytes);
  }
  /** Sets data-page bytes from `off` (the part outside the page is dropped). */
  patchBytes(off: number, bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k += 16) {
      let lo = off + k, hi = Math.min(off + k + 16, off + bytes.length);
      const from = Math.max(lo, 0);
      hi = Math.min(hi, PAGE);
      if (from < hi) this.patches.push({ off: from, bytes: bytes.slice(from - off, hi - off) });
      lo = hi;
    }
  }

  /** Reads the data page as the case will set it up (seed + patches so far). */
  peek(data: Uint8Array, off: number, size: number): bigint {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[off + k]);
    return v;
  }

  /** Value of the E operand (register or targeted memory) as the case will start. */
  eValue(seed: number, size: number): bigint {
    if (this.rm >= 0) return this.getPart(this.rm, size);
    if (this.memOff < 0) return 0n; // not in the data page (a fault variant)
    const d = fillData(seed);
    for (const p of this.patches) d.set(p.bytes, p.off);
    return this.peek(d, this.memOff, size);
  }
  /** Sets the E operand's starting value; false if it is a pinned register. */
  setE(size: number, v: bigint): boolean {
    if (this.rm >= 0) return this.setPart(this.rm, size, v);
    if (this.memOff < 0) return false;
    this.patch(this.memOff, size, v);
    return true;
  }
}

const byteReg = (rexPresent: boolean, r: number) => (!rexPresent && r >= 4 && r < 8 ? r + 12 : r);

/** Modular inverse of an odd number mod 2^64. */
function inverseOdd(a: bigint): bigint {
  let x = 1n;
  for (let k = 0; k < 7; k++) x = (x * (2n - a * x)) & M64;
  return x;
}

function toSigned(v: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, v);
}

/** Chooses the memory operand's addressing form and register values so that the effective address is `ea` (before the segment base). */
function solveAddress(b: Builder, ea: bigint, opts: { noRip?: boolean; baseAdjust?: (r: number) => bigint }): void {
  const rng = b.rng;
  const aw = b.a32 ? 32 : 64;
  const am = b.a32 ? M32 : M64;
  for (let attempt = 0; attempt < 40; attempt++) {
    const shape = rng.int(20);
    let mod: number, rm: number, sib = -1, base = -1, index = -1, scale = 1, dispSize = 0;
    const rexB = b.rex >= 0 && rng.chance(0.5) ? 1 : 0;
    const rexX = b.rex >= 0 && rng.chance(0.5) ? 1 : 0;
    if (shape < 2 && !opts.noRip) {
      // RIP-relative
      mod = 0;
      rm = 5;
      dispSize = 4;
      b.ripRel = true;
      b.ripTarget = ea;
      b.modrmMem(mod, rm, -1, rexB, rexX);
      b.disp = { size: 4, value: 0n };
      return;
    }
    if (shape < 10) {
      // [base + disp]
      mod = rng.int(3);
      rm = rng.pick([0, 1, 2, 3, 5, 6, 7]);
      if (mod === 0 && rm === 5) mod = 1;
      base = rm | (rexB << 3);
    } else {
      // SIB
      mod = rng.int(3);
      rm = 4;
      const sbase = rng.int(8);
      const sidx = rng.int(8);
      scale = 1 << rng.int(4);
      base = mod === 0 && sbase === 5 ? -1 : sbase | (rexB << 3);
      index = sidx === 4 && !rexX ? -1 : sidx | (rexX << 3);
      sib = (Math.log2(scale) << 6) | (sidx << 3) | sbase;
      if (base < 0) dispSize = 4;
    }
    if (mod === 1) dispSize = 1;
    else if (mod === 2) dispSize = 4;
    // Avoid shaped registers (most of the time); never use a register that cannot hold the value.
    if ((base >= 0 && b.avoid.has(base) && !b.pinned.has(base)) || (index >= 0 && b.avoid.has(index) && !b.pinned.has(index))) {
      if (rng.chance(0.85)) continue;
    }
    let disp = 0n;
    if (dispSize === 1) disp = BigInt(rng.range(-128, 127));
    else if (dispSize === 4) {
      disp = rng.chance(0.5) ? BigInt(rng.range(-4096, 4096)) : toSigned(BigInt(rng.u32()), 32);
    }
    const baseVal = (r: number) => (opts.baseAdjust ? opts.baseAdjust(r) : 0n) + b.regs[r];
    const pb = base >= 0 && b.pinned.has(base);
    const pi = index >= 0 && b.pinned.has(index);
    const fitsDisp = (d: bigint) =>
      dispSize === 4 ? d >= -(1n << 31n) && d < 1n << 31n : dispSize === 1 ? d >= -128n && d <= 127n : d === 0n;
    const hiRandom = () => (b.a32 ? (b.rng.u64() & ~M32) : 0n);
    if (base >= 0 && base === index) {
      const k = BigInt(1 + scale);
      if (pb) {
        const d = toSigned((ea - baseVal(base) * k) & am, aw);
        if (!fitsDisp(d)) continue;
        disp = d;
      } else {
        let rem = (ea - disp) & am;
        if (k === 2n) {
          if (rem & 1n) {
            if (dispSize === 0) continue;
            disp += 1n;
            if (!fitsDisp(disp)) continue;
            rem = (ea - disp) & am;
          }
          // v*2 = rem (mod 2^aw): v = rem/2 or rem/2 + 2^(aw-1)
          b.regs[base] = ((rem >> 1n) + (rng.chance(0.5) ? 1n << BigInt(aw - 1) : 0n)) & am;
        } else {
          b.regs[base] = (rem * inverseOdd(k)) & am;
        }
        b.regs[base] |= hiRandom();
        b.pinned.add(base);
      }
    } else if (base >= 0 && !pb) {
      let idxVal = 0n;
      if (index >= 0) {
        if (!pi) {
          b.regs[index] = rng.chance(0.5) ? BigInt(rng.range(-64, 64)) & M64 : value64(rng);
          b.pinned.add(index);
        }
        idxVal = b.regs[index];
      }
      b.regs[base] = ((ea - disp - idxVal * BigInt(scale)) & am) | hiRandom();
      b.pinned.add(base);
    } else {
      // Base pinned or absent.
      const bv = base >= 0 ? baseVal(base) : 0n;
      if (index >= 0 && !pi) {
        let rem = (ea - disp - bv) & am;
        const s = BigInt(scale);
        if (rem % s !== 0n) {
          if (dispSize === 0) continue;
          disp += rem % s;
          if (!fitsDisp(disp)) continue;
          rem = (ea - disp - bv) & am;
        }
        // idx * scale = rem (mod 2^aw): several solutions; pick one.
        const step = (1n << BigInt(aw)) / s;
        b.regs[index] = ((rem / s + BigInt(rng.int(scale)) * step) & am) | hiRandom();
        b.pinned.add(index);
      } else {
        const iv = index >= 0 ? b.regs[index] * BigInt(scale) : 0n;
        const d = toSigned((ea - bv - iv) & am, aw);
        if (!fitsDisp(d)) continue;
        disp = d;
      }
    }
    b.modrmMem(mod, rm, sib, rexB, rexX);
    b.baseReg = base;
    b.indexReg = index;
    b.scale = scale;
    if (dispSize) b.disp = { size: dispSize, value: disp };
    return;
  }
  throw new Retry();
}

/** Entries whose E memory operand is not accessed (hint NOPs): any address is fine. */
function unaccessedMemory(e: TableEntry): boolean {
  return e.exec === "lea" || (e.exec === "nop" && e.mnemonic !== "clflush");
}

const STACK_EXECS = new Set(["pushZ", "popZ", "pushE", "popE", "pushI", "pushSeg", "pushf", "popf", "enter", "leave", "callJ", "callE", "ret"]);
const STRING_EXECS = new Set(["movs", "cmps", "stos", "lods", "scas", "ins", "outs"]);

function chooseTargetOffset(rng: Rng, size: number, opts: { locked: boolean; margin?: number }): number {
  const margin = opts.margin ?? 0x40;
  let off = rng.range(margin, PAGE - margin - Math.max(size, 1));
  const align = opts.locked ? Math.min(size, 16) : rng.chance(0.6) ? Math.min(size, 8) : 1;
  if (align > 1) off -= off % align;
  return off;
}

/** A code-page offset away from the instruction (at codeOff, at most 15 bytes). */
function landingOffset(rng: Rng, codeOff: number): number {
  for (;;) {
    const t = rng.range(0, PAGE - 1);
    if (t < codeOff - 1 || t > codeOff + 16) return t;
  }
}

export interface GenerateOptions {
  /** Restrict to forms whose key contains this text (debugging). */
  filter?: string;
  /** Fraction of producer/consumer pairs (default 0.1). */
  pairs?: number;
}

/** Generates `count` cases from `seed`. Deterministic. */
export function generateCases(seed: number, count: number, opts: GenerateOptions = {}): FuzzCase[] {
  const rng = new Rng(seed);
  let forms = testedForms();
  if (opts.filter) forms = forms.filter((f) => f.key.includes(opts.filter!));
  if (forms.length === 0) throw new Error(`no form matches '${opts.filter}'`);
  const producers = forms.filter(isProducer);
  const pairShare = producers.length ? opts.pairs ?? 0.1 : 0;
  const out: FuzzCase[] = [];
  while (out.length < count) {
    const pair = rng.chance(pairShare);
    const f = pair ? producers[rng.int(producers.length)] : forms[rng.int(forms.length)];
    const sub = new Rng(rng.u32());
    let c = tryBuild(sub, f, out.length);
    if (c && pair) c = addConsumer(sub, c);
    if (c) out.push(c);
  }
  return out;
}

// ------------------------------------------------------------------ pairs
//
// A single instruction always starts from flags loaded into RFLAGS; an emulator with lazy
// flags then never evaluates a condition from a recorded operation. Pair cases run a
// flag-producing instruction and then a register-only consumer that reads only flags the
// producer leaves defined (so the pair's result is architecturally defined).

const NOT_PRODUCERS = new Set(["jcc", "jmpJ", "jmpE", "callJ", "callE", "ret", "loop", "ud"]);

function isProducer(f: Form): boolean {
  const e = f.entry;
  return !!e.sets && !e.priv && !NOT_PRODUCERS.has(e.exec) && TESTED_EXEC.has(e.exec) && !["ins", "outs", "inI", "outI", "inDX", "outDX"].includes(e.exec);
}

/** Flags each condition code reads (encoding order). */
const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

function addConsumer(rng: Rng, a: FuzzCase): FuzzCase | null {
  const defined = a.flagMask;
  const ccs = CC_READS.map((r, k) => ((r & ~defined) === 0 ? k : -1)).filter((k) => k >= 0);
  const kinds = ["jcc8", "jcc32", "setcc", "cmovcc", "adc", "sbb", "rcl", "rcr", "cmc", "lahf", "incdec"].filter((k) => {
    if (k.startsWith("jcc") || k === "setcc" || k === "cmovcc") return ccs.length > 0;
    if (k === "lahf") return ((SF | ZF | AF | PF | CF) & ~defined) === 0;
    if (k === "incdec") return true;
    return (defined & CF) !== 0;
  });
  const kind = rng.pick(kinds);
  const rex = rng.chance(0.5) ? 0x40 | rng.int(16) : -1;
  const o16 = rng.chance(0.2);
  const pre: number[] = [];
  if (o16) pre.push(0x66);
  if (rex >= 0) pre.push(rex);
  const modrm = (reg: number) => 0xc0 | (reg << 3) | rng.int(8);
  const cc = ccs.length ? rng.pick(ccs) : 0;
  const wide = rng.chance(0.8); // operand-size forms rather than byte forms
  let bytes: number[];
  let name: string;
  let mask = defined;
  const start = a.codeOff, bOff = a.codeOff + a.bytes.length;
  switch (kind) {
    case "jcc8":
    case "jcc32": {
      const len = kind === "jcc8" ? 2 : 6;
      const next = bOff + len;
      const lo = kind === "jcc8" ? Math.max(0, next - 128) : 0;
      const hi = kind === "jcc8" ? Math.min(PAGE - 1, next + 127) : PAGE - 1;
      let t = rng.chance(0.25) ? next : rng.range(lo, hi);
      if (t >= start && t < next) t = next;
      const rel = t - next;
      bytes = kind === "jcc8" ? [0x70 + cc, rel & 0xff] : [0x0f, 0x80 + cc, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >> 24) & 0xff];
      name = "j" + CC[cc];
      break;
    }
    case "setcc":
      bytes = [...(rex >= 0 ? [rex] : []), 0x0f, 0x90 + cc, modrm(0)];
      name = "set" + CC[cc];
      break;
    case "cmovcc":
      bytes = [...pre, 0x0f, 0x40 + cc, modrm(rng.int(8))];
      name = "cmov" + CC[cc];
      break;
    case "adc":
    case "sbb":
      bytes = [...pre, (kind === "adc" ? 0x10 : 0x18) + (wide ? 1 : 0), modrm(rng.int(8))];
      name = kind;
      mask = ARITH;
      break;
    case "rcl":
    case "rcr":
      bytes = [...pre, wide ? 0xd1 : 0xd0, modrm(kind === "rcl" ? 2 : 3)];
      name = kind + " ,1";
      mask = defined | OF | CF;
      break;
    case "cmc":
      bytes = [0xf5];
      name = "cmc";
      break;
    case "lahf":
      bytes = [0x9f];
      name = "lahf";
      break;
    default: {
      const dec = rng.int(2);
      bytes = [...pre, wide ? 0xff : 0xfe, (0xc0 | (dec << 3) | rng.int(8))];
      name = dec ? "dec" : "inc";
      mask = (defined & CF) | OF | SF | ZF | AF | PF;
    }
  }
  if (a.bytes.length + bytes.length > 32) return null;
  const all = new Uint8Array(a.bytes.length + bytes.length);
  all.set(a.bytes);
  all.set(bytes, a.bytes.length);
  return { ...a, bytes: all, steps: 2, second: name.replace(/^(j|set|cmov)\w+$/, (m0, p) => `${p}cc`), flagMask: mask, tags: [...a.tags, `then ${name}`] };
}

function tryBuild(rng: Rng, f: Form, index: number): FuzzCase | null {
  for (let k = 0; k < 8; k++) {
    try {
      const c = build(rng, f, index);
      if (c) return c;
    } catch (e) {
      if (!(e instanceof Retry)) throw e;
    }
  }
  return null;
}

function build(rng: Rng, f: Form, index: number): FuzzCase | null {
  const e = f.entry;
  const b = new Builder(rng, f);
  const dataSeed = (rng.u32() | 1) >>> 0;
  const exec = e.exec;
  const isString = STRING_EXECS.has(exec);
  const isStack = STACK_EXECS.has(exec);
  const ops = f.ops;
  const hasMemOp = ops.some((s) => s[0] === "E" || s[0] === "M");

  // ---- prefixes and sizes
  const sized = ops.some((s) => /^[EGZAMRXYO][vzy]$/.test(s)) || e.size === "d64" || (ops.length === 0 && ["cbw", "cwd"].includes(exec)) || isString;
  const noO16 = ["bswap", "cmpxchg8b", "jmpE", "callE"].includes(exec) || (e.size === "f64" && !rng.chance(0.05));
  b.o16 = sized && !noO16 && rng.chance(0.25);
  if (!sized && f.opcode[0] !== 0x0f && !f.mandatory && rng.chance(0.03)) b.o16 = true; // ignored 66
  const rexPresent = rng.chance(0.6);
  b.rexBits.w = rexPresent && rng.chance(0.5) ? 1 : 0;
  b.rexBits.r = rexPresent && rng.chance(0.5) ? 1 : 0;
  b.rexBits.x = rexPresent && rng.chance(0.5) ? 1 : 0;
  b.rexBits.b = rexPresent && rng.chance(0.5) ? 1 : 0;
  b.rex = rexPresent ? 0x40 : -1;
  if (exec === "cmpxchg8b" && rng.chance(0.5)) {
    b.rex = 0x40;
    b.rexBits.w = 1;
  }
  if (exec === "bswap" && b.rexBits.w === 0 && rng.chance(0.3)) b.rex = 0x40;
  b.w = b.rex >= 0 && b.rexBits.w === 1;
  b.opsize = operandSize(f.entry, b.w, b.o16);
  const memAllowed = hasMemOp && f.modKind !== "r" && !ops.some((s) => s[0] === "R");
  const regAllowed = ops.some((s) => s[0] === "E" || s[0] === "R") && f.modKind !== "m";
  let useMem = f.needsModrm && memAllowed && (!regAllowed || rng.chance(0.5));
  if (f.exactModrm >= 0) useMem = false;
  if (useMem && !regAllowed && !e.priv && !e.opcode.startsWith("0F 01") && rng.chance(0.03)) {
    // A memory-only form with a register ModRM (#UD, or a hint NOP for 0F 18).
    useMem = false;
    b.note = "mod=3";
  }
  b.a32 = (useMem || isString || exec === "xlat" || exec === "loop" || exec === "movAO" || exec === "movOA") && rng.chance(0.12);
  if (exec === "loop" && b.a32 && rng.chance(0.5)) b.a32 = false;
  const segOverridable = (useMem && !isStack && !unaccessedMemory(e)) || exec === "movAO" || exec === "movOA" || exec === "xlat" || ["movs", "cmps", "lods", "outs"].includes(exec);
  b.gs = segOverridable && rng.chance(0.12);
  if (e.lock && useMem && rng.chance(0.4)) {
    b.lock = true;
    b.note = "lock";
  } else if (rng.chance(0.01)) {
    b.lock = true; // LOCK on a register form or a non-lockable instruction: #UD
    b.note = "lock (#UD)";
  }
  if (e.rep && rng.chance(0.6)) b.rep = exec === "cmps" || exec === "scas" ? rng.pick([0xf2, 0xf3]) : 0xf3;
  const segBase = b.gs ? BigInt(GS_BASE) : 0n;

  // ---- ModRM register fields
  let regField = f.digit >= 0 ? f.digit : rng.int(8);
  const crOp = ops.some((s) => /^C[a-z]/.test(s)), drOp = ops.some((s) => /^D[a-z]/.test(s));
  if (crOp) regField = rng.pick([0, 2, 3, 4]);
  if (drOp) regField = rng.pick([0, 1, 2, 3, 6, 7]);
  if (crOp && regField === 0 && b.rexBits.r && b.rex >= 0) regField = 0; // CR8 via REX.R
  else if (crOp || drOp) b.rexBits.r = 0;
  if (ops.some((s) => s[0] === "S")) {
    if (rng.chance(0.9)) regField = rng.int(6); // (REX.R is ignored for the Sreg field)
  }
  const rexR = b.rex >= 0 ? b.rexBits.r : 0;
  if (f.needsModrm) {
    b.modrm = f.exactModrm >= 0 ? f.exactModrm : (regField << 3) | (useMem ? 0 : 0xc0 | rng.int(8));
    const gSpec = ops.find((s) => s[0] === "G");
    const eSpec = ops.find((s) => s[0] === "E" || s[0] === "R");
    b.reg = ((b.modrm >> 3) & 7) | (rexR << 3);
    if (gSpec && sizeLetter(gSpec) === "b") b.reg = byteReg(b.rex >= 0, b.reg);
    if (!useMem && f.exactModrm < 0) {
      const rexB = b.rex >= 0 ? b.rexBits.b : 0;
      b.rm = (b.modrm & 7) | (rexB << 3);
      if (eSpec && sizeLetter(eSpec) === "b") b.rm = byteReg(b.rex >= 0, b.rm);
    }
  }
  if (f.plusReg) {
    b.plusLow = rng.int(8);
    b.reg = b.plusLow | ((b.rex >= 0 ? b.rexBits.b : 0) << 3);
    if (sizeLetter(ops[0]) === "b") b.reg = byteReg(b.rex >= 0, b.reg);
  }

  // ---- registers with required values (pinned before the address is solved)
  if (isStack) {
    let sp = BigInt(DATA_BASE + rng.range(0x600, 0xa00));
    if (rng.chance(0.85)) sp &= ~7n;
    b.pin(RSP, sp);
    if (exec === "leave" || exec === "enter") {
      let bp = BigInt(DATA_BASE + rng.range(0x300, 0xe00));
      if (rng.chance(0.85)) bp &= ~7n;
      b.pin(RBP, bp);
      if (exec === "leave") b.pinned.delete(RSP);
    }
  }
  if (exec === "shift" || exec === "shld" || exec === "shrd") b.avoid.add(RCX);
  if (exec === "div" || exec === "idiv" || exec === "mul" || exec === "imul1" || exec === "cmpxchg" || exec === "cmpxchg8b") {
    b.avoid.add(RAX);
    b.avoid.add(RDX);
  }
  if (exec === "cmpxchg8b") {
    b.avoid.add(RBX);
    b.avoid.add(RCX);
  }
  let btOffsetReg = -1;
  if (exec === "btG" && useMem) {
    // The bit offset addresses beyond the operand: keep it small and the register out of the address.
    const span = b.opsize * 8 * 4;
    btOffsetReg = b.reg;
    b.pin(b.reg, BigInt(rng.range(-span, span)) & M64);
  }

  // ---- the memory operand
  const eSpec = ops.find((s) => s[0] === "E" || s[0] === "M");
  if (useMem) {
    let size = eSpec ? letterSize(sizeLetter(eSpec), b.opsize, b.w) : b.opsize;
    if (exec === "cmpxchg8b") size = b.w ? 16 : 8;
    if (exec === "ldt") size = 10;
    if (exec === "movFromSeg") size = 2;
    if (exec === "movsx" || exec === "movzx") size = e.sub ?? 1;
    b.memSize = size;
    const locked = b.lock || exec === "xchgEG";
    if (unaccessedMemory(e) && rng.chance(0.7)) {
      // LEA and hint NOPs do not access memory: any address (even non-canonical) will do.
      solveAddress(b, value64(rng), {});
    } else {
      let off: number;
      let la: bigint;
      const variant = rng.int(100);
      if (exec === "btG") {
        off = chooseTargetOffset(rng, size, { locked, margin: 0x100 });
      } else if (exec === "cmpxchg8b" && b.w) {
        off = chooseTargetOffset(rng, 16, { locked: true });
        if (rng.chance(0.15)) off += rng.pick([1, 4, 8]); // misaligned CMPXCHG16B: #GP
      } else {
        off = chooseTargetOffset(rng, size, { locked });
      }
      la = BigInt(DATA_BASE + off);
      if (!locked && !isStack && size >= 2 && variant < 3) {
        // Across the end of the data page, into an unmapped one: #PF, nothing written.
        off = PAGE - rng.range(1, size - 1);
        la = BigInt(DATA_BASE + off);
        b.note = "page-crossing";
      } else if (!locked && !isStack && variant < 5 && exec !== "btG") {
        // Non-canonical address: #GP(0), or #SS(0) when the base register is RSP or RBP.
        la = (rng.chance(0.5) ? 0x0000800000000000n : 0xffff000000000000n) + (rng.u64() & 0x00007fffffffffffn);
        if (rng.chance(0.5)) la ^= 0x4000000000000000n;
        b.note = "non-canonical";
        off = -1;
      }
      b.memOff = off >= 0 && off + size <= PAGE ? off : -1;
      const ea = (la - segBase) & M64;
      const baseAdjust = exec === "popE" ? (r: number) => (r === RSP ? BigInt(b.opsize) : 0n) : undefined;
      solveAddress(b, b.a32 ? ea & M32 : ea, { baseAdjust });
      if (b.a32 && la > M32 + segBase) throw new Retry();
      // Start the operand with an interesting value.
      if (b.memOff >= 0 && rng.chance(0.6)) b.patch(b.memOff, size, value64(rng) | (size > 8 ? value64(rng) << 64n : 0n));
    }
  }
  if (btOffsetReg >= 0) b.avoid.add(btOffsetReg);

  // ---- immediates (operand order)
  for (const spec of ops) {
    const kind = spec[0];
    const letter = sizeLetter(spec);
    if (kind === "I") {
      const size = letter === "b" ? 1 : letter === "w" ? 2 : letter === "z" ? (b.opsize === 2 ? 2 : 4) : b.opsize === 8 ? 8 : b.opsize;
      b.imms.push({ size, value: value64(rng) });
    } else if (kind === "J") {
      const size = letter === "b" ? 1 : 4;
      const codeOff = b.codeOff;
      const pickRel = rng.u32();
      b.imms.push({
        size,
        value: (len: number) => {
          // Any target in the page that is not inside the instruction itself.
          const next = codeOff + len;
          const lo = size === 1 ? Math.max(0, next - 128) : 0;
          const hi = size === 1 ? Math.min(PAGE - 1, next + 127) : PAGE - 1;
          let t = (pickRel & 3) === 0 ? next : lo + ((pickRel >>> 2) % (hi - lo + 1));
          if (t >= codeOff && t < next) t = next;
          return BigInt(t - next) & M64;
        },
      });
    } else if (kind === "O") {
      const off = chooseTargetOffset(rng, b.opsize, { locked: false });
      b.memOff = off;
      b.memSize = b.opsize;
      const addr = (BigInt(DATA_BASE + off) - segBase) & M64;
      b.imms.push({ size: b.a32 ? 4 : 8, value: addr });
      if (rng.chance(0.5)) b.patch(off, b.opsize, value64(rng));
    }
  }

  // ---- shaping of operand values per instruction
  shape(b, exec, dataSeed, segBase);

  // ---- prefix-placement variants (register-only forms, whose operands cannot reach memory)
  const memoryFree = !useMem && !isString && !isStack && !["xlat", "movAO", "movOA", "shift", "shld", "shrd", "jmpE", "callE"].includes(exec);
  if (b.rex >= 0 && memoryFree && rng.chance(0.04)) {
    // An ignored REX.W would change immediate sizes, and so the instruction's length.
    b.rexVariant = b.rexBits.w ? 2 : 1 + rng.int(2);
    b.note = b.rexVariant === 1 ? "REX before a prefix (ignored)" : "two REX";
  }
  if (rng.chance(0.004)) {
    b.tooLong = true;
    b.note = "longer than 15 bytes";
  }

  // ---- flags compared
  let count = 0;
  if (exec === "shift" || exec === "shld" || exec === "shrd") {
    if (ops.includes("1")) count = 1;
    else if (ops.includes("CL")) count = Number(b.regs[RCX] & 0xffn);
    else count = Number(immValue(b.imms[b.imms.length - 1], 0) & 0xffn);
  }
  const mask = comparedFlags(e, b.opsize, count);
  if (mask === "skip") return null;

  // ---- assemble
  const bytes = assemble(b, f);
  if (bytes.length > (b.tooLong ? 18 : 15)) throw new Retry();
  if (bytes.length >= 2 && !b.tooLong && rng.chance(0.005)) {
    // The instruction's last bytes are on the (unmapped) page after the code page: #PF on
    // the fetch. (Relative operands no longer mean anything: the fetch faults first.)
    b.codeOff = PAGE - rng.range(1, bytes.length - 1);
    b.note = "fetch crosses the page";
  }
  return {
    index,
    form: f,
    bytes,
    codeOff: b.codeOff,
    regs: b.regs,
    rflags: b.flags,
    dataSeed,
    patches: b.patches,
    opsize: b.opsize,
    flagMask: mask,
    tags: [b.note, b.a32 ? "addr32" : "", b.gs ? "gs" : "", b.rep ? (b.rep === 0xf3 ? "rep" : "repne") : ""].filter(Boolean),
    steps: 1,
  };
}

function immValue(imm: Imm, len: number): bigint {
  return typeof imm.value === "function" ? imm.value(len) : imm.value;
}

function assemble(b: Builder, f: Form): Uint8Array {
  const rng = b.rng;
  const legacy: number[] = [];
  if (b.o16) legacy.push(0x66);
  if (b.a32) legacy.push(0x67);
  if (b.lock) legacy.push(0xf0);
  if (b.gs) legacy.push(0x65);
  if (b.rep) legacy.push(b.rep);
  if (rng.chance(0.05)) legacy.push(rng.pick([0x2e, 0x3e, 0x26, 0x36])); // null segment prefixes
  for (let k = legacy.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [legacy[k], legacy[j]] = [legacy[j], legacy[k]];
  }
  if (f.mandatory) legacy.push(f.mandatory);
  const rex = 0x40 | (b.rexBits.w << 3) | (b.rexBits.r << 2) | (b.rexBits.x << 1) | b.rexBits.b;
  const out: number[] = [];
  if (b.rexVariant === 1) {
    out.push(rex);
    if (legacy.length === 0) legacy.push(rng.pick([0x2e, 0x3e, 0x26, 0x36]));
  }
  out.push(...legacy);
  if (b.rexVariant === 2) out.push(0x40 | rng.int(16));
  if (b.rex >= 0 && b.rexVariant !== 1) out.push(rex);
  if (b.tooLong) {
    let len = out.length + f.opcode.length + (f.needsModrm ? 1 + (b.sib >= 0 ? 1 : 0) : 0) + (b.disp?.size ?? 0);
    for (const imm of b.imms) len += imm.size;
    const pad = Math.max(0, 16 + rng.int(3) - len);
    out.unshift(...Array.from({ length: pad }, () => rng.pick([0x2e, 0x3e, 0x26, 0x36])));
  }
  const opc = [...f.opcode];
  if (f.plusReg) opc[opc.length - 1] += b.plusLow;
  out.push(...opc);
  if (f.needsModrm) {
    out.push(b.modrm);
    if (b.sib >= 0) out.push(b.sib);
  }
  const dispAt = out.length;
  if (b.disp) for (let k = 0; k < b.disp.size; k++) out.push(Number((b.disp.value >> BigInt(8 * k)) & 0xffn));
  let len = out.length;
  for (const imm of b.imms) len += imm.size;
  for (const imm of b.imms) {
    const v = immValue(imm, len);
    for (let k = 0; k < imm.size; k++) out.push(Number((v >> BigInt(8 * k)) & 0xffn));
  }
  if (b.ripRel) {
    const next = BigInt(CODE_BASE + b.codeOff + len);
    const d = toSigned((b.ripTarget - next) & (b.a32 ? M32 : M64), b.a32 ? 32 : 64);
    if (d < -(1n << 31n) || d >= 1n << 31n) throw new Retry();
    for (let k = 0; k < 4; k++) out[dispAt + k] = Number((d >> BigInt(8 * k)) & 0xffn);
  }
  return new Uint8Array(out);
}

function shape(b: Builder, exec: string, dataSeed: number, segBase: bigint): void {
  const rng = b.rng;
  const f = b.f;
  const e = f.entry;
  const size = b.opsize;
  const bits = BigInt(size * 8);
  const mask = (1n << bits) - 1n;
  const a32 = b.a32;
  const addrVal = (off: number, r: number) => {
    const v = (BigInt(DATA_BASE + off) - (r === RDI ? 0n : segBase)) & M64;
    return a32 ? (v & M32) | (rng.u64() & ~M32) : v;
  };
  switch (exec) {
    case "shift":
    case "shld":
    case "shrd": {
      const count = BigInt(shiftCount(rng));
      if (f.ops.includes("CL")) b.setPart(RCX, 1, count);
      else if (b.imms.length) b.imms[b.imms.length - 1].value = count;
      if (exec !== "shift" && size === 2) {
        // Keep most 16-bit SHLD/SHRD counts in the defined range (<= 16).
        const c = f.ops.includes("CL") ? Number(b.regs[RCX] & 31n) : Number(BigInt(immValue(b.imms[b.imms.length - 1], 0)) & 31n);
        if (c > 16) {
          const nc = BigInt(rng.int(17));
          if (f.ops.includes("CL")) b.setPart(RCX, 1, nc);
          else b.imms[b.imms.length - 1].value = nc;
        }
      }
      break;
    }
    case "div":
    case "idiv": {
      // Dividend RDX:RAX (AX for 8-bit), divisor E. Mostly valid quotients; some #DE
      // (divisor 0, quotient overflow, and for IDIV the MIN / -1 case).
      const signed = exec === "idiv";
      const m2 = (1n << (2n * bits)) - 1n;
      const kind = rng.int(10);
      let divisor: bigint, dividend: bigint;
      if (kind === 0) {
        divisor = 0n;
        dividend = (rng.u64() << 64n | rng.u64()) & m2;
      } else if (kind === 1) {
        if (signed && rng.chance(0.4)) {
          divisor = mask; // -1
          dividend = (-(1n << (bits - 1n))) & m2;
        } else {
          divisor = BigInt(rng.pick([1, 2, 3, 7])) * (signed && rng.chance(0.5) ? -1n : 1n);
          const big = (1n << (2n * bits - 2n)) + (rng.u64() & mask);
          dividend = (signed && rng.chance(0.5) ? -big : big) & m2;
          divisor &= mask;
        }
      } else {
        let d = value64(rng) & mask;
        if (rng.chance(0.3)) d = BigInt(rng.range(1, 20));
        if (d === 0n) d = 1n;
        const sd = signed ? BigInt.asIntN(size * 8, d) : d;
        const absd = sd < 0n ? -sd : sd;
        const qmax = signed ? (1n << (bits - 1n)) - 1n : mask;
        let q = rng.chance(0.3) ? BigInt(rng.int(100)) : (value64(rng) & mask) % (qmax + 1n);
        if (signed && rng.chance(0.5)) q = -q;
        let r = absd > 1n ? rng.u64() % absd : 0n;
        const prod = q * sd;
        if (prod < 0n || (prod === 0n && signed && rng.chance(0.5))) r = -r;
        if (!signed) r = r < 0n ? -r : r;
        divisor = d;
        dividend = (prod + r) & m2;
      }
      if (size === 1) b.setPart(RAX, 2, dividend & 0xffffn);
      else {
        b.setPart(RAX, size, dividend & mask);
        b.setPart(RDX, size, (dividend >> bits) & mask);
      }
      b.setE(size, divisor);
      break;
    }
    case "mul":
    case "imul1":
    case "imul2":
    case "imul3":
      if (rng.chance(0.3)) b.setE(size, BigInt(rng.range(-3, 3)) & mask);
      break;
    case "bsf":
    case "bsr":
    case "tzcnt":
    case "lzcnt":
    case "popcnt":
      if (rng.chance(0.2)) b.setE(size, 0n);
      else if (rng.chance(0.3)) b.setE(size, 1n << BigInt(rng.int(size * 8)));
      break;
    case "btI":
      if (rng.chance(0.5) && b.imms.length) b.imms[0].value = BigInt(rng.int(size * 8));
      break;
    case "cmpxchg": {
      if (rng.chance(0.5)) {
        const dest = b.eValue(dataSeed, size);
        if (!b.setPart(RAX, size, dest)) b.setE(size, b.getPart(RAX, size));
      }
      break;
    }
    case "cmpxchg8b": {
      const half = b.w ? 8 : 4;
      if (b.memOff >= 0 && rng.chance(0.5)) {
        const lo = b.getPart(RAX, half), hi = b.getPart(RDX, half);
        b.patch(b.memOff, 2 * half, lo | (hi << BigInt(half * 8)));
        if (rng.chance(0.2)) b.patch(b.memOff + rng.int(2 * half), 1, rng.u64()); // a near miss
      }
      break;
    }
    case "jmpE":
    case "callE": {
      const t = BigInt(CODE_BASE + landingOffset(rng, b.codeOff));
      if (b.rm >= 0) {
        if (b.rm === RSP || b.pinned.has(b.rm)) throw new Retry();
        if (size === 8) b.regs[b.rm] = t;
      } else b.setE(8, t);
      break;
    }
    case "ret":
      b.patch(Number(b.regs[RSP] - BigInt(DATA_BASE)), 8, BigInt(CODE_BASE + landingOffset(rng, b.codeOff)));
      if (b.imms.length) b.imms[0].value = BigInt(rng.chance(0.5) ? rng.int(64) * 8 : rng.int(0x400));
      break;
    case "popf": {
      // Any value, except TF (a #DB after the next instruction), AC and NT.
      const v = (rng.u64() & 0xffffffffn & ~BigInt(TF | AC | NT)) | (rng.chance(0.5) ? 0n : 0x2n);
      b.patch(Number(b.regs[RSP] - BigInt(DATA_BASE)), 8, v);
      break;
    }
    case "enter":
      b.imms[0].value = BigInt(rng.chance(0.7) ? rng.int(0x40) * 8 : rng.int(0x200));
      b.imms[1].value = BigInt(rng.chance(0.6) ? rng.int(4) : rng.int(256));
      break;
    case "loop": {
      const c = rng.chance(0.7) ? BigInt(rng.int(3)) : value64(rng);
      const hi = a32 ? rng.u64() & ~M32 : 0n;
      b.regs[RCX] = (c & (a32 ? M32 : M64)) | hi;
      break;
    }
    case "xlat": {
      const off = rng.range(0x100, 0xe00);
      const al = BigInt(rng.int(256));
      b.setPart(RAX, 1, al);
      const bx = ((BigInt(DATA_BASE + off) - segBase - al) & M64);
      b.regs[RBX] = a32 ? (bx & M32) | (rng.u64() & ~M32) : bx;
      b.memOff = off;
      break;
    }
    case "movs":
    case "cmps":
    case "stos":
    case "lods":
    case "scas":
    case "ins":
    case "outs": {
      const esz = e.sub === 1 ? 1 : size;
      const n = b.rep ? (rng.chance(0.9) ? rng.int(9) : rng.int(17)) : rng.int(4);
      const cnt = exec === "ins" || exec === "outs" ? Math.max(n, 1) : n;
      b.regs[RCX] = a32 ? BigInt(cnt) | (rng.u64() & ~M32) : BigInt(cnt);
      const down = (b.flags & DF) !== 0;
      const span = 17 * 8;
      const place = () => {
        let off = down ? rng.range(span + 0x40, PAGE - 0x40) : rng.range(0x40, PAGE - span - 0x40);
        if (rng.chance(0.7)) off -= off % esz;
        return off;
      };
      let si = place(), di = rng.chance(0.15) ? si + rng.range(-8, 8) : place();
      if (rng.chance(0.1) && cnt > 0) {
        // Run off the data page during the iterations (#PF at an iteration boundary, with
        // RCX/RSI/RDI and memory as left by the iterations done).
        const edge = down ? rng.range(0, (cnt - 1) * esz) : PAGE - rng.range(1, cnt * esz);
        if (rng.chance(0.5)) si = edge;
        else di = edge;
        b.note = "string off the page";
      }
      b.regs[RSI] = addrVal(si, RSI);
      b.regs[RDI] = addrVal(di, RDI);
      if (exec === "cmps" && rng.chance(0.7)) {
        // Equal runs, with a difference somewhere (or none).
        const lenBytes = 9 * esz;
        const src = new Uint8Array(lenBytes);
        for (let k = 0; k < lenBytes; k++) src[k] = rng.int(4) === 0 ? rng.int(256) : 0x41;
        const dst = src.slice();
        if (rng.chance(0.7)) dst[rng.int(lenBytes)] ^= 1 << rng.int(8);
        const s0 = down ? si - 8 * esz : si, d0 = down ? di - 8 * esz : di;
        b.patchBytes(s0, src);
        b.patchBytes(d0, dst);
      }
      if (exec === "scas" && rng.chance(0.7)) {
        const acc = b.getPart(RAX, esz);
        const area = new Uint8Array(9 * esz);
        const filler = rng.chance(0.5);
        for (let k = 0; k < 9; k++) {
          const v = filler ? acc : (acc ^ BigInt(1 + rng.int(255)));
          for (let j = 0; j < esz; j++) area[k * esz + j] = Number((v >> BigInt(8 * j)) & 0xffn);
        }
        const k = rng.int(9);
        const v = filler ? acc ^ 0x10n : acc;
        for (let j = 0; j < esz; j++) area[k * esz + j] = Number((v >> BigInt(8 * j)) & 0xffn);
        b.patchBytes(down ? di - 8 * esz : di, area);
      }
      break;
    }
    default:
      break;
  }
}

/** A case's encoding as hex. */
export function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}
