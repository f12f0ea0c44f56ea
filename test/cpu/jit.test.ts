// Generated block code (jit.ts) against the handlers: the same snippets run on two
// identical machines, one instruction at a time through the handlers (cpu.step(), code
// generation off) and as blocks compiled before their first run (cpu.run()), from the
// same random registers, flags and data. Everything architectural must agree: the 16
// registers, RIP, RFLAGS (materialised), CR2, the data and stack pages, the instruction
// and cycle counts, and how the run ended (HLT, or a fault taken through the IDT to a
// HLT stub, or a shutdown).
//
// The snippets cover every emitter in jit.ts (checked below): each flag producer at
// each size, followed in the same block by consumers of all 16 conditions (so the
// conditions specialised for that producer are used); memory operands in the page, across
// a page end, misaligned, read-only, unmapped and non-canonical (faults in the middle of
// a block); with the TLB cold (the handler fallback) and warm (the inline fast path);
// stack, calls and returns, also with RSP carrying between its halves; loops that run in
// their block's function, with side exits, faults in later passes, and budgets that end
// them mid-loop (the generated side runs in slices of random sizes); a write to the
// block's own code. Each case runs on a supervisor and (some) on a user machine.
//
// Last, decoding ahead: building a block must not fetch (translate) beyond its page for
// an instruction that may never run.

import { describe, it, expect, beforeAll } from "vitest";
import { snippet, CODE, DATA, STACK_TOP, type Snippet } from "../helpers/snippet.ts";
import { assemble } from "../helpers/asm.ts";
import { configureBlocks } from "../../src/machine/cpu/blocks.ts";
import { EMITTERS, canEmit } from "../../src/machine/cpu/jit.ts";
import { decode } from "../../src/machine/cpu/decoder.ts";
import { Rng, value64 } from "../host/cases.ts";

const DATA_BYTES = 0x4000;
const STACK_BYTES = 0x1000;
/** Linear address of a read-only view of DATA + 0x3000 (r12 points into it). */
const RO_VA = 0x40000000;
/** Unmapped (r14 points there): #PF. */
const UNMAPPED = 0x4000000;
const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

// ------------------------------------------------------------------ snippets

interface Case {
  name: string;
  source: string;
  /** The code writes itself: reload it before every trial. */
  selfModifying?: boolean;
}

/** Consumers of all eight conditions in `ccs`, a CMOV of each size and a Jcc, all reading the flags before them. */
function consumers(ccs: number[], j: number): string {
  const targets = ["cl", "ch", "dl", "dh", "r8b", "r10b", "r11b", "r15b"];
  const set = ccs.map((cc, k) => `set${CC[cc]} ${targets[k]}`);
  return [
    ...set,
    `cmov${CC[(j + 3) % 16]} rax, rbx`,
    `cmov${CC[(j + 7) % 16]} r8d, dword ptr [rsi + 16]`,
    `j${CC[j % 16]} 1f`,
    "mov ebx, 1",
    "1:",
  ].join("\n");
}

const EVEN = [0, 2, 4, 6, 8, 10, 12, 14];
const ODD = [1, 3, 5, 7, 9, 11, 13, 15];

const REGS: Record<number, string[]> = {
  8: ["rax", "rbx", "rdx", "r10"],
  4: ["eax", "ebx", "edx", "r10d"],
  2: ["ax", "bx", "dx", "r10w"],
  1: ["al", "bl", "ah", "r10b"],
};
const PTR: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 8: "qword" };

