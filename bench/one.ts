// Runs one bench program once (for profiling): npx tsx bench/one.ts fib [O2]
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { BareMachine } from "../src/machine/bare.ts";
import { parseElf } from "../src/machine/elf.ts";
import { bareProgramObjects } from "../src/cli/compile.ts";
import { configureBlocks } from "../src/machine/cpu/blocks.ts";

if (process.env.LVD_JIT === "0") configureBlocks({ jit: false });
if (process.env.LVD_BLOCKS) configureBlocks(JSON.parse(process.env.LVD_BLOCKS));
const name = process.argv[2] ?? "fib";
const dir = join(dirname(fileURLToPath(import.meta.url)), "programs");
const objects = bareProgramObjects(join(dir, `${name}.c`), process.argv[3] ?? "O2").map((o) => parseElf(o.bytes, o.name));
const m = new BareMachine(objects);
const t = performance.now();
const res = m.run();
const s = (performance.now() - t) / 1000;
console.log(`${name}: ${(res.instructions / 1e6).toFixed(1)} M instr, ${s.toFixed(2)} s, ${(res.instructions / s / 1e6).toFixed(1)} MIPS (${res.output.trim()})`);
