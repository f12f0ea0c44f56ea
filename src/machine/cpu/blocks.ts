// Decoded blocks: runs of instructions executed as a unit.
//
// A block starts at some instruction and extends through "straight" instructions (those
// that neither transfer control nor change how later instructions are fetched or
// translated: ALU, moves, stack, shifts, multiply/divide, bit operations...) up to and
// including the first other instruction, a page end, or maxLength instructions.
//
// Loops: a block that ends in a conditional branch back to its own start loops in its
// compiled code (jit.ts). To find more of them, decoding goes on past forward conditional
// branches (a backward one ends the block: usually a loop's back edge); if the block
// then turns out to be a loop, it keeps them as side exits (a taken one leaves the block
// there), else it is cut after the first one. Side exits in blocks that do not loop cost
// more engine compile time than they save (measured: sideExits "all").
//
// Once a block has run `hot` times it is compiled into one JS function (jit.ts): the
// instruction forms jit.ts knows become inline code with their operands as constants,
// the others a call of their handler from a call site of their own (so the engine can
// inline it). The run loop executes a block only when its whole length fits in the
// instruction budget, and single-steps otherwise, so interleaving between vCPUs and
// event delivery stay exact to the instruction.
//
// Faults stay precise: whenever an instruction may fault or look at RIP (a handler call,
// the slow path of a memory access), RIP holds its address first, so a fault thrown by
// instruction k finds RIP on it; a block adds its cycles only when it completes, and the
// run loop charges the k instructions before a fault (completedBefore, cyclesBefore).
// Self-modifying code: a write to any decoded code page sets cpu.codeWritten, and after
// each instruction that may have written one a block returns early so the next fetch
// sees the new bytes.

import type { Cpu } from "./cpu.ts";
import type { Insn } from "./decoder.ts";
import { compileBlock, loopState, loops, type BlockFn } from "./jit.ts";

/** How blocks are built and run; see configureBlocks(). */
export interface BlockConfig {
  /** Compile hot blocks to JS functions (false: always interpret them). */
  codegen: boolean;
  /** Inline code for the instruction forms jit.ts knows (false: a handler call for every instruction). */
  jit: boolean;
  /** Runs of a block before it is compiled; 0 compiles it before its first run. */
  hot: number;
  /** Most instructions in a block (blocks already built keep their length). */
  maxLength: number;
  /** Count the runs of every block built from now on, in `profiledBlocks` (blocks are then interpreted). */
  profile: boolean;
  /**
   * Blocks continue past forward conditional branches (a taken one is a side exit):
   * "loops", only in blocks that loop; "all"; "none".
   */
  sideExits: "loops" | "all" | "none";
}

const config: BlockConfig = { codegen: true, jit: true, hot: 16, maxLength: 32, profile: false, sideExits: "loops" };
/** Code generation failed here (a strict content security policy): interpret. */
let codegenUnavailable = false;

/** The current configuration. */
export const blockConfig: Readonly<BlockConfig> = config;

/**
 * Changes how blocks are built and run, for benchmarks and tests (the processor itself
 * never reads the environment): e.g. { jit: false } to measure the generic call sites,
 * { hot: 0, maxLength: 1 } to send every instruction through generated code.
 */
export function configureBlocks(changes: Partial<BlockConfig>): void {
  Object.assign(config, changes);
}

/** Blocks built while profiling, with their run counts. */
export const profiledBlocks: Block[] = [];

/** Handlers that neither branch nor change fetch, translation or CPU mode. */
const STRAIGHT = new Set([
  "aluEG", "aluGE", "aluAI", "aluEI", "testEG", "testAI", "testEI", "not", "neg", "incdec",
  "cmpxchg", "cmpxchg8b", "xadd", "flagOp", "sahf", "lahf", "setcc", "cmovcc", "cbw", "cwd",
  "movEG", "movGE", "movEI", "movZI", "movAO", "movOA", "movzx", "movsx", "lea", "xchgEG",
  "xchgZA", "bswap", "xlat", "nop", "pause", "shift", "shld", "shrd", "mul", "imul1", "imul2",
  "imul3", "div", "idiv", "btG", "btI", "bsf", "bsr", "tzcnt", "lzcnt", "popcnt",
  "pushZ", "popZ", "pushE", "popE", "pushI", "pushf", "enter", "leave",
]);