/** Flag producers (one per line), each to be followed by consumers. */
function producers(): string[][] {
  const groups: string[][] = [];
  for (const op of ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test"]) {
    for (const size of [8, 4, 2, 1]) {
      const [a, b, c, d] = REGS[size];
      const p = PTR[size];
      const imm32 = size === 1 ? "0x7f" : size === 2 ? "0x1234" : "0x12345678";
      const acc = REGS[size][0];
      const forms = [
        `${op} ${a}, ${b}`, // first: the one that gets both consumer sets
        `${op} ${c}, ${c}`,
        `${op} ${d}, ${a}`,
        ...(op === "test" ? [] : [`${op} ${b}, -3`, `${op} ${b}, 1`]),
        `${op} ${b}, ${imm32}`,
        `${op} ${acc}, ${imm32}`,
        ...(op === "test" ? [] : [`${op} ${a}, ${p} ptr [rsi + 8]`]),
        `${op} ${p} ptr [rsi + 8], ${b}`,
        `${op} ${p} ptr [rdi + r9 * 4 - 8], ${size === 1 ? "0x80" : "-2"}`,
        `${op} ${p} ptr [rbp], ${a}`, // crosses a page end for most rbp
        ...(op === "test" ? [] : [`${op} ${a}, ${p} ptr [rip + 0x200000]`]), // RIP-relative into DATA
      ];
      groups.push(forms);
    }
  }
  for (const size of [8, 4, 2, 1]) {
    const [a, , c] = REGS[size];
    const p = PTR[size];
    groups.push([`inc ${a}`, `dec ${a}`, `inc ${p} ptr [rsi + 8]`, `dec ${p} ptr [rdi]`, `cmp ${a}, ${c}\ninc ${c}`, `test ${a}, ${a}\ndec ${a}`]);
    groups.push([`neg ${a}`, `neg ${c}`, `cmp ${a}, ${c}\nneg ${a}`]);
  }
  for (const [size, reg] of [[4, "eax"], [8, "rax"], [2, "ax"], [1, "al"]] as const) {
    const counts = size === 8 ? [1, 3, 31, 32, 33, 63, 0, 64] : [1, 5, 31, 32, 0];
    for (const op of ["shl", "shr", "sar", "sal"]) groups.push(counts.map((n) => `${op} ${reg}, ${n}`).concat([`${op} ${reg}, cl`]));
  }
  for (const [a, b] of [["rax", "rbx"], ["eax", "ebx"]]) {
    groups.push([`imul ${a}, ${b}`, `imul ${a}, ${b}, 7`, `imul ${a}, ${b}, -0x12345`, `imul ${a}, ${a}`, `imul ${a}, ${PTR[a === "rax" ? 8 : 4]} ptr [rsi + 8]`, `imul ${a}, ${PTR[a === "rax" ? 8 : 4]} ptr [rsi], 300`]);
  }
  // Flags from RFLAGS as loaded (nothing recorded in the block), or from a handler call.
  groups.push(["nop", "bsf rax, rbx", "popcnt ecx, edx", "stc", "clc\nadc eax, ebx", "bt rax, 5"]);
  return groups;
}

function flagCases(): Case[] {
  const out: Case[] = [];
  let j = 0;
  for (const group of producers()) {
    group.forEach((p, k) => {
      j++;
      const tails = k === 0 ? [EVEN, ODD] : [j % 2 ? ODD : EVEN];
      for (const t of tails) out.push({ name: `${p.replace(/\n/g, "; ")} then ${t === EVEN ? "even" : "odd"} conditions`, source: `${p}\n${consumers(t, j)}` });
    });
  }
  // The record survives instructions that do not touch flags, inline or not.
  out.push({
    name: "flags kept across moves, stack and LEA",
    source: "cmp rax, rbx\nmov rcx, [rsi]\nlea rdx, [rax + rbx * 2 + 5]\npush rax\npop r8\nmovzx r10d, byte ptr [rsi + 3]\nxchg r11, r15\n" + consumers(EVEN, 12),
  });
  out.push({ name: "flags after a handler-only instruction", source: "add rax, rbx\nadc rcx, rdx\n" + consumers(ODD, 5) });
  return out;
}

