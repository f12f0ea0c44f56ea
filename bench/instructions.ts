// Speed of single instruction forms: a loop of 100 copies of one instruction, run on the
// snippet machine, in MIPS. For finding what to optimise; a benchmark, not a test.
// Each form runs for about `--seconds` (default 0.6) in slices of a million instructions,
// after a warm-up slice (compiling the blocks, the engine optimising them); the median
// slice is reported, so compilation does not count. LVD_JIT=0: generic call sites only.
// Run: npx tsx bench/instructions.ts [--seconds S]

import { snippet } from "../test/helpers/snippet.ts";
import { configureBlocks } from "../src/machine/cpu/blocks.ts";

const FORMS: [string, string][] = [
  ["nop", "nop"],
  ["mov r64, r64", "mov rax, rbx"],
  ["add r32, r32", "add eax, ebx"],
  ["mov r64, [rsp+8]", "mov rax, [rsp+8]"],
  ["mov [rsp+8], r64", "mov [rsp+8], rax"],
  ["add [rsp+8], r32", "add [rsp+8], eax"],
  ["cmp + jne", "cmp eax, ebx\njne 2f\n2:"],
  ["push + pop", "push rax\npop rax"],
  ["imul r64, r64", "imul rax, rbx"],
  ["shl r32, 3", "shl eax, 3"],
  ["movzx r32, [rsi+1]", "movzx eax, byte ptr [rsi+1]"],
  ["lea r64, [b+i*4+8]", "lea rax, [rbx+rcx*4+8]"],
  ["call + ret", "call 3f\njmp 4f\n3: ret\n4:"],
];

const args = process.argv.slice(2);
const k = args.indexOf("--seconds");
const seconds = k >= 0 ? Number(args[k + 1]) : 0.6;
if (process.env.LVD_JIT === "0") configureBlocks({ jit: false });

for (const [name, body] of FORMS) {
  const s = snippet(`mov rsi, rsp\nmov ecx, 1000000000\n1:\n${Array(100).fill(body).join("\n")}\ndec ecx\njnz 1b`);
  s.cpu.run(1_000_000); // warm-up
  const rates: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || rates.length < 3) {
    const n0 = s.cpu.instructions, t = performance.now();
    s.cpu.run(1_000_000);
    rates.push((s.cpu.instructions - n0) / (performance.now() - t) / 1e3);
  }
  rates.sort((a, b) => a - b);
  console.log(`${name.padEnd(20)} ${rates[rates.length >> 1].toFixed(1).padStart(6)} MIPS`);
}
