import { describe, it, expect } from "vitest";
import { runKernel } from "../helpers/kernel.ts";
import { workload } from "../../src/kernel/selftest.ts";
import { lateLaunch } from "../../src/kernel/late-launch.ts";
import { table2, type Table2Row } from "../../src/kernel/tables/table2.ts";
import { COSTS } from "../../src/machine/cost.ts";

/** The log without timestamps and without the lines that name the phase. */
function behaviour(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith("work/")).sort();
}

describe("late launch: the kernel continues as a guest without noticing", () => {
  it("the same workload gives the same console output and results before and after the launch, on 4 vCPUs", () => {
    const before: string[] = [];
    const after: string[] = [];
    let same = false;
    const r = runKernel(function* (k) {
      const o = { threads: 8, chunks: 3, rounds: 20_000, verbose: true };
      const a = yield* workload(k, o);
      before.push(...behaviour(k.console.lines.map((l) => l.text)));
      const mark = k.console.lines.length;
      yield* lateLaunch(k);
      const b = yield* workload(k, o);
      after.push(...behaviour(k.console.lines.slice(mark).map((l) => l.text)));
      same = a.values.join() === b.values.join();
    }, { cpus: 4 });
    expect(r.run.stop).toBe("exit");
    expect(same).toBe(true);
    // Which vCPUs ran a thread's chunks may differ; what each thread computed may not.
    const strip = (l: string) => l.replace(/ on vCPU\(s\) [0-9,]+$/, "");
    expect(after.map(strip)).toEqual(before.map(strip));
    expect(before).toHaveLength(8);
    for (const c of r.machine.cpus) expect(c.vmx?.nonRoot).toBe(true);
    expect(r.k.hypervisor!.incidents).toEqual([]);
    expect(r.k.stats.oopses).toBe(0);
  });

  it("a boot with and without the hypervisor prints the same workload lines", () => {
    const go = (launch: boolean) => runKernel(function* (k) {
      if (launch) yield* lateLaunch(k);
      yield* workload(k, { threads: 4, chunks: 2, rounds: 10_000, verbose: true });
    }, { cpus: 2 });
    const strip = (r: ReturnType<typeof go>) => behaviour(r.log).map((l) => l.replace(/ on vCPU\(s\) [0-9,]+$/, ""));
    expect(strip(go(true))).toEqual(strip(go(false)));
  });

  it("the console's port I/O exits and is emulated: the output still reaches port 0xE9", () => {
    const r = runKernel(function* (k) {
      yield* lateLaunch(k);
      k.log("written by a guest");
    });
    expect(r.console).toContain("written by a guest");
    expect(r.k.hypervisor!.exitCounts().get("IO_INSTRUCTION")).toBeGreaterThan(0);
  });

  it("a kernel thread touching the hypervisor's memory is stopped by an upcall (EPT violation), the kernel goes on", () => {
    const r = runKernel(function* (k) {
      yield* lateLaunch(k);
      const poolPa = k.hypervisorPool.base;
      const t = k.spawn("intruder", function* () {
        k.log("reading the hypervisor's memory");
        k.mem.read64(-0x778000000000 + poolPa); // through the direct map: EPT_K does not map it
      });
      yield* k.join(t);
      k.log("kernel still running");
    });
    expect(r.run.stop).toBe("exit");
    const bug = r.log.find((l) => l.startsWith("BUG: hypervisor upcall"));
    expect(bug).toMatch(/EPT violation/);
    expect(bug).toMatch(/killed intruder/);
    expect(r.log).toContain("kernel still running");
  });
});

describe("Table 2: sensitive instructions natively and under the hypervisor", () => {
  let rows: Table2Row[] = [];
  runKernel(function* (k) {
    rows = yield* table2(k);
  });
  const row = (name: string) => rows.find((r) => r.name === name)!;

  it("natively each costs its primitive (plus nothing else once the loop is subtracted)", () => {
    expect(row("write MSR").native).toBe(COSTS.wrmsr);
    expect(row("OUT").native).toBe(COSTS.io);
    expect(row("write CR3").native).toBe(COSTS.cr3);
  });

  it("WRMSR and OUT exit once each, and cost at least the exit round trip more", () => {
    for (const name of ["write MSR", "OUT"]) {
      expect(row(name).exits).toBeCloseTo(1, 1);
      expect(row(name).virtualized - row(name).native).toBeGreaterThan(COSTS.vmexit + COSTS.vmentry);
    }
  });

  it("MOV to CR3 of a target does not exit (its small overhead is EPT walks); five rotating values always miss", () => {
    expect(row("write CR3").exits).toBeLessThan(0.05);
    expect(row("write CR3").virtualized).toBeLessThan(row("write CR3").native + 50);
    expect(row("write CR3, not a target").exits).toBeCloseTo(1, 1);
  });
});