function moveCases(): Case[] {
  const lines = [
    "mov rax, rbx", "mov eax, ebx", "mov ax, bx", "mov al, bl", "mov ah, bl", "mov bh, ah", "mov r10b, al", "mov sil, al",
    "mov al, 5", "mov ah, 0x85", "mov ax, 0x1234", "mov eax, -1", "mov rax, 0x123456789abcdef0", "mov rax, -5", "mov r9d, 7",
    "mov byte ptr [rsi], 5", "mov word ptr [rsi + 1], 0x1234", "mov dword ptr [rsi + 3], -2", "mov qword ptr [rsi + 7], -3",
    "mov [rsi + 8], al", "mov [rsi + 8], ah", "mov [rsi + 9], bx", "mov [rsi + 11], ebx", "mov [rsi + 15], rbx",
    "mov al, [rsi + 1]", "mov ch, [rsi + 1]", "mov bx, [rsi + 2]", "mov ebx, [rsi + 3]", "mov rbx, [rsi + 4]",
    "mov rax, [rbp]", "mov [rbp], rax", "mov eax, [rbp + 1]", "mov [rbp - 1], ebx", "mov ax, [rbp + 0]", "mov qword ptr [rbp], 0x1234",
    "mov rax, [rdi + r9 * 8]", "mov [rdi + r9 * 2 + 0x10], eax", "mov rax, [rip + 0x200000]", "mov [rip + 0x200000], rbx", "mov eax, [rip - 8]",
    "mov rcx, [r12]", "mov rcx, [r12 + r9]",
    "movzx eax, bl", "movzx eax, bh", "movzx rax, bx", "movzx ecx, byte ptr [rsi + 1]", "movzx rcx, word ptr [rbp]",
    "movsx rax, bl", "movsx eax, bh", "movsx eax, bx", "movsx rcx, word ptr [rsi + 2]", "movsx ecx, byte ptr [rsi]",
    "movsxd rax, ebx", "movsxd rcx, dword ptr [rsi + 4]", "movsxd rcx, dword ptr [rbp]",
    "lea rax, [rbx + 8]", "lea rax, [rbx - 8]", "lea rax, [rbx + rcx * 4 + 0x10]", "lea eax, [rbx + rcx * 8 - 8]", "lea rax, [rip + 0x1234]",
    "lea eax, [rip - 0x1234]", "lea rax, [rcx * 2]", "lea rax, [rcx * 8 - 0x80000000]", "lea rax, [0x12345]", "lea rax, [rbx + rbx]",
    "lea r10, [rbx - 0x80000000]", "lea r10d, [rdx + 0x7fffffff]", "lea rax, [rax + rax * 4]", "lea ax, [rbx + 2]",
    "cdqe", "cwde", "cqo", "cdq", "cbw", "cwd",
    "not rax", "not ebx", "not dx", "not al", "not ah",
    "nop", "nop dword ptr [rax + rax * 1 + 0]", "nop word ptr [rax + rax * 1 + 0]", "xchg ax, ax", "pause", "xchg r8, rax",
  ];
  const out: Case[] = [];
  // Several per snippet, so they share blocks (8 per case).
  for (let k = 0; k < lines.length; k += 4) out.push({ name: lines.slice(k, k + 4).join("; "), source: lines.slice(k, k + 4).join("\n") });
  out.push({ name: "all moves in one block", source: lines.slice(0, 31).join("\n") });
  return out;
}

function stackAndControlCases(): Case[] {
  return [
    { name: "push, pop", source: "push rax\npush 5\npush -100000\npush 0x12345678\npop rbx\npop rcx\npop rdx\npop r8" },
    { name: "push rsp, pop rsp", source: "push rsp\npop rax\npush rax\npop rsp\npush rbx\npop rsp" },
    { name: "push/pop 16-bit", source: "push ax\npop bx" },
    { name: "push and pop across 4 GB", source: "mov rsp, 0x100000000\npush rax\npush rbx\npop rcx\npop rdx\npop r8\npush r8\ncall 1f\njmp 2f\n1: ret\n2: nop" },
    { name: "push and pop across -4 GB", source: "mov rsp, 0xffffffff00000008\npop rax\npush rbx\npush rcx\npop rdx\ncall 1f\njmp 2f\n1: ret\n2: mov rbp, rsp\npush rax\nleave" },
    { name: "leave across 4 GB", source: "mov rbp, 0xfffffff8\nmov qword ptr [rbp], 0x1234\nleave\nmov rbp, 0xfffffffefffffff8\nmov [rbp], rax\nleave" },
    { name: "frame, leave", source: "push rbp\nmov rbp, rsp\npush rax\npush rbx\nsub rsp, 24\nmov [rbp - 8], rcx\nleave\npop rbp\npop rcx" },
    { name: "call, ret", source: "call 1f\nmov eax, 1\njmp 2f\n1: add rax, rbx\nret\n2: inc eax" },
    { name: "nested calls", source: "call 1f\njmp 3f\n1: push rbx\ncall 2f\npop rbx\nret\n2: mov rbx, [rsp + 8]\nret\n3: nop" },
    { name: "ret imm (handler)", source: "push 7\ncall 1f\njmp 2f\n1: ret 8\n2: nop" },
    { name: "jmp forward", source: "jmp 1f\nmov eax, 1\n1: mov ebx, 2" },
    { name: "loop of blocks", source: "mov ecx, 5\n1: add rax, rbx\nmov [rsi + rcx * 8], rax\ndec ecx\njnz 1b" },
    { name: "a loop longer than the budget", source: "mov ecx, 1000\n1: add rax, rbx\nxor rbx, rax\ndec ecx\njnz 1b" },
    { name: "a loop with a store and a load", source: "mov ecx, 37\n1: mov [rsi + rcx * 8], rax\nadd rax, [rdi + rcx * 4]\nsub ecx, 1\njae 1b" },
    { name: "a loop whose condition comes from a handler", source: "mov ecx, 20\n1: add rax, rbx\nbt rax, 3\nadc ecx, -2\njg 1b" },
    { name: "a loop with a side exit", source: "xor r8d, r8d\n1: add r8, 1\ncmp r8, 60\nje 2f\ncmp byte ptr [rsi + r8], 0xe0\njb 1b\n2: nop" },
    { name: "a loop with two side exits", source: "mov ecx, 50\n1: add rax, rbx\njo 2f\nsub ecx, 1\njs 3f\ncmp al, 0xf0\njb 1b\n2: inc ebx\n3: nop" },
    { name: "indirect (handler)", source: "lea rax, [rip + 1f]\njmp rax\nud2\n1: nop" },
  ];
}

