// Runs host-CPU cases end to end (shared by test/host-cpu.test.ts and test/host/run-more.ts).

import { generateCases, type FuzzCase, type Outcome } from "./cases.ts";
import { runNative, type HostEnv } from "./native.ts";
import { Emulator } from "./emulated.ts";
import { compare, groupOf, type Group, type Mismatch } from "./report.ts";

export interface RunResult {
  cases: FuzzCase[];
  env: HostEnv;
  host: Outcome[];
  mismatches: Mismatch[];
  /** Milliseconds spent generating, on the host, and in the emulator. */
  times: { generate: number; host: number; emulator: number };
}

/**
 * `viaBlocks`: run each case through generated block code (jit.ts) rather than cpu.step();
 * `pairs`: the share of producer/consumer pair cases (generateCases' default otherwise).
 */
export function runCases(seed: number, count: number, filter?: string, opts: { viaBlocks?: boolean; pairs?: number } = {}): RunResult {
  let t = performance.now();
  const cases = generateCases(seed, count, { filter, pairs: opts.pairs });
  const generate = performance.now() - t;
  t = performance.now();
  const { env, outcomes } = runNative(cases);
  const host = performance.now() - t;
  t = performance.now();
  const emu = new Emulator(env, opts);
  const mismatches: Mismatch[] = [];
  for (let k = 0; k < cases.length; k++) {
    const lvd = emu.run(cases[k]);
    const diffs = compare(cases[k], outcomes[k], lvd);
    if (diffs.length) mismatches.push({ c: cases[k], host: outcomes[k], lvd, diffs });
  }
  return { cases, env, host: outcomes, mismatches, times: { generate, host, emulator: performance.now() - t } };
}

export function byGroup(ms: Mismatch[]): Map<Group, Mismatch[]> {
  const m = new Map<Group, Mismatch[]>();
  for (const x of ms) {
    const g = groupOf(x.c.form.entry.exec);
    const list = m.get(g) ?? [];
    list.push(x);
    m.set(g, list);
  }
  return m;
}
