// Code generation for decoded blocks: one JS function per hot block (blocks.ts).
//
// Each instruction of a block becomes either inline code specialised for its form, with
// its operands baked in as constants (register numbers, displacement, immediate halves,
// operand size), or, for forms this file does not know, a call of its handler from a
// call site of its own (which the engine may inline). The inline code does exactly what
// the handler would: the same register writes, the same lazy-flags record (fop, fsize,
// fa..frh, fe: flags.ts), the same memory accesses. Only the common case is inline;
// anything else (a TLB miss, a misaligned, page-crossing or MMIO access, a decoded-code
// page, an effective address that is not a small canonical sum, a non-canonical branch
// target) goes to the handler, which then does the whole instruction. So the handlers
// stay the single definition of what instructions do, and this file only has to decide
// correctly *when* its shortcut applies (test/cpu/jit.test.ts and the host-CPU tests
// check both against each other and the host).
//
// Precise state: the inline fast paths cannot fault and do not look at RIP, so the block
// keeps RIP in a local (r0 = the block's address, plus constant offsets) and commits
// cpu.rip (and nextRip) only before a handler call, which may fault or read RIP, and
// when it leaves. A fault thrown by instruction k therefore finds cpu.rip on it, and
// Cpu.run charges the k instructions before it (blocks.ts completedBefore). Cycles are
// added when the block leaves, with the sum of the instructions it completed.
//
// Leaving early: where instruction k > 0 misses its fast path, the block returns before
// it (bail); the run loop continues with the block that starts at k, where the fallback
// of a first instruction calls the handler. A block whose last instruction is a
// conditional branch back to its start loops inside its function, for as long as the run
// loop would run it again (budget, event deadline, attention), possibly leaving by a
// forward conditional branch taken inside it (a side exit).
//
// Flags: an inline instruction stores the lazy record like its handler, and also keeps
// the recorded operands in block locals (A, AH, B, BH, R, RH). A later condition in the
// same block (Jcc, SETcc, CMOVcc, INC/DEC's carry) then evaluates directly from them,
// specialised for the recorded operation and size: CMP + JL becomes a signed compare.
//
// Memory: page() is Cpu.translate's TLB hit (same entry, same rights bits by the CPL
// shift) with Cpu.readPhys/writePhys's choice of RAM (and, for a write, no decoded code
// on the page, else PhysicalMemory must see the write, which invalidates the page, and
// the block returns so the next fetch decodes the new bytes). Its result is kept per
// base register for the rest of the block's execution (Gen.pageSlot), and aligned
// accesses then go to typed-array views of RAM. If Cpu.translate's fast path or the RAM
// layout changes, page() must follow.

import type { Cpu } from "./cpu.ts";
import { NO_REG, REG_RIP, type Insn } from "./decoder.ts";
import { ADD, OR, AND, SUB, XOR, CMP, SHL, SHR, SAL, SAR } from "./decode-table.ts";
import { condition, getCF, F_ADD, F_SUB, F_INC, F_DEC, F_LOGIC, F_RESULT, CF, OF } from "./flags.ts";
import { RAX, RDX, RSP, RBP } from "./arch.ts";
import { ACC_READ, ACC_WRITE } from "./paging.ts";

/** A compiled block: (cpu, its instructions, the budget it runs in) -> instructions completed. */
export type BlockFn = (c: Cpu, insns: Insn[], left: number) => number;

/**
 * Where a looping block leaves its count of completed passes when an instruction faults,
 * for Cpu.run's accounting (blocks.ts completedBefore): the block's instruction array and
 * the instructions of its earlier passes.
 */
export const loopState: { insns: Insn[] | null; done: number } = { insns: null, done: 0 };

/** Calls a handler from the one call site all fallbacks share. */
function slow(c: Cpu, i: Insn): void {
  i.exec(c, i);
}
// That call site is made megamorphic now, so the engine never inlines a handler (with the
// page walk behind it) into the blocks' cold paths: that made optimising blocks with
// memory operands markedly slower (which matters: on the benchmark programs the engine's
// optimising compiler spends about as long on the blocks as the programs run).
// (Distinct function literals: closures of one function would count as one target.)
for (const exec of [() => 0, () => 1, () => 2, () => 3, () => 4, () => 5, () => 6, () => 7]) {
  slow(null as unknown as Cpu, { exec } as unknown as Insn);
}

/**
 * The physical base of the page holding `la` when an access of kind `acc` (ACC_READ or
 * ACC_WRITE) may go straight to RAM: Cpu.translate's TLB hit (the same entry and rights,
 * by the CPL shift), in RAM (not MMIO), and for a write not a page with decoded code
 * (there PhysicalMemory must see the write). Else -1, and the handler does the access.
 */
function page(c: Cpu, la: number, acc: number): number {
  const t = c.tlb;
  const vpn = Math.floor(la / 4096);
  const s = (vpn ^ (vpn >> 12)) & t.mask; // Tlb.slot
  if (t.vpn[s] !== vpn || (t.perm[s] & (acc << c.userShift)) === 0) return -1;
  const pa = t.pa[s];
  if (pa >= c.ramSize || (acc === ACC_WRITE && c.codePage[pa / 4096] !== 0)) return -1;
  return pa;
}

/** Functions and objects the generated code refers to (bound once per block function). */
const RUNTIME = { condition, getCF, loopState, slow, page };

/** Canonical linear addresses are in [-2^47, 2^47). */
const CANON_LO = "-140737488355328", CANON_HI = "140737488355328";

/** Handlers that may write memory (after them a block checks for self-modifying code). */
export function mayWriteMemory(i: Insn): boolean {
  const e = i.entry;
  if (e === null) return false;
  return (e.writesE === true && i.rm < 0) || /^(push|pop|enter|xchg|cmpxchg|xadd|movOA)/.test(e.exec);
}

/** What is known about the lazy flags at a point of a block. */
interface FlagState {
  /** The lazy operation (F_ADD, F_SUB, ...) and size last recorded by inline code. */
  op: number;
  size: number;
}