function faultCases(): Case[] {
  return [
    { name: "#PF on a load mid-block", source: "add rax, rbx\nmov rcx, [r14]\nadd rax, 1" },
    { name: "#PF on a store mid-block", source: "mov rcx, rax\nsub rcx, 3\nmov [r14 + 8], rcx\nadd rax, 1" },
    { name: "#PF on an RMW mid-block", source: "cmp rax, rbx\nadd [r14], rax\nsete cl" },
    { name: "#PF on a write to a read-only page", source: "mov rcx, [r12]\nmov [r12], rax\ninc rcx" },
    { name: "#PF writing read-only with a byte store", source: "mov byte ptr [r12 + 1], 5\ninc rcx" },
    { name: "#PF on a page-crossing load", source: "lea rcx, [r14 - 4]\nmov rax, [rcx]\ninc rbx" },
    { name: "#GP non-canonical", source: "inc rax\nmov rcx, [r13]\ninc rbx" },
    { name: "#GP non-canonical store", source: "inc rax\nmov [r13 + rax], ecx\ninc rbx" },
    { name: "wild memory operands", source: "mov rcx, [rbx]\nadd [rcx + rdx], eax\ncmp dword ptr [rax], 3\nsetl cl" },
    { name: "#PF on push", source: "mov rsp, r14\nadd rax, rbx\npush rax" },
    { name: "#PF on call", source: "mov rsp, r14\ninc rax\ncall 1f\n1: nop" },
    { name: "#PF on pop and ret", source: "mov rsp, r14\npop rax" },
    { name: "#PF on ret", source: "lea rsp, [r14 + 8]\nret" },
    { name: "#SS non-canonical stack", source: "mov rsp, r13\ninc rax\npush rax" },
    { name: "ret to a non-canonical address", source: "push r13\nret" },
    { name: "#DE in a block (handler)", source: "xor edx, edx\nmov ecx, 0\ninc rax\ndiv ecx\ninc rbx" },
    { name: "#GP 64-bit imul fallback mid-block", source: "imul rax, rbx\nmov rcx, [r13]" },
    { name: "#UD mid-block", source: "inc rax\nud2" },
    { name: "#PF in a later pass of a loop", source: "mov rcx, rdi\n1: add rax, [rcx]\nadd rcx, 0x100000\ncmp rcx, r14\njb 1b" },
    { name: "#PF in a later pass of a loop, on its first instruction", source: "mov rcx, rdi\n1: mov [rcx], rax\nadd rcx, 0x100000\ncmp rcx, r14\njb 1b" },
    { name: "#PF in a later pass of a loop, after a side exit", source: "mov rcx, rdi\n1: add rcx, 0x100000\ncmp rcx, rbx\nje 2f\nadd rax, [rcx]\ncmp rcx, r14\njb 1b\n2: nop" },
  ];
}

