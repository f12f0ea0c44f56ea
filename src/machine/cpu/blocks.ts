// Decoded blocks: runs of instructions executed as a unit.
//
// A block starts at some instruction and extends through "straight" instructions (those
// that neither transfer control nor change how later instructions are fetched or
// translated: ALU, moves, stack, shifts, multiply/divide, bit operations...) up to and
// including the first other instruction, a page end, or MAX_LENGTH instructions.
//
// Once a block has run HOT times it is compiled: a JS function with one call site per
// instruction, each seeing a single handler, so the engine can inline the handler and
// the operand paths behind it. The run loop executes a block only when its whole length
// fits in the instruction budget, and single-steps otherwise, so interleaving between
// vCPUs and event delivery stay exact to the instruction.
//
// Faults stay precise: RIP is committed after every instruction, so a fault thrown by
// instruction k finds RIP on it; a block adds its cycles only when it completes, and the
// run loop charges the k instructions before a fault (completedBefore, cyclesBefore). Self-modifying
// code: a write to any decoded code page sets cpu.codeWritten, and after each instruction
// that may write memory a block returns early so the next fetch sees the new bytes.

import type { Cpu } from "./cpu.ts";
import type { Insn } from "./decoder.ts";

export const MAX_LENGTH = 32;
const HOT = 16;

/** Handlers that neither branch nor change fetch, translation or CPU mode. */
const STRAIGHT = new Set([
  "aluEG", "aluGE", "aluAI", "aluEI", "testEG", "testAI", "testEI", "not", "neg", "incdec",
  "cmpxchg", "cmpxchg8b", "xadd", "flagOp", "sahf", "lahf", "setcc", "cmovcc", "cbw", "cwd",
  "movEG", "movGE", "movEI", "movZI", "movAO", "movOA", "movzx", "movsx", "lea", "xchgEG",
  "xchgZA", "bswap", "xlat", "nop", "pause", "shift", "shld", "shrd", "mul", "imul1", "imul2",
  "imul3", "div", "idiv", "btG", "btI", "bsf", "bsr", "tzcnt", "lzcnt", "popcnt",
  "pushZ", "popZ", "pushE", "popE", "pushI", "pushf", "enter", "leave",
]);

/** Handlers that may write memory (after them a block checks for self-modifying code). */
function mayWriteMemory(i: Insn): boolean {
  const e = i.entry!;
  return (e.writesE === true && i.rm < 0) || /^(push|pop|enter|xchg|cmpxchg|xadd|movOA)/.test(e.exec);
}

export type BlockFn = (c: Cpu, insns: Insn[]) => number;

export class Block {
  readonly insns: Insn[];
  /** Modeled cycles of the whole block. */
  readonly cycles: number;
  runs = 0;
  fn: BlockFn | null = null;

  constructor(insns: Insn[]) {
    this.insns = insns;
    let cycles = 0;
    for (const i of insns) cycles += i.cost;
    this.cycles = cycles;
  }

  get length(): number {
    return this.insns.length;
  }
}

/** Whether a block continues after this instruction. */
export function continuesBlock(i: Insn): boolean {
  return i.entry !== null && STRAIGHT.has(i.entry.exec) && (i.rep === 0 || !i.entry.rep);
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
    c.nextRip = c.rip + i.len;
    i.exec(c, i);
    c.rip = c.nextRip;
    cycles += i.cost;
    if (c.codeWritten && k < n - 1) {
      c.cycles += cycles;
      return k + 1;
    }
  }
  c.cycles += cycles;
  return n;
}

let codegen = true;

/** Compiles a block into a function with one monomorphic call site per instruction. */
function compile(b: Block): BlockFn {
  const lines: string[] = ["let i;"];
  const n = b.insns.length;
  let cycles = 0;
  b.insns.forEach((i, k) => {
    cycles += i.cost;
    lines.push(`i = I[${k}]; c.nextRip = c.rip + ${i.len}; i.exec(c, i); c.rip = c.nextRip;`);
    if (k < n - 1 && mayWriteMemory(i)) lines.push(`if (c.codeWritten) { c.cycles += ${cycles}; return ${k + 1}; }`);
  });
  lines.push(`c.cycles += ${cycles}; return ${n};`);
  return new Function("c", "I", lines.join("\n")) as BlockFn;
}

/** Executes a block; returns the number of instructions completed. */
export function runBlock(c: Cpu, b: Block): number {
  c.codeWritten = false;
  if (b.fn) return b.fn(c, b.insns);
  if (++b.runs >= HOT && codegen) {
    try {
      b.fn = compile(b);
    } catch {
      codegen = false; // no code generation here (a strict content security policy)
    }
  }
  return interpret(c, b.insns);
}

/** How many of the block's instructions precede the one at `rip` (the block began at `start`). */
export function completedBefore(b: Block, start: number, rip: number): number {
  let k = 0;
  for (let at = start; k < b.insns.length && at < rip; k++) at += b.insns[k].len;
  return k;
}

/** Cycles of the first `k` instructions (for a block that faulted on instruction k). */
export function cyclesBefore(b: Block, k: number): number {
  let sum = 0;
  for (let j = 0; j < k; j++) sum += b.insns[j].cost;
  return sum;
}
