// More host-CPU cases than the test runs, with a fresh (printed) seed:
//   npx tsx test/host/run-more.ts --cases 200000 [--seed S] [--filter TEXT] [--examples N] [--verbose]
// Exits 1 when any case differs from the host. Rerun a failure with the printed seed.

import { randomInt } from "node:crypto";
import { hostUnavailable } from "./native.ts";
import { runCases } from "./run.ts";
import { formatReport, formatCoverage } from "./report.ts";

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

const why = hostUnavailable();
if (why) {
  console.error(`host-cpu: cannot run: ${why}`);
  process.exit(2);
}
const seed = arg("seed") !== undefined ? Number(arg("seed")) : randomInt(2 ** 31);
const count = Number(arg("cases") ?? 200000);
const filter = arg("filter");
const examples = Number(arg("examples") ?? 2);
const CHUNK = 100000;

console.log(`host-cpu: seed ${seed}, ${count} cases${filter ? `, forms matching '${filter}'` : ""}`);
let total = 0, differ = 0;
const all: ReturnType<typeof runCases>["mismatches"] = [];
const t0 = performance.now();
// Chunks keep memory bounded; chunk k uses seed + k, so any chunk can be rerun alone.
for (let k = 0; total < count; k++) {
  const n = Math.min(CHUNK, count - total);
  const r = runCases(seed + k, n, filter);
  for (const m of r.mismatches) m.c.index += total;
  all.push(...r.mismatches);
  total += n;
  differ += r.mismatches.length;
  if (process.argv.includes("--verbose")) console.log(formatCoverage(r.cases));
  console.log(`  ${total} cases (host ${r.times.host.toFixed(0)} ms, emulator ${r.times.emulator.toFixed(0)} ms), ${differ} differ`);
}
console.log(`host-cpu: ${total} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (all.length) {
  console.log(formatReport(all, total, examples));
  process.exit(1);
}
console.log("host-cpu: no differences");