function selfModifyingCases(): Case[] {
  return [
    {
      name: "a block patches an immediate ahead of it",
      source: "lea rax, [rip + 2f + 1]\nmov byte ptr [rax], 7\n2: mov ecx, 5\nadd ecx, 1",
      selfModifying: true,
    },
    {
      name: "a block patches its next instruction with a qword store",
      source: "lea rax, [rip + 2f]\nmov rbx, 0x9090909090909090\nmov [rax], rbx\n2: inc ecx\ninc ecx\ninc ecx\ninc ecx\ninc ecx",
      selfModifying: true,
    },
    {
      name: "an RMW on the code page",
      source: "lea rax, [rip + 2f + 2]\nadd byte ptr [rax], 1\n2: add ecx, 5\nnop",
      selfModifying: true,
    },
  ];
}

// ------------------------------------------------------------------ machines and trials

interface State {
  lo: number[];
  hi: number[];
  rip: number;
  rflags: number;
  cr2: number;
  instructions: number;
  cycles: number;
  halted: boolean;
  shutdown: string | null;
  data: Uint8Array;
  stack: Uint8Array;
}

function capture(s: Snippet, instr0: number, cycles0: number): State {
  const c = s.cpu;
  return {
    lo: [...c.lo],
    hi: [...c.hi],
    rip: c.rip,
    rflags: c.rflags,
    cr2: c.cr2,
    instructions: c.instructions - instr0,
    cycles: c.cycles - cycles0,
    halted: c.halted,
    shutdown: c.shutdown ? `${c.shutdown.vector} at ${c.shutdown.rip}` : null,
    data: s.mem.bytes.slice(DATA, DATA + DATA_BYTES),
    stack: s.mem.bytes.slice(STACK_TOP - STACK_BYTES, STACK_TOP),
  };
}

/**
 * A machine for one side of the comparison, with the read-only view at RO_VA, and two
 * pages each side of the 4 GB line and of its negative mirror (-4 GB, high half -1 and -2),
 * over DATA + 0x2000, for stack arithmetic that carries between the halves.
 */
function machine(user: boolean): Snippet {
  const s = snippet("nop", { user });
  s.pt.map(RO_VA, DATA + 0x3000, 4096, { write: false, user });
  s.pt.map(FOUR_GB - 0x1000, DATA + 0x2000, 0x2000, { write: true, user });
  s.pt.map(-FOUR_GB - 0x1000, DATA + 0x2000, 0x2000, { write: true, user });
  return s;
}
const FOUR_GB = 0x100000000;

interface Trial {
  regs: bigint[];
  rflags: number;
  data: Uint8Array;
  flushTlb: boolean;
}

/** Random bytes the trials' data pages are cut from. */
const POOL = (() => {
  const rng = new Rng(99);
  const out = new Uint8Array(0x10000);
  for (let b = 0; b < out.length; b += 4) new DataView(out.buffer).setUint32(b, rng.u32(), true);
  return out;
})();

function makeTrial(rng: Rng, k: number): Trial {
  const regs: bigint[] = [];
  for (let r = 0; r < 16; r++) regs.push(value64(rng));
  const small = (n: number) => BigInt(n);
  regs[1] = rng.chance(0.5) ? small(rng.int(40)) : regs[1]; // rcx: sometimes a small count
  regs[4] = small(STACK_TOP - 0x400 - 8 * rng.int(32) - (rng.chance(0.2) ? rng.int(8) : 0)); // rsp
  regs[5] = small(DATA + 0x2000 - 1 - rng.int(9)); // rbp: at a page end, accesses cross it
  regs[6] = small(DATA + 0x100 + rng.int(0xd00)); // rsi
  regs[7] = small(DATA + 0x1000 + rng.int(0xe00)); // rdi
  regs[9] = BigInt.asUintN(64, small(rng.int(64) - 16)); // r9: a small index
  regs[12] = small(RO_VA + rng.int(0xff0)); // r12: read-only
  regs[14] = small(UNMAPPED + rng.int(0x1000)); // r14: unmapped
  // r13 stays wild (mostly non-canonical).
  const off = 4 * rng.int((POOL.length - DATA_BYTES) / 4);
  const data = POOL.subarray(off, off + DATA_BYTES);
  const arith = 0x8d5; // CF PF AF ZF SF OF
  return { regs, rflags: (rng.u32() & arith) | 2, data, flushTlb: k % 3 === 0 };
}