/** Code generation state for one block; emitters read the current instruction's place from it. */
class Gen {
  /** Index, offset from the block start and length of the current instruction. */
  k = 0;
  off = 0;
  len = 0;
  /** Whether the current instruction ends the block. */
  last = false;
  /** Cycles of the instructions before the current one. */
  cyclesBefore = 0;
  /** Flags recorded by inline code earlier in the block (A..RH hold the operands), or null. */
  flags: FlagState | null = null;
  /** Set by an emitter: the flags after its instruction (undefined: unchanged, null: unknown). */
  flagsOut: FlagState | null | undefined = undefined;
  /**
   * Page cache slots: each base register (and RIP, or no base) used for reads, or for
   * writes, has a block local pair caching the last page it reached in this execution
   * of the block: linear page base (pl) and physical page base (pp, -1: no fast path).
   * The translation of a page cannot change inside a block (INVLPG, CR3 and CR4 writes,
   * CPL changes, VM entries and exits all end blocks, and a fault leaves it), so a
   * translation may be used again until the block ends, as a TLB entry would be.
   */
  readonly slots = new Map<string, number>();

  /** The block loops (a pass count `done` precedes the instruction counts it returns). */
  loop = false;

  pageSlot(key: string): number {
    let n = this.slots.get(key);
    if (n === undefined) this.slots.set(key, (n = this.slots.size));
    return n;
  }

  /** RIP of the current instruction and of the next, as expressions. */
  get here(): string {
    return `r0 + ${this.off}`;
  }
  get next(): string {
    return `r0 + ${this.off + this.len}`;
  }

  /**
   * Where inline code falls back to the handler: a marker that blockSource() replaces,
   * once the emitter has said what its instruction does to the flags, by handlerCall()
   * for a block's first instruction, and by bail() for the others.
   */
  fallback(): string {
    return FALLBACK;
  }

  /** Where inline code hands a case it does not cover, but which may be common, to the handler in place. */
  handler(): string {
    return HANDLER;
  }

  /**
   * Leaves the block before the current instruction: RIP on it, the instructions before
   * it completed. The run loop goes on with the block that starts at it, where it is the
   * first instruction and its fallback calls the handler. So the cold paths of a block
   * are small, and compiling a block stays cheap.
   */
  bail(): string {
    return `c.rip = ${this.here}; c.cycles += ${this.cyclesBefore}; return ${this.loop ? "done + " : ""}${this.k};`;
  }

  /**
   * The handler call for the current instruction, with RIP committed: the generic path
   * (`cold`: false), with a call site of its own, so the engine may inline the handler;
   * or an inline form's fallback (`cold`: true), through one shared call site, so the
   * engine does not inline every handler into every block's cold paths (that makes
   * optimising blocks many times slower).
   */
  handlerCall(i: Insn, cold: boolean): string {
    const call = cold ? `slow(c, I[${this.k}]);` : `i = I[${this.k}]; i.exec(c, i);`;
    let s = `c.rip = ${this.here}; c.nextRip = ${this.next}; ${call}`;
    if (this.last) s += ` c.rip = c.nextRip;`;
    else if (i.entry !== null && i.entry.exec === "jcc") {
      // A conditional branch inside the block: taken, it leaves the block (a side exit).
      s += ` if (c.nextRip !== ${this.next}) { c.rip = c.nextRip; c.cycles += ${this.cyclesBefore + i.cost}; return ${this.loop ? "done + " : ""}${this.k + 1}; }`;
    } else if (mayWriteMemory(i)) {
      // A write to a decoded code page: stop so the next fetch decodes the new bytes.
      s += ` if (c.codeWritten) { c.rip = c.nextRip; c.cycles += ${this.cyclesBefore + i.cost}; return ${this.loop ? "done + " : ""}${this.k + 1}; }`;
    }
    return s;
  }
}

const FALLBACK = "/*fallback*/";
const HANDLER = "/*handler*/";
/** After a fallback to the handler of an instruction that records flags: the block's flag locals follow the record. */
const RELOAD_FLAGS = "A = c.fa; AH = c.fah; B = c.fb; BH = c.fbh; R = c.fr; RH = c.frh;";

// ------------------------------------------------------------------ operand helpers

const TWO32 = "4294967296";

/** Expressions for the low and high halves of a register operand read (Cpu.readReg). */
function getReg(size: number, r: number): [string, string] {
  switch (size) {
    case 1: return [r < 16 ? `(lo[${r}] & 255)` : `((lo[${r - 16}] >> 8) & 255)`, "0"];
    case 2: return [`(lo[${r}] & 65535)`, "0"];
    case 4: return [`lo[${r}]`, "0"];
    default: return [`lo[${r}]`, `hi[${r}]`];
  }
}

/** Statements writing a register (Cpu.writeReg): 32-bit writes clear the high half, 8/16 merge. */
function setReg(size: number, r: number, v: string, vh: string): string {
  switch (size) {
    case 1:
      if (r < 16) return `lo[${r}] = (lo[${r}] & -256) | (${v} & 255);`;
      return `lo[${r - 16}] = (lo[${r - 16}] & -65281) | ((${v} & 255) << 8);`;
    case 2: return `lo[${r}] = (lo[${r}] & -65536) | (${v} & 65535);`;
    case 4: return `lo[${r}] = ${v}; hi[${r}] = 0;`;
    default: return `lo[${r}] = ${v}; hi[${r}] = ${vh};`;
  }
}

/** A value truncated to an operand size as the handlers keep it (8/16 zero-extended, 32/64 int32). */
function trunc(size: number, v: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
}

/** The immediate as the ALU handlers see it: [low, high] (high is 0 below 64 bits). */
function imm(i: Insn): [number, number] {
  return [trunc(i.opsize, i.immLo), i.opsize === 8 ? i.immHi : 0];
}

/**
 * The linear address of i's memory operand: statements defining `la`, and a condition
 * under which it is exact (else the handler computes it, with its #GP/#SS rules). Null
 * when only Cpu.ea can compute it (segment override, 32-bit addressing).
 */
