// Host-CPU equivalence: random single instructions (and flag producer/consumer pairs) of
// every supported integer form of the decode table, run natively by test/host/harness.c
// and on LVD's Cpu; registers, RIP, RFLAGS (the defined flags), the data page and
// exceptions must agree. See test/host/cases.ts for what is generated and compared.
//
// LVD_FUZZ_SEED and LVD_FUZZ_CASES override the fixed seed and the case count;
// LVD_FUZZ_VERBOSE=1 prints per-form coverage. More cases, with a fresh seed:
//   npx tsx test/host/run-more.ts --cases 200000 [--seed S]

import { describe, it, expect, beforeAll } from "vitest";
import { hostUnavailable } from "./host/native.ts";
import { runCases, byGroup, type RunResult } from "./host/run.ts";
import { GROUPS, groupOf, formatReport, formatCoverage } from "./host/report.ts";

const SEED = Number(process.env.LVD_FUZZ_SEED ?? 0x5eed1);
const COUNT = Number(process.env.LVD_FUZZ_CASES ?? 20000);
const VERBOSE = process.env.LVD_FUZZ_VERBOSE === "1";
const unavailable = hostUnavailable();
// Without a usable reference CPU the comparison is skipped, visibly: the x86 vendors
// differ in forms this table covers (66-prefixed near branches, F3 REX.B 90, 0F 0D with
// mod=3, some string forms), so another vendor's answers would be wrong expectations, not LVD bugs.
if (unavailable !== null) console.warn(`host CPU equivalence skipped: ${unavailable}`);

// Twice: instruction by instruction through the handlers (cpu.step()), and as blocks
// compiled before their first run, so every form jit.ts generates inline code for is
// also checked against the host. There half the cases are producer/consumer pairs, which
// then share one block: the generated code evaluates the condition from the producer's
// operands.
for (const viaBlocks of [false, true]) {
  const mode = viaBlocks ? "generated block code" : "handlers";
  describe.skipIf(unavailable !== null)(`host CPU equivalence, ${mode} (seed ${SEED}, ${COUNT} cases)`, () => {
    let run: RunResult;
    beforeAll(() => {
      run = runCases(SEED, COUNT, undefined, viaBlocks ? { viaBlocks, pairs: 0.5 } : {});
      const t = run.times;
      console.log(
        `host-cpu (${mode}): ${COUNT} cases, seed ${SEED}: generated in ${t.generate.toFixed(0)} ms, host ${t.host.toFixed(0)} ms, ` +
          `emulator ${t.emulator.toFixed(0)} ms; ${run.mismatches.length} differ`,
      );
      if (VERBOSE) console.log(formatCoverage(run.cases));
    }, 120_000);

    // One test per handler group (ops/<group>.ts): a bug in one group leaves the others green.
    it.each(GROUPS.map((g) => [g]))("%s.ts forms behave as on the host", (group) => {
      const ms = byGroup(run.mismatches).get(group) ?? [];
      const total = run.cases.filter((c) => groupOf(c.form.entry.exec) === group).length;
      if (ms.length) expect.fail(`\n${formatReport(ms, total)}\n`);
    });
  });
}