function start(s: Snippet, t: Trial, code: Uint8Array | null): void {
  const c = s.cpu;
  if (code) {
    s.mem.load(CODE, new Uint8Array(4096).fill(0xf4));
    s.mem.load(CODE, code);
  }
  for (let r = 0; r < 16; r++) {
    c.lo[r] = Number(t.regs[r] & 0xffffffffn) | 0;
    c.hi[r] = Number(t.regs[r] >> 32n) | 0;
  }
  c.rflags = t.rflags;
  c.rip = CODE;
  c.cr2 = 0;
  c.halted = false;
  c.shutdown = null;
  s.mem.load(DATA, t.data);
  s.mem.load(STACK_TOP - STACK_BYTES, new Uint8Array(STACK_BYTES));
  if (t.flushTlb) c.flushTlb(true);
}

const MAX_STEPS = 400;

/** Runs `cases` on a handler machine and a generated-code machine; returns the first differences found. */
function compare(cases: Case[], trials: number, seed: number, user = false): string[] {
  const rng = new Rng(seed);
  const a = machine(user), b = machine(user);
  const problems: string[] = [];
  for (const cs of cases) {
    const code = assemble(cs.source + "\nhlt");
    for (let k = 0; k < trials && problems.length < 10; k++) {
      const t = makeTrial(rng, k);
      const load = k === 0 || !!cs.selfModifying;
      // Handlers, one instruction at a time.
      configureBlocks({ codegen: false });
      start(a, t, load ? code : null);
      const ai = a.cpu.instructions, ac = a.cpu.cycles;
      for (let n = 0; n < MAX_STEPS && !a.cpu.halted && !a.cpu.shutdown; n++) a.cpu.step();
      const sa = capture(a, ai, ac);
      // Blocks compiled before their first run.
      configureBlocks({ codegen: true, hot: 0 });
      start(b, t, load ? code : null);
      const bi = b.cpu.instructions, bc = b.cpu.cycles;
      // Budgets of every size: blocks (and passes of a looping block) must stop exactly at them.
      const slice = k % 2 === 0 ? MAX_STEPS : 1 + rng.int(40);
      while (b.cpu.instructions - bi < MAX_STEPS && !b.cpu.halted && !b.cpu.shutdown) {
        b.cpu.run(Math.min(slice, MAX_STEPS - (b.cpu.instructions - bi)));
      }
      const sb = capture(b, bi, bc);
      const diff = describeDiff(sa, sb);
      if (diff) {
        const regs = t.regs.map((v, r) => `r${r}=0x${v.toString(16)}`).join(" ");
        problems.push(`${cs.name} (trial ${k}, tlb ${t.flushTlb ? "cold" : "warm"}, rflags 0x${t.rflags.toString(16)}): ${diff}\n    ${regs}`);
      }
    }
  }
  configureBlocks({ codegen: true, hot: 16 });
  return problems;
}

function describeDiff(a: State, b: State): string | null {
  const out: string[] = [];
  for (let r = 0; r < 16; r++) {
    if (a.lo[r] !== b.lo[r] || a.hi[r] !== b.hi[r]) out.push(`r${r}: steps ${hex(a.hi[r], a.lo[r])}, blocks ${hex(b.hi[r], b.lo[r])}`);
  }
  for (const key of ["rip", "rflags", "cr2", "instructions", "cycles", "halted", "shutdown"] as const) {
    if (a[key] !== b[key]) out.push(`${key}: steps ${String(a[key])}, blocks ${String(b[key])}`);
  }
  for (const key of ["data", "stack"] as const) {
    const x = a[key], y = b[key];
    if (Buffer.compare(x, y) === 0) continue;
    let k = 0;
    while (x[k] === y[k]) k++;
    out.push(`${key}+0x${k.toString(16)}: steps ${x[k]}, blocks ${y[k]}`);
  }
  return out.length ? out.join("; ") : null;
}

