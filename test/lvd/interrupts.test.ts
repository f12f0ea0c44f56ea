import { describe, it, expect } from "vitest";
import { runKernel, xorshift } from "../helpers/kernel.ts";
import { domainFromC } from "../helpers/lvd.ts";
import { lateLaunch } from "../../src/kernel/late-launch.ts";
import { Lvd } from "../../src/kernel/lvd/lvd.ts";
import { interruptStorm, type StormReport } from "../../src/kernel/interrupt-storm.ts";
import { workload } from "../../src/kernel/selftest.ts";
import { stormProblems } from "../../src/cli/interrupts.ts";

const SPIN = "drivers/bench/interrupt_spin.c";

/** Boots cpus vCPUs with a short tick, launches the hypervisor, starts LVD, runs the storm, then a workload to see the kernel still works. */
function storm(cpus: number, interrupts: number, tickCycles: number, seed = 1) {
  let report: StormReport | null = null;
  let after: bigint[] = [];
  const r = runKernel(function* (k) {
    yield* lateLaunch(k);
    const lvd = new Lvd(k);
    yield* lvd.start();
    report = yield* interruptStorm(k, lvd, domainFromC(SPIN), { interrupts, rounds: 300 });
    after = (yield* workload(k, { threads: 2 * cpus, chunks: 2, rounds: 2000 })).values;
  }, { cpus, tickCycles, seed });
  return { r, report: report as StormReport | null, after };
}

describe("exitless interrupts while domains run", () => {
  it("4 vCPUs in the same domain, timer ticks and IPIs: every interrupt handled, none lost, none exits; results right; the kernel intact", () => {
    const { r, report, after } = storm(4, 40_000, 4000);
    expect(r.run.stop).toBe("exit");
    expect(r.k.stats.oopses).toBe(0);
    expect(report).not.toBeNull();
    const s = report!;
    expect(s.handled).toBeGreaterThanOrEqual(40_000);
    expect(s.delivered).toBe(s.handled);
    // Most of the time is spent in the domain, so most interrupts land there.
    expect(s.fromDomains / s.delivered).toBeGreaterThan(0.5);
    expect(s.perCpu.map((c) => c.cpu)).toEqual([0, 1, 2, 3]);
    for (const c of s.perCpu) {
      expect(c.calls).toBeGreaterThan(100);
      // The periodic timer lost no tick: one per period the thread ran for (the last may be under way).
      expect(Math.abs(c.ticks - c.periods)).toBeLessThanOrEqual(1);
      for (const d of s.perCpu) {
        if (d.cpu === c.cpu) continue;
        expect(c.sent[d.cpu]).toBe(c.calls); // one IPI to each other vCPU after each call
        expect(d.received[c.cpu]).toBe(c.sent[d.cpu]);
      }
    }
    expect(s.exits.get("EXTERNAL_INTERRUPT") ?? 0).toBe(0);
    expect(s.exits.get("EXCEPTION_OR_NMI") ?? 0).toBe(0);
    // The watchdog's timer is the only exit a domain run takes.
    expect([...s.exits.keys()].filter((reason) => reason !== "PREEMPTION_TIMER")).toEqual([]);
    expect(s.wrongResults).toBe(0);
    expect(s.domainAlive).toBe(true);
    expect(stormProblems(s)).toEqual([]);
    // The kernel still runs threads and machine code correctly afterwards.
    expect(after).toEqual(Array.from({ length: 8 }, (_, i) => xorshift(xorshift(BigInt(i + 1), 2000), 2000)));
    expect([...r.k.threads.values()].filter((t) => t.name.startsWith("storm/")).every((t) => t.state === "dead" && !t.killed)).toBe(true);
  }, 30_000);

  it("2 vCPUs and a faster tick: the same accounting holds", () => {
    const { r, report } = storm(2, 15_000, 2500, 7);
    expect(r.run.stop).toBe("exit");
    expect(r.k.stats.oopses).toBe(0);
    expect(report!.fromDomains / report!.delivered).toBeGreaterThan(0.5);
    expect(stormProblems(report!)).toEqual([]);
  }, 20_000);

  it("the checker reports a lost IPI, a lost tick and an interrupt that exited", () => {
    const ok = storm(2, 2000, 4000).report!;
    expect(stormProblems(ok)).toEqual([]);
    const lostIpi: StormReport = { ...ok, perCpu: ok.perCpu.map((c) => c.cpu === 1 ? { ...c, received: c.received.map((n) => n - 1) } : c) };
    expect(stormProblems(lostIpi).join()).toMatch(/IPIs 0 -> 1: \d+ sent, \d+ received/);
    const lostTick: StormReport = { ...ok, perCpu: ok.perCpu.map((c) => ({ ...c, ticks: c.periods - 2 })) };
    expect(stormProblems(lostTick).join()).toMatch(/timer ticks in/);
    const exited: StormReport = { ...ok, exits: new Map([["EXTERNAL_INTERRUPT", 1]]) };
    expect(stormProblems(exited).join()).toMatch(/EXTERNAL_INTERRUPT exit/);
  }, 20_000);
});
