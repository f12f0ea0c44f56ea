// A/B comparison of block configurations (blocks.ts configureBlocks) on the benchmark
// programs, for a machine whose speed drifts: each configuration runs in a fresh process,
// the configurations alternate, and the median and best of N runs are reported, with a
// fixed pure-JS loop timed alongside to show the machine's speed at the time.
// Run: npx tsx bench/ab.ts [--runs 5] [--programs fib,sieve] '{"sideExits":"none"}' '{}'
// (each argument is a JSON configuration; '{}' is the default; "jit":false and
// "codegen":false are the handler-call and interpreted baselines). An argument
// "DIR:{...}" runs DIR/bench/one.ts instead: another checkout of the project, for
// comparing versions of the code.

import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { machineSpeed } from "./calibrate.ts";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const k = args.indexOf(name);
  if (k < 0) return dflt;
  const v = args[k + 1];
  args.splice(k, 2);
  return v;
};
const runs = Number(opt("--runs", "5"));
const programs = opt("--programs", readdirSync(join(here, "programs")).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).join(","))
  .split(",");
const configs = args.length ? args : ["{}"];

const results = new Map<string, Map<string, number[]>>();
for (const c of configs) results.set(c, new Map(programs.map((p) => [p, []])));
const calib: number[] = [];
for (let r = 0; r < runs; r++) {
  calib.push(machineSpeed(1));
  for (const c of configs) {
    for (const p of programs) {
      const colon = c.indexOf(":{");
      const script = colon > 0 ? join(c.slice(0, colon), "bench", "one.ts") : join(here, "one.ts");
      const out = execFileSync(process.execPath, ["--import", "tsx", script, p], {
        env: { ...process.env, LVD_BLOCKS: colon > 0 ? c.slice(colon + 1) : c },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const m = /([\d.]+) MIPS/.exec(out);
      if (!m) throw new Error(`no result for ${p} with ${c}: ${out}`);
      results.get(c)!.get(p)!.push(Number(m[1]));
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`machine speed: ${calib.map((x) => x.toFixed(0)).join(" ")} M loop iterations/s`);
console.log(`${"config".padEnd(32)} ${programs.map((p) => p.padStart(16)).join("")}   (median / best MIPS of ${runs})`);
for (const c of configs) {
  const row = programs.map((p) => {
    const xs = results.get(c)!.get(p)!;
    return `${median(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)}`.padStart(16);
  });
  console.log(`${c.padEnd(32)} ${row.join("")}`);
}