function hex(hi: number, lo: number): string {
  return "0x" + (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

// ------------------------------------------------------------------ tests

describe("generated block code against the handlers", () => {
  const all = () => [...flagCases(), ...moveCases(), ...stackAndControlCases(), ...faultCases(), ...selfModifyingCases()];

  beforeAll(() => {
    configureBlocks({ codegen: true, hot: 16, jit: true, maxLength: 32 });
  });

  it("the snippets exercise every emitter of jit.ts", () => {
    const covered = new Set<string>();
    for (const cs of all()) {
      const bytes = assemble(cs.source + "\nhlt");
      for (let p = 0; p < bytes.length; ) {
        const i = decode(bytes, p, bytes.length);
        if (i.entry && canEmit(i, false)) covered.add(i.entry.exec);
        p += i.len;
      }
    }
    expect(Object.keys(EMITTERS).filter((e) => !covered.has(e))).toEqual([]);
  });

  it("flag producers of every size, then every condition in the same block", () => {
    expect(compare(flagCases(), 24, 1)).toEqual([]);
  }, 120_000);

  it("moves, loads, stores, LEA, sign extension, NOT, NOPs", () => {
    expect(compare(moveCases(), 24, 2)).toEqual([]);
  }, 60_000);

  it("stack, calls, returns and jumps", () => {
    expect(compare(stackAndControlCases(), 40, 3)).toEqual([]);
  }, 60_000);

  it("faults in the middle of a block: RIP, registers, counts and the exception frame", () => {
    expect(compare(faultCases(), 40, 4)).toEqual([]);
  }, 60_000);

  it("a block that writes its own code stops, and the new code runs", () => {
    expect(compare(selfModifyingCases(), 12, 5)).toEqual([]);
  });

  it("at CPL 3 (the TLB's user rights)", () => {
    const some = [...flagCases().filter((_, k) => k % 7 === 0), ...moveCases(), ...stackAndControlCases().slice(0, 5), ...faultCases().slice(0, 6)];
    expect(compare(some, 8, 6, true)).toEqual([]);
  }, 60_000);

  it("handler calls only (inline code off) agree too", () => {
    configureBlocks({ jit: false });
    try {
      expect(compare([...moveCases().slice(0, 5), ...faultCases().slice(0, 4)], 8, 7)).toEqual([]);
    } finally {
      configureBlocks({ jit: true });
    }
  });
});

describe("decoding a block ahead", () => {
  // Code at the end of a page whose next page is not mapped: building a block decodes
  // ahead, and must not fetch (translate) the next page for an instruction that may never
  // run: that would raise a fetch #PF (and set CR2) for the instruction that really ran.
  const VA = 0x2000000; // outside the snippet machine's identity map; VA + 4096 is not mapped
  function atPageEnd(source: string, setup: (s: Snippet) => void = () => {}) {
    const s = snippet("nop");
    const code = assemble(source);
    const pa = s.allocPage();
    s.pt.map(VA, pa, 4096, { write: false, exec: true });
    const start = VA + 4096 - code.length;
    s.mem.load(pa + 4096 - code.length, code);
    s.cpu.rip = start;
    setup(s);
    return { s, start };
  }
  for (const hot of [16, 0]) {
    it(`a taken forward branch faults at its target, not at the block start (hot ${hot})`, () => {
      configureBlocks({ hot });
      try {
        // cut-off: the first 5 bytes of a 10-byte MOV, whose end (and the branch target, 2:) is on the next page.
        const { s } = atPageEnd(`cmp eax, eax\nje 2f\n.byte 0x48, 0xb8, 1, 2, 3\n2:`);
        s.run(5);
        expect(s.faultVector()).toBe(14);
        expect(s.faultRip()).toBe(VA + 4096);
        expect(s.cpu.cr2).toBe(VA + 4096);
      } finally {
        configureBlocks({ hot: 16 });
      }
    });

    it(`a faulting load reports its own fault, not the fetch of a cut-off instruction after it (hot ${hot})`, () => {
      configureBlocks({ hot });
      try {
        const { s, start } = atPageEnd(`mov rcx, [r14]\n.byte 0x48, 0xb8, 1, 2, 3`, (s) => s.cpu.setReg64(14, UNMAPPED + 8));
        s.run(5);
        expect(s.faultVector()).toBe(14);
        expect(s.cpu.cr2).toBe(UNMAPPED + 8);
        expect(s.faultError()).toBe(0); // not present, read, supervisor, not a fetch
        expect(s.faultRip()).toBe(start);
      } finally {
        configureBlocks({ hot: 16 });
      }
    });
  }
});
