// Which instruction forms run most: a histogram of executed instructions by form
// (mnemonic and operand kinds: r64, m32, imm...), on the benchmark programs or the test
// corpus, counted per decoded block. For choosing what jit.ts should generate inline, and
// how much of the execution it covers. A benchmark tool, not a test.
// Run: npx tsx bench/forms.ts [--corpus] [--opt O2] [--top 60]

import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { BareMachine } from "../src/machine/bare.ts";
import { parseElf } from "../src/machine/elf.ts";
import { bareProgramObjects } from "../src/cli/compile.ts";
import { configureBlocks, profiledBlocks } from "../src/machine/cpu/blocks.ts";
import { formatInsn } from "../src/machine/cpu/disasm.ts";
import { canEmit } from "../src/machine/cpu/jit.ts";
import type { Insn } from "../src/machine/cpu/decoder.ts";

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : dflt;
};
const opt = flag("--opt", "O2");
const top = Number(flag("--top", "60"));
const here = dirname(fileURLToPath(import.meta.url));
const dir = args.includes("--corpus") ? join(here, "../test/corpus") : join(here, "programs");

/** "add r64,m64": the mnemonic with operand kinds instead of operands. */
function form(i: Insn): string {
  const text = formatInsn(i);
  const sp = text.indexOf(" ");
  if (sp < 0) return text;
  const m = text.slice(0, sp);
  const ops = text
    .slice(sp + 1)
    .split(",")
    .map((o) => {
      const ptr = /^(BYTE|WORD|DWORD|QWORD) PTR/.exec(o);
      if (ptr) return "m" + { BYTE: 8, WORD: 16, DWORD: 32, QWORD: 64 }[ptr[1]] + (/rip/.test(o) ? "(rip)" : "");
      if (/^\[/.test(o)) return "m";
      if (/^(0x)?[0-9a-f]+$/.test(o)) return "imm";
      if (/^[re]?[a-d]x$|^[re]?(si|di|sp|bp)$|^r\d+[dwb]?$|^[a-d][lh]$|^(sil|dil|spl|bpl)$/.test(o)) {
        if (/^r\d+d$|^e/.test(o)) return "r32";
        if (/^r\d+w$|^[a-d]x$|^(si|di|sp|bp)$/.test(o)) return "r16";
        if (/^r\d+b$|^[a-d][lh]$|^(sil|dil|spl|bpl)$/.test(o)) return "r8";
        return "r64";
      }
      return o;
    });
  return `${m} ${ops.join(",")}`;
}

configureBlocks({ profile: true });
const counts = new Map<string, { n: number; inline: boolean }>();
let total = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".c")).sort()) {
  const objects = bareProgramObjects(join(dir, name), opt).map((o) => parseElf(o.bytes, o.name));
  profiledBlocks.length = 0;
  const res = new BareMachine(objects).run(200_000_000);
  if (res.fault) console.log(`${name}: ${res.fault}`);
  for (const b of profiledBlocks) {
    if (b.runs === 0) continue;
    b.insns.forEach((i, k) => {
      const key = form(i);
      const e = counts.get(key) ?? { n: 0, inline: canEmit(i, k === b.insns.length - 1) };
      e.n += b.runs;
      total += b.runs;
      counts.set(key, e);
    });
  }
}
const sorted = [...counts].sort((a, b) => b[1].n - a[1].n);
let covered = 0;
for (const [, e] of sorted) if (e.inline) covered += e.n;
console.log(`${(total / 1e6).toFixed(1)} M instructions (${opt}, ${dir}); inline forms cover ${((100 * covered) / total).toFixed(1)}%`);
let cum = 0;
for (const [key, e] of sorted.slice(0, top)) {
  cum += e.n;
  console.log(`${((100 * e.n) / total).toFixed(2).padStart(6)}%  ${((100 * cum) / total).toFixed(1).padStart(5)}%  ${e.inline ? "jit " : "    "} ${key}`);
}
