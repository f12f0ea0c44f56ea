// Interpreter speed: MIPS on CPU-bound programs (bench/programs), compiled at -O2 and
// run on one vCPU of the bare machine. A benchmark, not a test: it prints, it asserts
// nothing. Run: npm run bench [-- --opt O0] [-- --repeat 3]
// LVD_JIT=0 npm run bench: blocks compiled to handler calls only (no inline code, jit.ts);
// LVD_JIT=off: blocks interpreted (no code generation at all).

import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { BareMachine } from "../src/machine/bare.ts";
import { parseElf } from "../src/machine/elf.ts";
import { bareProgramObjects } from "../src/cli/compile.ts";
import { configureBlocks } from "../src/machine/cpu/blocks.ts";
import { machineSpeed } from "./calibrate.ts";

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : dflt;
};
const opt = flag("--opt", "O2");
// LVD_JIT=0: compiled blocks call every handler (no inline code); LVD_JIT=off: no compiled blocks at all.
if (process.env.LVD_JIT === "0") configureBlocks({ jit: false });
else if (process.env.LVD_JIT === "off") configureBlocks({ codegen: false });
const repeat = Number(flag("--repeat", "3"));
const dir = join(dirname(fileURLToPath(import.meta.url)), "programs");

const mode = process.env.LVD_JIT === "0" ? ", handler calls only" : process.env.LVD_JIT === "off" ? ", no compiled blocks" : "";
console.log(`MIPS of the interpreter, ${opt}, best of ${repeat} runs, one vCPU${mode}`);
let totalInstructions = 0, totalSeconds = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".c")).sort()) {
  const objects = bareProgramObjects(join(dir, name), opt).map((o) => parseElf(o.bytes, o.name));
  let best = Infinity, instructions = 0, output = "";
  for (let r = 0; r < repeat; r++) {
    const m = new BareMachine(objects);
    const t = performance.now();
    const res = m.run();
    const s = (performance.now() - t) / 1000;
    if (res.fault || res.status !== 0) throw new Error(`${name}: ${res.fault ?? `exit status ${res.status}`}`);
    best = Math.min(best, s);
    instructions = res.instructions;
    output = res.output.trim();
  }
  totalInstructions += instructions;
  totalSeconds += best;
  console.log(`${name.padEnd(10)} ${(instructions / 1e6).toFixed(1).padStart(7)} M instr  ${best.toFixed(2).padStart(6)} s  ${(instructions / best / 1e6).toFixed(1).padStart(6)} MIPS   (${output})`);
}
console.log(`overall    ${(totalInstructions / 1e6).toFixed(1).padStart(7)} M instr  ${totalSeconds.toFixed(2).padStart(6)} s  ${(totalInstructions / totalSeconds / 1e6).toFixed(1).padStart(6)} MIPS`);
console.log(`machine speed: ${machineSpeed().toFixed(0)} M loop iterations/s (bench/calibrate.ts: compare MIPS between runs at similar speeds)`);