function address(i: Insn, g: Gen): { code: string; ok: string } | null {
  if (i.seg >= 0 || i.addrsize !== 8) return null;
  if (i.base === REG_RIP) return { code: `const la = r0 + ${g.off + g.len + i.disp};`, ok: "" };
  // As Cpu.ea: while base and index are within +-2^47 the sum is exact as a double.
  const decl: string[] = [], terms: string[] = [], near: string[] = [];
  if (i.base !== NO_REG) {
    decl.push(`bh = hi[${i.base}]`);
    terms.push(`(bh * ${TWO32} + (lo[${i.base}] >>> 0))`);
    near.push("(bh + 32768)");
  }
  if (i.index !== NO_REG) {
    decl.push(`xh = hi[${i.index}]`);
    terms.push(`(xh * ${TWO32} + (lo[${i.index}] >>> 0)) * ${i.scale}`);
    near.push("(xh + 32768)");
  }
  if (i.disp !== 0 || terms.length === 0) terms.push(String(i.disp));
  const code = (decl.length ? `const ${decl.join(", ")}; ` : "") + `const la = ${terms.join(" + ")};`;
  return { code, ok: near.length ? `(${near.join(" | ")}) >>> 16 === 0` : "" };
}

/**
 * The memory fast path for `size` bytes at `la`: statements defining `pa`, and the
 * condition under which it applies: page() allowed the access (a TLB hit, so `la` is
 * canonical; RAM; for a write, no decoded code), and it is aligned.
 */
