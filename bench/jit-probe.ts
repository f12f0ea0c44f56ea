// One instruction form in a loop for a fixed time (like bench/instructions.ts), for
// profiling with node --cpu-prof: npx tsx bench/jit-probe.ts "call 3f\njmp 4f\n3: ret\n4:" [seconds]
import { snippet } from "../test/helpers/snippet.ts";
const body = (process.argv[2] ?? "nop").replace(/\\n/g, "\n");
const seconds = Number(process.argv[3] ?? 3);
const s = snippet(`mov rsi, rsp\nmov ecx, 1000000000\n1:\n${Array(100).fill(body).join("\n")}\ndec ecx\njnz 1b`);
const t = performance.now();
while (performance.now() - t < seconds * 1000) s.cpu.run(1_000_000);
console.log(`${body.replace(/\n/g, "; ")}: ${(s.cpu.instructions / (performance.now() - t) / 1e3).toFixed(1)} MIPS`);