export class Block {
  readonly insns: Insn[];
  /** Modeled cycles of the whole block. */
  readonly cycles: number;
  runs = 0;
  fn: BlockFn | null = null;

  constructor(insns: Insn[]) {
    if (config.sideExits === "loops" && !loops(insns)) {
      const k = insns.findIndex((i) => i.entry !== null && i.entry.exec === "jcc");
      if (k >= 0) insns = insns.slice(0, k + 1);
    }
    this.insns = insns;
    let cycles = 0;
    for (const i of insns) cycles += i.cost;
    this.cycles = cycles;
    if (config.profile) profiledBlocks.push(this);
  }

  get length(): number {
    return this.insns.length;
  }
}

/** Whether a block that has `length` instructions, the last being `i`, continues after it. */
export function continuesBlock(i: Insn, length: number): boolean {
  if (length >= config.maxLength || i.entry === null) return false;
  const e = i.entry.exec;
  return (STRAIGHT.has(e) && (i.rep === 0 || !i.entry.rep)) || (config.sideExits !== "none" && e === "jcc" && i.immLo >= 0);
}

/**
 * Runs a block's instructions one by one (before it is hot, or where code generation is
 * not available). Returns the number of instructions completed.
 */
function interpret(c: Cpu, insns: Insn[]): number {
  const n = insns.length;
  let cycles = 0;
  for (let k = 0; k < n; k++) {
    const i = insns[k];
    const next = c.rip + i.len;
    c.nextRip = next;
    i.exec(c, i);
    c.rip = c.nextRip;
    cycles += i.cost;
    // A taken branch (a side exit), or a write to decoded code: the block ends here.
    if (k < n - 1 && (c.rip !== next || c.codeWritten)) {
      c.cycles += cycles;
      return k + 1;
    }
  }
  c.cycles += cycles;
  return n;
}

/** Compiles a block of processor `c` now. */
export function compile(c: Cpu, b: Block): BlockFn | null {
  if (codegenUnavailable) return null;
  try {
    b.fn = compileBlock(b.insns, config.jit, c);
  } catch (e) {
    if (!(e instanceof EvalError)) throw e; // a bug in the generator, not a policy
    codegenUnavailable = true;
  }
  return b.fn;
}

/**
 * Executes a block, which fits in `left` instructions; returns the number of instructions
 * completed. A compiled block that ends in a branch back to its own start (a loop) runs
 * again as long as the run loop would run it again: while it fits in `left`, before the
 * next event deadline, and nothing asked for attention (jit.ts).
 */
export function runBlock(c: Cpu, b: Block, left: number): number {
  c.codeWritten = false;
  if (b.fn) return b.fn(c, b.insns, left);
  if (config.profile) {
    b.runs++;
    return interpret(c, b.insns);
  }
  if (++b.runs > config.hot && config.codegen && compile(c, b)) return b.fn!(c, b.insns, left);
  return interpret(c, b.insns);
}

/**
 * How many instructions of the block completed before the one at `rip` faulted (the
 * block began at `start`): those of earlier passes of a looping block, then those before
 * `rip` in the pass that faulted.
 */
export function completedBefore(b: Block, start: number, rip: number): number {
  let k = 0;
  for (let at = start; k < b.insns.length && at < rip; k++) at += b.insns[k].len;
  if (loopState.insns === b.insns) {
    k += loopState.done;
    loopState.insns = null;
  }
  return k;
}

/**
 * Cycles not yet charged for the first `k` completed instructions of a block that
 * faulted: a looping block has charged its complete passes.
 */
export function cyclesBefore(b: Block, k: number): number {
  k %= b.insns.length;
  let sum = 0;
  for (let j = 0; j < k; j++) sum += b.insns[j].cost;
  return sum;
}