function access(g: Gen, size: number, write: boolean, base: string): { code: string; ok: string } {
  // The page cache slot of this base register and access kind (see Gen.pageSlot).
  const n = g.pageSlot(`${base}${write ? "w" : "r"}`);
  const code =
    `let d = la - pl${n}; if (!(d >= 0 && d < 4096)) { pl${n} = la - (la & 4095); pp${n} = page(c, la, ${write ? ACC_WRITE : ACC_READ}); d = la - pl${n}; }` +
    ` const pa = pp${n} + d;`;
  // Aligned (to 4 bytes for a qword), so the typed-array views of RAM apply; an aligned
  // access of up to 4 bytes does not cross a page.
  const align = size === 1 ? "" : ` && (d & ${size === 2 ? 1 : 3}) === 0`;
  // (On a big-endian host the views would swap bytes: the handlers do every access.)
  if (!LITTLE_ENDIAN) return { code, ok: "false" };
  return { code, ok: `pp${n} >= 0${align}${size === 8 ? " && d <= 4088" : ""}` };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Statements loading `size` bytes at `pa` into consts `v` (and `vh` for 8 bytes). */
function load(size: number, signed = false): string {
  switch (size) {
    case 1: return `const v = ${signed ? "i8" : "u8"}[pa], vh = 0;`;
    case 2: return `const v = ${signed ? "i16" : "u16"}[pa >>> 1], vh = 0;`;
    case 4: return `const v = i32[pa >>> 2], vh = 0;`;
    default: return `const w = pa >>> 2, v = i32[w], vh = i32[w + 1];`;
  }
}

/** Statements storing `size` bytes of (v, vh) at `pa`. */
function store(size: number, v: string, vh: string): string {
  switch (size) {
    case 1: return `u8[pa] = ${v};`;
    case 2: return `u16[pa >>> 1] = ${v};`;
    case 4: return `i32[pa >>> 2] = ${v};`;
    default: return `{ const w = pa >>> 2; i32[w] = ${v}; i32[w + 1] = ${vh}; }`;
  }
}

/** Which page cache slot an operand's accesses share: its base register (RIP, or none). */
function baseKey(i: Insn): string {
  return i.base === REG_RIP ? "rip" : i.base === NO_REG ? "abs" : String(i.base);
}

/** `if (fast conditions) { fast } else { handler }`, with the address and access set-up in front. */
function guarded(g: Gen, i: Insn, setup: string[], conds: string[], fast: string): string {
  const ok = conds.filter((s) => s !== "").join(" && ");
  return `{ ${setup.join(" ")} if (${ok}) { ${fast} } else { ${g.fallback()} } }`;
}

/**
 * An instruction with a memory operand: `body` gets the fast path's statements (with `pa`
 * defined). Null when the address needs Cpu.ea.
 */
function withMemory(g: Gen, i: Insn, size: number, write: boolean, body: string): string | null {
  const a = address(i, g);
  if (!a) return null;
  const m = access(g, size, write, baseKey(i));
  return guarded(g, i, [a.code, m.code], [a.ok, m.ok], body);
}

// ------------------------------------------------------------------ flags

/** Statements recording an ALU result as flags.ts's record() does, from A..RH. */
function record(g: Gen, op: number, size: number): string {
  g.flagsOut = { op, size };
  return `c.fop = ${op}; c.fsize = ${size}; c.fa = A; c.fah = AH; c.fb = B; c.fbh = BH; c.fr = R; c.frh = RH;`;
}

/** The sign bit of a value of `size` bytes as a boolean expression. */
function sign(size: number, v: string, vh: string): string {
  switch (size) {
    case 1: return `((${v} & 128) !== 0)`;
    case 2: return `((${v} & 32768) !== 0)`;
    case 4: return `(${v} < 0)`;
    default: return `(${vh} < 0)`;
  }
}

/** CF as an expression, from the flag state known in the block (flags.ts getCF). */
function carry(f: FlagState | null): string {
  if (f === null) return "getCF(c)";
  switch (f.op) {
    case F_ADD:
      return f.size === 8 ? `(RH !== AH ? (RH >>> 0) < (AH >>> 0) : (R >>> 0) < (A >>> 0))` : `((R >>> 0) < (A >>> 0))`;
    case F_SUB:
      return f.size === 8 ? `(AH !== BH ? (AH >>> 0) < (BH >>> 0) : (A >>> 0) < (B >>> 0))` : `((A >>> 0) < (B >>> 0))`;
    case F_LOGIC:
      return "false";
    default: // INC, DEC, RESULT: from the eager bits
      return `((c.fe & ${CF}) !== 0)`;
  }
}

/**
 * Condition code n (flags.ts condition()) as an expression: specialised when the block
 * recorded the flags itself, else a call that reads the lazy record.
 */
function cond(g: Gen, n: number): string {
  const f = g.flags;
  const neg = (n & 1) !== 0;
  const base = n >> 1;
  let e: string | null = null;
  if (f !== null && base !== 5 /* parity: rare, left to condition() */) {
    const { op, size } = f;
    // Below 64 bits the ALU records have RH = 0 (not so the multiply's RESULT record).
    const zf = size === 8 || op === F_RESULT ? `(R === 0 && RH === 0)` : `(R === 0)`;
    const sf = sign(size, "R", "RH");
    const cf = carry(f);
    let of: string;
    switch (op) {
      case F_ADD: case F_INC: of = sign(size, "((A ^ R) & (B ^ R))", "((AH ^ RH) & (BH ^ RH))"); break;
      case F_SUB: case F_DEC: of = sign(size, "((A ^ B) & (A ^ R))", "((AH ^ BH) & (AH ^ RH))"); break;
      case F_LOGIC: of = "false"; break;
      default: of = `((c.fe & ${OF}) !== 0)`;
    }
    if (op === F_SUB) {
      // A comparison: the conditions are the comparisons of the operands themselves.
      const shiftL = size === 1 ? 24 : size === 2 ? 16 : 0;
      const sA = shiftL ? `(A << ${shiftL})` : "A", sB = shiftL ? `(B << ${shiftL})` : "B";
      switch (base) {
        case 0: e = of; break;
        case 1: e = cf; break;
        case 2: e = zf; break;
        case 3: e = size === 8 ? `(AH !== BH ? (AH >>> 0) < (BH >>> 0) : (A >>> 0) <= (B >>> 0))` : `((A >>> 0) <= (B >>> 0))`; break;
        case 4: e = sf; break;
        case 6: e = size === 8 ? `(AH !== BH ? AH < BH : (A >>> 0) < (B >>> 0))` : `(${sA} < ${sB})`; break;
        case 7: e = size === 8 ? `(AH !== BH ? AH < BH : (A >>> 0) <= (B >>> 0))` : `(${sA} <= ${sB})`; break;
      }
    } else if (op === F_LOGIC) {
      switch (base) {
        case 0: case 1: e = "false"; break;
        case 2: case 3: e = zf; break;
        case 4: case 6: e = sf; break;
        case 7: e = `(${zf} || ${sf})`; break;
      }
    } else {
      switch (base) {
        case 0: e = of; break;
        case 1: e = cf; break;
        case 2: e = zf; break;
        case 3: e = `(${cf} || ${zf})`; break;
        case 4: e = sf; break;
        case 6: e = `(${sf} !== ${of})`; break;
        case 7: e = `(${zf} || ${sf} !== ${of})`; break;
      }
    }
  }
  if (e === null) return neg ? `!condition(c, ${n & ~1})` : `condition(c, ${n})`;
  return neg ? `!${e}` : e;
}

// ------------------------------------------------------------------ ALU

/** The result of ALU operation `op` on (A, AH) and (B, BH) into (R, RH), as aluOp() computes it. */
function aluResult(op: number, size: number): string | null {
  if (size === 8) {
    switch (op) {
      case ADD: return `{ const t = (A >>> 0) + (B >>> 0); R = t | 0; RH = (AH + BH + (t > 4294967295 ? 1 : 0)) | 0; }`;
      case SUB: case CMP: return `{ const t = (A >>> 0) - (B >>> 0); R = t | 0; RH = (AH - BH - (t < 0 ? 1 : 0)) | 0; }`;
      case AND: return `R = A & B; RH = AH & BH;`;
      case OR: return `R = A | B; RH = AH | BH;`;
      case XOR: return `R = A ^ B; RH = AH ^ BH;`;
    }
    return null;
  }
  const t = size === 1 ? " & 255" : size === 2 ? " & 65535" : " | 0";
  switch (op) {
    case ADD: return `R = (A + B)${t}; RH = 0;`;
    case SUB: case CMP: return `R = (A - B)${t}; RH = 0;`;
    case AND: return `R = A & B; RH = AH & BH;`;
    case OR: return `R = A | B; RH = AH | BH;`;
    case XOR: return `R = A ^ B; RH = AH ^ BH;`;
  }
  return null;
}

/** The lazy operation an ALU op records. */
function aluFlagOp(op: number): number {
  return op === ADD ? F_ADD : op === SUB || op === CMP ? F_SUB : F_LOGIC;
}

/**
 * Group-1 ALU and TEST. `dst` is "E" (a = E, result to E), "G" (a = G, b = E) or "A"
 * (a = rAX); `src` the second operand: "G", "E" or "I". TEST (op -1) records AND
 * without writing.
 */
function alu(i: Insn, g: Gen, op: number, dst: "E" | "G" | "A", src: "G" | "E" | "I"): string | null {
  const size = i.opsize;
  const test = op < 0;
  const res = aluResult(test ? AND : op, size);
  if (res === null) return null;
  const writes = !test && op !== CMP;
  const rec = record(g, test ? F_LOGIC : aluFlagOp(op), size);
  // Operand B first (G, I, or a register E), then A.
  let b: [string, string];
  if (src === "I") {
    const [l, h] = imm(i);
    b = [String(l), String(h)];
  } else if (src === "G") b = getReg(size, i.reg);
  else b = i.rm !== NO_REG ? getReg(size, i.rm) : ["v", "vh"];
  const target = dst === "A" ? RAX : dst === "G" ? i.reg : i.rm;
  const memDst = dst === "E" && i.rm === NO_REG;
  const memSrc = src === "E" && i.rm === NO_REG;
  const a: [string, string] = memDst ? ["v", "vh"] : getReg(size, target);
  const compute = `A = ${a[0]}; AH = ${a[1]}; B = ${b[0]}; BH = ${b[1]}; ${res} ${rec}`;
  if (!memDst && !memSrc) return compute + (writes ? " " + setReg(size, target, "R", "RH") : "");
  if (memSrc) return withMemory(g, i, size, false, `${load(size)} ${compute}` + (writes ? " " + setReg(size, target, "R", "RH") : ""));
  // Memory destination: one translation (for writing unless CMP/TEST), as readEForWrite.
  return withMemory(g, i, size, writes, `${load(size)} ${compute}` + (writes ? " " + store(size, "R", "RH") : ""));
}

/** INC/DEC: like ADD/SUB of 1, with CF kept in the eager bits. */
function incdec(i: Insn, g: Gen): string | null {
  const size = i.opsize;
  const dec = i.sub === 1;
  let res: string;
  if (size === 8) {
    res = dec
      ? `{ const t = (A >>> 0) - 1; R = t | 0; RH = (AH - (t < 0 ? 1 : 0)) | 0; }`
      : `{ const t = (A >>> 0) + 1; R = t | 0; RH = (AH + (t > 4294967295 ? 1 : 0)) | 0; }`;
  } else {
    const t = size === 1 ? " & 255" : size === 2 ? " & 65535" : " | 0";
    res = `R = (A ${dec ? "-" : "+"} 1)${t}; RH = 0;`;
  }
  // CF is read before the record changes (getCF of the previous operation).
  const cf = carry(g.flags);
  const compute = (a: string, ah: string) =>
    `const cf = ${cf} ? ${CF} : 0; A = ${a}; AH = ${ah}; B = 1; BH = 0; ${res} ${record(g, dec ? F_DEC : F_INC, size)} c.fe = cf;`;
  if (i.rm !== NO_REG) {
    const [a, ah] = getReg(size, i.rm);
    return `{ ${compute(a, ah)} ${setReg(size, i.rm, "R", "RH")} }`;
  }
  return withMemory(g, i, size, true, `${load(size)} ${compute("v", "vh")} ${store(size, "R", "RH")}`);
}

/** NEG (a SUB from 0) and NOT (no flags). */
function negnot(i: Insn, g: Gen, neg: boolean): string | null {
  const size = i.opsize;
  if (i.rm === NO_REG) return null;
  const [a, ah] = getReg(size, i.rm);
  if (!neg) {
    const v = size === 1 ? `(~${a} & 255)` : size === 2 ? `(~${a} & 65535)` : `~${a}`;
    return `{ const v = ${v}, vh = ~${ah}; ${setReg(size, i.rm, "v", "vh")} }`;
  }
  const res = aluResult(SUB, size)!;
  return `{ A = 0; AH = 0; B = ${a}; BH = ${ah}; ${res} ${record(g, F_SUB, size)} ${setReg(size, i.rm, "R", "RH")} }`;
}

// ------------------------------------------------------------------ shifts

/** SHL/SAL/SHR/SAR of a 32- or 64-bit register by a constant, as shift.ts computes it. */
function shift(i: Insn, g: Gen): string | null {
  const size = i.opsize;
  const op = i.sub;
  const kind = i.entry!.operands.charCodeAt(3); // "Ev,Ib" / "Ev,1" / "Ev,CL"
  if (kind !== 0x49 && kind !== 0x31) return null;
  if (i.rm === NO_REG || (size !== 4 && size !== 8)) return null;
  if (op !== SHL && op !== SAL && op !== SHR && op !== SAR) return null;
  const n = (kind === 0x49 ? i.immLo : 1) & (size === 8 ? 63 : 31);
  const r = i.rm;
  // A masked count of 0 changes nothing, but a 32-bit register is still written.
  if (n === 0) return size === 4 ? `hi[${r}] = 0;` : "";
  g.flagsOut = { op: F_RESULT, size };
  const rec = (cf: string, of: string) =>
    `c.fe = (${cf} ? ${CF} : 0) | (${of} ? ${OF} : 0); c.fop = ${F_RESULT}; c.fsize = ${size}; c.fr = R; c.frh = RH;`;
  if (size === 4) {
    const a = `a`;
    let body: string;
    switch (op) {
      case SHR:
        body = `R = (${a} >>> ${n}) | 0; RH = 0; ${rec(`((${a} >>> ${n - 1}) & 1)`, `((${a} >>> 31) & 1)`)}`;
        break;
      case SAR:
        body = `R = ${a} >> ${n}; RH = 0; ${rec(`((${a} >> ${n - 1}) & 1)`, "0")}`;
        break;
      default:
        body = `R = ${a} << ${n}; RH = 0; ${rec(`((${a} >>> ${32 - n}) & 1)`, `(((${a} >>> 31) ^ (${a} >>> 30)) & 1)`)}`;
    }
    return `{ const a = lo[${r}]; ${body} lo[${r}] = R; hi[${r}] = 0; }`;
  }
  const bit = (m: number) => (m < 32 ? `((l >>> ${m}) & 1)` : `((h >>> ${m - 32}) & 1)`);
  let body: string;
  switch (op) {
    case SHR:
      body = n < 32 ? `R = (l >>> ${n}) | (h << ${32 - n}); RH = h >>> ${n};` : `R = h >>> ${n - 32}; RH = 0;`;
      body += ` ${rec(bit(n - 1), "(h < 0)")}`;
      break;
    case SAR:
      body = n < 32 ? `R = (l >>> ${n}) | (h << ${32 - n}); RH = h >> ${n};` : `R = h >> ${n - 32}; RH = h >> 31;`;
      body += ` ${rec(bit(n - 1), "0")}`;
      break;
    default:
      body = n < 32 ? `R = l << ${n}; RH = (h << ${n}) | (l >>> ${32 - n});` : `R = 0; RH = l << ${n - 32};`;
      body += ` ${rec(bit(64 - n), "(((h >>> 31) ^ (h >>> 30)) & 1)")}`;
  }
  return `{ const l = lo[${r}], h = hi[${r}]; ${body} lo[${r}] = R; hi[${r}] = RH; }`;
}

// ------------------------------------------------------------------ moves

/** MOV E,G / G,E / E,I / Z,I. */
function mov(i: Insn, g: Gen, form: "EG" | "GE" | "EI" | "ZI"): string | null {
  const size = i.opsize;
  switch (form) {
    case "ZI": return `{ ${setReg(size, i.reg, String(i.immLo), String(i.immHi))} }`;
    case "EI": {
      const v = String(trunc(size, i.immLo)), vh = String(i.immHi);
      if (i.rm !== NO_REG) return `{ ${setReg(size, i.rm, v, vh)} }`;
      return withMemory(g, i, size, true, store(size, v, vh));
    }
    case "EG": {
      const [v, vh] = getReg(size, i.reg);
      if (i.rm !== NO_REG) return `{ const v = ${v}, vh = ${vh}; ${setReg(size, i.rm, "v", "vh")} }`;
      return withMemory(g, i, size, true, store(size, v, vh));
    }
    default: {
      if (i.rm !== NO_REG) {
        const [v, vh] = getReg(size, i.rm);
        return `{ const v = ${v}, vh = ${vh}; ${setReg(size, i.reg, "v", "vh")} }`;
      }
      return withMemory(g, i, size, false, `${load(size)} ${setReg(size, i.reg, "v", "vh")}`);
    }
  }
}

/** MOVZX (sub: source size) and MOVSX/MOVSXD into a 32- or 64-bit register. */
function movx(i: Insn, g: Gen, signed: boolean): string | null {
  const size = i.opsize;
  if (size !== 4 && size !== 8) return null;
  const from = i.sub;
  let write: string;
  if (!signed) write = setReg(size, i.reg, "v", "0");
  else {
    const s = from === 1 ? `((v << 24) >> 24)` : from === 2 ? `((v << 16) >> 16)` : `v`;
    write = `{ const x = ${s}; ${setReg(size, i.reg, "x", "x >> 31")} }`;
  }
  if (i.rm !== NO_REG) return `{ const v = ${getReg(from, i.rm)[0]}; ${write} }`;
  return withMemory(g, i, from, false, `${load(from)} ${write}`);
}

/** LEA: the effective address's exact 64-bit halves (Cpu.eaHalves), truncated to 32 or 64 bits. */
function lea(i: Insn, g: Gen): string | null {
  const size = i.opsize;
  if (i.addrsize !== 8 || (size !== 4 && size !== 8)) return null;
  const r = i.reg;
  if (i.base === REG_RIP) {
    const v = `r0 + ${g.off + g.len + i.disp}`;
    return size === 4 ? `{ lo[${r}] = (${v}) | 0; hi[${r}] = 0; }` : `{ const v = ${v}; lo[${r}] = v | 0; hi[${r}] = Math.floor(v / ${TWO32}) | 0; }`;
  }
  // The low halves' sum is below 2^36 in magnitude: exact, and its carry into the high half is floor(sum / 2^32).
  const los: string[] = [], his: string[] = [];
  if (i.base !== NO_REG) {
    los.push(size === 4 ? `lo[${i.base}]` : `(lo[${i.base}] >>> 0)`);
    his.push(`hi[${i.base}]`);
  }
  if (i.index !== NO_REG) {
    const x = size === 4 ? `lo[${i.index}]` : `(lo[${i.index}] >>> 0)`;
    los.push(i.scale === 1 ? x : `${x} * ${i.scale}`);
    his.push(i.scale === 1 ? `hi[${i.index}]` : `Math.imul(hi[${i.index}], ${i.scale})`);
  }
  // A negative displacement enters the low sum signed: its borrow comes with the carry.
  if (i.disp !== 0 || los.length === 0) los.push(String(i.disp));
  his.push(`Math.floor(t / ${TWO32})`);
  const sum = los.join(" + ");
  if (size === 4) return `{ lo[${r}] = (${sum}) | 0; hi[${r}] = 0; }`;
  return `{ const t = ${sum}; const th = (${his.join(" + ")}) | 0; lo[${r}] = t | 0; hi[${r}] = th; }`;
}

/** CBW/CWDE/CDQE (cwd: false) and CWD/CDQ/CQO (cwd: true) at 32 and 64 bits. */
function signExtendA(i: Insn, cwd: boolean): string | null {
  const size = i.opsize;
  if (size === 2) return null;
  if (!cwd) return size === 8 ? `{ const v = lo[${RAX}]; hi[${RAX}] = v >> 31; }` : `{ lo[${RAX}] = (lo[${RAX}] << 16) >> 16; hi[${RAX}] = 0; }`;
  return size === 8
    ? `{ const s = hi[${RAX}] >> 31; lo[${RDX}] = s; hi[${RDX}] = s; }`
    : `{ lo[${RDX}] = lo[${RAX}] >> 31; hi[${RDX}] = 0; }`;
}

/** SETcc r8 and CMOVcc r, r/m. */
function setcc(i: Insn, g: Gen): string | null {
  if (i.rm === NO_REG) return null;
  return `{ const v = ${cond(g, i.sub)} ? 1 : 0; ${setReg(1, i.rm, "v", "0")} }`;
}

function cmovcc(i: Insn, g: Gen): string | null {
  const size = i.opsize;
  if (size !== 4 && size !== 8) return null;
  // The source is read (and may fault) whatever the condition; a 32-bit destination is always zero-extended.
  const move = `if (${cond(g, i.sub)}) { ${setReg(size, i.reg, "v", "vh")} }` + (size === 4 ? ` else hi[${i.reg}] = 0;` : "");
  if (i.rm !== NO_REG) {
    const [v, vh] = getReg(size, i.rm);
    return `{ const v = ${v}, vh = ${vh}; ${move} }`;
  }
  return withMemory(g, i, size, false, `${load(size)} ${move}`);
}

/** IMUL r, r/m (imm3: r, r/m, imm) at 32 and 64 bits: muldiv.ts imulTrunc's cases without 64x64 products. */
function imul(i: Insn, g: Gen, imm3: boolean): string | null {
  const size = i.opsize;
  if (size !== 4 && size !== 8) return null;
  const rec = (r: string, rh: string, of: string) =>
    `R = ${r}; RH = ${rh}; c.fe = ${of} ? ${CF | OF} : 0; c.fop = ${F_RESULT}; c.fsize = ${size}; c.fr = R; c.frh = RH;`;
  // Operands: a = the first factor (G, or E for the three-operand form), b = the second.
  const e: [string, string] = i.rm !== NO_REG ? getReg(size, i.rm) : ["v", "vh"];
  const [a, ah] = imm3 ? e : getReg(size, i.reg);
  const [b, bh] = imm3 ? [String(i.immLo), String(i.immHi)] : e;
  let body: string;
  if (size === 4) {
    // The double product is exact when it fits 32 bits, and out of range when not.
    body = `{ const x = ${a}, y = ${b}; const r = Math.imul(x, y); ${rec("r", "1", "x * y !== r")} lo[${i.reg}] = r; hi[${i.reg}] = 0; }`;
  } else {
    // Both factors sign-extended 32-bit values: the product fits 63 bits (else the handler).
    body =
      `{ const x = ${a}, xh = ${ah}, y = ${b}, yh = ${bh};` +
      ` if (xh === x >> 31 && yh === y >> 31) { const r = Math.imul(x, y), rh = Math.round((x * y - (r >>> 0)) / ${TWO32}) | 0;` +
      ` ${rec("r | 256", "rh", "false")} lo[${i.reg}] = r; hi[${i.reg}] = rh; } else { ${g.handler()} } }`;
  }
  g.flagsOut = { op: F_RESULT, size };
  if (i.rm !== NO_REG) return body;
  return withMemory(g, i, size, false, `${load(size)} ${body}`);
}

// ------------------------------------------------------------------ stack

/** RSP as a number and the write back of a new RSP (Cpu.reg64 / setReg64). */
const RSP64 = `(hi[${RSP}] * ${TWO32} + (lo[${RSP}] >>> 0))`;
/**
 * RSP = register r + delta (|delta| < 2^31) in exact 64-bit halves, as Cpu.setReg64 of
 * the sum gives for a canonical sum (which a fast-path access through it has shown).
 */
function addToRsp(r: number, delta: number): string {
  const carry = delta > 0 ? `(l >>> 0) > ${4294967295 - delta} ? 1 : 0` : `(l >>> 0) < ${-delta} ? -1 : 0`;
  return `{ const l = lo[${r}], h = hi[${r}]; lo[${RSP}] = (l + ${delta}) | 0; hi[${RSP}] = (h + (${carry})) | 0; }`;
}

/** PUSH of (v, vh), 8 bytes: Cpu.push. */
function push(g: Gen, i: Insn, v: string, vh: string, after = ""): string {
  const m = access(g, 8, true, String(RSP));
  return guarded(g, i, [`const vl = ${v}, vhh = ${vh}; const la = ${RSP64} - 8;`, m.code], [m.ok], `${store(8, "vl", "vhh")} ${addToRsp(RSP, -8)} ${after}`);
}

function pushZ(i: Insn, g: Gen): string | null {
  if (i.opsize !== 8) return null;
  return push(g, i, `lo[${i.reg}]`, `hi[${i.reg}]`);
}

function pushI(i: Insn, g: Gen): string | null {
  if (i.opsize !== 8) return null;
  return push(g, i, String(i.immLo), String(i.immHi));
}

/** POP r64: Cpu.pop, then the register (so POP RSP loads the popped value). */
function popZ(i: Insn, g: Gen): string | null {
  if (i.opsize !== 8) return null;
  const m = access(g, 8, false, String(RSP));
  return guarded(g, i, [`const la = ${RSP64};`, m.code], [m.ok], `${load(8)} ${addToRsp(RSP, 8)} ${setReg(8, i.reg, "v", "vh")}`);
}

/** LEAVE: RSP = RBP + 8, RBP = [RBP]. */
function leave(i: Insn, g: Gen): string | null {
  if (i.opsize !== 8) return null;
  const m = access(g, 8, false, String(RBP));
  return guarded(g, i, [`const la = (hi[${RBP}] * ${TWO32} + (lo[${RBP}] >>> 0));`, m.code], [m.ok], `${load(8)} ${addToRsp(RBP, 8)} ${setReg(8, RBP, "v", "vh")}`);
}

// ------------------------------------------------------------------ control transfer (end of block)

const canonical = (t: string) => `${t} >= ${CANON_LO} && ${t} < ${CANON_HI}`;

/** Jcc: at the end of a block it sets RIP either way; inside one, taken, it leaves the block (a side exit). */
function jcc(i: Insn, g: Gen): string {
  const t = `r0 + ${g.off + g.len + i.immLo}`;
  if (g.last) return `if (${cond(g, i.sub)}) { const t = ${t}; if (${canonical("t")}) c.rip = t; else { ${g.fallback()} } } else c.rip = ${g.next};`;
  const exit = `c.cycles += ${g.cyclesBefore + i.cost}; return ${g.loop ? "done + " : ""}${g.k + 1};`;
  return `if (${cond(g, i.sub)}) { const t = ${t}; if (${canonical("t")}) { c.rip = t; ${exit} } else { ${g.fallback()} } }`;
}

function jmp(i: Insn, g: Gen): string {
  return `{ const t = r0 + ${g.off + g.len + i.immLo}; if (${canonical("t")}) c.rip = t; else { ${g.fallback()} } }`;
}

/** CALL rel: the target must be canonical (#GP before anything), then the return address is pushed. */
function call(i: Insn, g: Gen): string {
  const m = access(g, 8, true, String(RSP));
  return guarded(
    g, i,
    [`const t = r0 + ${g.off + g.len + i.immLo}, ret = ${g.next}; const la = ${RSP64} - 8;`, m.code],
    [canonical("t"), m.ok],
    `${store(8, "ret | 0", `(Math.floor(ret / ${TWO32}) | 0)`)} ${addToRsp(RSP, -8)} c.rip = t;`,
  );
}

/** RET (without an immediate). */
function ret(i: Insn, g: Gen): string | null {
  if (i.entry!.operands !== "") return null;
  const m = access(g, 8, false, String(RSP));
  return `{ const la = ${RSP64}; ${m.code} if (${m.ok}) { ${load(8)} const t = vh * ${TWO32} + (v >>> 0);` +
    ` if (${canonical("t")}) { ${addToRsp(RSP, 8)} c.rip = t; } else { ${g.fallback()} } } else { ${g.fallback()} } }`;
}

// ------------------------------------------------------------------ dispatch

/** Emitters by handler name: inline JS for an instruction of that handler, or null (then the handler is called). */
type Emitter = (i: Insn, g: Gen) => string | null;

export const EMITTERS: Readonly<Record<string, Emitter>> = {
  nop: () => "",
  // No PAUSE emitter: under VMX "PAUSE exiting" it is a VM exit, which its handler knows.
  xchgZA: (i) => (i.reg === 0 ? "" : null), // 90: NOP (with REX.B it is XCHG r8, rAX)
  movEG: (i, g) => mov(i, g, "EG"),
  movGE: (i, g) => mov(i, g, "GE"),
  movEI: (i, g) => mov(i, g, "EI"),
  movZI: (i, g) => mov(i, g, "ZI"),
  movzx: (i, g) => movx(i, g, false),
  movsx: (i, g) => movx(i, g, true),
  lea,
  aluEG: (i, g) => alu(i, g, i.sub, "E", "G"),
  aluGE: (i, g) => alu(i, g, i.sub, "G", "E"),
  aluAI: (i, g) => alu(i, g, i.sub, "A", "I"),
  aluEI: (i, g) => alu(i, g, i.sub, "E", "I"),
  testEG: (i, g) => alu(i, g, -1, "E", "G"),
  testAI: (i, g) => alu(i, g, -1, "A", "I"),
  testEI: (i, g) => alu(i, g, -1, "E", "I"),
  incdec,
  neg: (i, g) => negnot(i, g, true),
  not: (i, g) => negnot(i, g, false),
  shift,
  imul2: (i, g) => imul(i, g, false),
  imul3: (i, g) => imul(i, g, true),
  setcc,
  cmovcc,
  cbw: (i) => signExtendA(i, false),
  cwd: (i) => signExtendA(i, true),
  pushZ,
  pushI,
  popZ,
  leave,
  jcc,
  jmpJ: jmp,
  callJ: call,
  ret,
};

/**
 * Inline JS for the current instruction of `g` (g.k), or null for the generic handler
 * call. Straight instructions fall through to the next; a block's last instruction sets
 * cpu.rip itself when it is a branch, else the block end does.
 */
function emit(i: Insn, g: Gen): string | null {
  const e = i.entry;
  if (e === null || e.priv) return null; // privileged: the decoder wrapped the handler in a CPL check
  const f = EMITTERS[e.exec];
  return f ? f(i, g) : null;
}

/** Whether `i` gets inline code (at the end of a block when `last`); for statistics. */
export function canEmit(i: Insn, last: boolean): boolean {
  const g = new Gen();
  g.last = last;
  return emit(i, g) !== null;
}

/** Control transfers whose inline code sets cpu.rip. */
const BRANCHES = new Set(["jcc", "jmpJ", "callJ", "ret"]);

/** Whether a block ends in a conditional branch back to its own first instruction. */
export function loops(insns: Insn[]): boolean {
  const last = insns[insns.length - 1];
  let len = 0;
  for (const i of insns) len += i.len;
  return last.entry !== null && last.entry.exec === "jcc" && last.immLo === -len;
}

/**
 * The JS source of a block's function body (`inline`: false gives handler calls only).
 * Parameters: c (the Cpu), I (the block's instructions), left (the instruction budget
 * the block runs in; it fits). Returns the number of instructions completed.
 */
export function blockSource(insns: Insn[], inline = true): string {
  const g = new Gen();
  const out: string[] = [];
  const n = insns.length;
  const loop = inline && loops(insns);
  g.loop = loop;
  let off = 0, cycles = 0;
  let endsWithRip = false;
  for (let k = 0; k < n; k++) {
    const i = insns[k];
    g.k = k;
    g.off = off;
    g.len = i.len;
    g.last = k === n - 1;
    g.cyclesBefore = cycles;
    g.flagsOut = undefined;
    off += i.len;
    cycles += i.cost;
    if (loop && g.last) {
      // The back edge: another pass if the run loop would run this block again now (it
      // fits in what is left of the budget, before the next event deadline, and nothing
      // asked for attention or a stop); else the block ends at its start.
      out.push(
        `if (${cond(g, i.sub)}) { c.cycles += ${cycles}; done += ${n};` +
          ` if (done + ${n} <= left && c.cycles + ${cycles} < c.eventCycle && !c.attention && !c.stopRequested) continue;` +
          ` c.rip = r0; return done; }`,
      );
      out.push(`c.rip = r0 + ${off}; c.cycles += ${cycles}; return done + ${n};`);
      endsWithRip = true;
      break;
    }
    let code = inline ? emit(i, g) : null;
    if (code === null) {
      code = g.handlerCall(i, false);
      g.flagsOut = null;
      if (g.last) endsWithRip = true;
    } else {
      const flagsKnown = g.flagsOut !== undefined && g.flagsOut !== null;
      const reload = flagsKnown ? " " + RELOAD_FLAGS : "";
      const fallback = k === 0 ? g.handlerCall(i, true) + reload : g.bail();
      code = code.split(FALLBACK).join(fallback).split(HANDLER).join(g.handlerCall(i, false) + reload);
      if (g.last && i.entry !== null && BRANCHES.has(i.entry.exec)) endsWithRip = true;
    }
    if (g.flagsOut !== undefined) g.flags = g.flagsOut;
    out.push(code);
  }
  const head = ["const lo = c.lo, hi = c.hi, r0 = c.rip;", "let i, A = 0, AH = 0, B = 0, BH = 0, R = 0, RH = 0;"];
  for (let n = 0; n < g.slots.size; n++) head.push(`let pl${n} = NaN, pp${n} = -1;`);
  if (!loop) {
    const tail = (endsWithRip ? "" : `c.rip = r0 + ${off}; `) + `c.cycles += ${cycles}; return ${n};`;
    return [...head, ...out, tail].join("\n");
  }
  // A fault in a later pass: Cpu.run must also count the passes before it.
  return [
    ...head,
    "let done = 0;",
    "try {",
    "for (;;) {",
    ...out,
    "}",
    "} catch (e) { loopState.insns = I; loopState.done = done; throw e; }",
  ].join("\n");
}

/** Compiles a block into a function (code generation must be allowed: new Function). */
export function compileBlock(insns: Insn[], inline: boolean, c: Cpu): BlockFn {
  const body = blockSource(insns, inline);
  const factory = new Function(
    "H", "M",
    `"use strict"; const { condition, getCF, loopState, slow, page } = H; const { u8, i8, u16, i16, i32 } = M;\n` +
      `return function block(c, I, left) {\n${body}\n};`,
  );
  return factory(RUNTIME, ramViews(c)) as BlockFn;
}

/**
 * The processor's RAM as typed-array views (on a little-endian host): constants of the
 * blocks it compiles (a block belongs to the processor whose decoded-block cache holds it).
 */
function ramViews(c: Cpu) {
  const buf = c.mem.bytes.buffer;
  return { u8: new Uint8Array(buf), i8: new Int8Array(buf), u16: new Uint16Array(buf), i16: new Int16Array(buf), i32: new Int32Array(buf) };
}
