// Speed of single instruction forms: a loop of 100 copies of one instruction, run on the
// snippet machine, in MIPS. For finding what to optimise; a benchmark, not a test.
// Run: npx tsx bench/instructions.ts

import { snippet } from "../test/helpers/snippet.ts";

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
];

for (const [name, body] of FORMS) {
  const s = snippet(`mov ecx, 100000\n1:\n${Array(100).fill(body).join("\n")}\ndec ecx\njnz 1b`);
  const t = performance.now();
  while (!s.cpu.halted && !s.cpu.shutdown) s.cpu.run(1_000_000);
  const secs = (performance.now() - t) / 1000;
  console.log(`${name.padEnd(20)} ${(s.cpu.instructions / secs / 1e6).toFixed(1).padStart(6)} MIPS`);
}
