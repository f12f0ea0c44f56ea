import { describe, it, expect } from "vitest";
import { runKernel, xorshift } from "../helpers/kernel.ts";
import { workload, type WorkloadResult } from "../../src/kernel/selftest.ts";
import { call } from "../../src/kernel/thread.ts";
import { PT_REGS, IRQ_ENTRY } from "../../src/kernel/arch/frame.ts";
import { IST_COUNT, IST_EXCEPTIONS, IST_INTERRUPTS } from "../../src/kernel/arch/descriptors.ts";

describe("kernel boot and shutdown", () => {
  it("boots on one vCPU, runs main, and shuts down through the exit port", () => {
    const r = runKernel(function* (k) {
      k.log("main ran");
    });
    expect(r.run.stop).toBe("exit");
    expect(r.log).toContain("main ran");
    expect(r.log.at(-1)).toMatch(/^shutdown: done/);
    // The console thread wrote the log to port 0xE9 with REP OUTSB: same lines, in order.
    expect(r.console.trim().split("\n").map((l) => l.replace(/^\[[ 0-9.]+\] /, ""))).toEqual(r.log);
  });

  it("brings up 4 vCPUs with INIT-SIPI and stops them at shutdown", () => {
    const r = runKernel(function* () {}, { cpus: 4 });
    expect(r.run.stop).toBe("exit");
    for (const id of [1, 2, 3]) expect(r.log).toContain(`cpu${id}: online`);
    expect(r.k.percpus.every((pc) => pc.online)).toBe(true);
    expect(r.k.percpus.filter((pc) => pc.stopped).length).toBe(3);
  });

  it("keeps its sensitive state in guest memory: IDT, per-CPU GDT and TSS with IST stacks", () => {
    const r = runKernel(function* () {}, { cpus: 2 });
    for (const c of r.machine.cpus) {
      const pc = r.k.percpus[c.id];
      expect(c.idtBase).toBe(r.k.idt);
      expect(c.gdtBase).toBe(pc.gdt);
      expect(c.trSel).toBe(0x30);
      expect(c.segBase[5]).toBe(pc.area); // GS base: the per-CPU area
      expect(pc.istTops).toHaveLength(IST_COUNT);
      // Exitless entry: every vector on an IST (#DF, NMI, #MC their own; exceptions; interrupts).
      const istOfGate = (v: number) => r.k.mem.read32(r.k.idt + v * 16 + 4) & 7;
      expect([8, 2, 18, 14, 0x20, 0xff].map(istOfGate)).toEqual([1, 2, 3, IST_EXCEPTIONS, IST_INTERRUPTS, IST_INTERRUPTS]);
    }
  });

  it("a vanilla kernel (exitless: false) takes interrupts on the interrupted stack, #DF, NMI and #MC on their own", () => {
    const r = runKernel(function* (k) {
      k.cpu.rflags |= 0x200; // interrupts on while it works
      yield* call(k.symbols.lvd_work, 1, 100_000);
    }, { exitless: false });
    const istOfGate = (v: number) => r.k.mem.read32(r.k.idt + v * 16 + 4) & 7;
    expect([8, 2, 18, 14, 0x20].map(istOfGate)).toEqual([1, 2, 3, 0, 0]);
    expect(r.run.stop).toBe("exit");
    expect(r.k.interrupts.counts.get(0x20)).toBeGreaterThan(0);
  });
});

describe("threads and preemption", () => {
  it("4 vCPUs run 12 threads to the end under timer preemption, each with the right result", () => {
    let result: WorkloadResult | undefined;
    const r = runKernel(function* (k) {
      result = yield* workload(k, { threads: 12, chunks: 4, rounds: 60_000 });
    }, { cpus: 4 });
    expect(r.run.stop).toBe("exit");
    const { values, cpus } = result!;
    for (let i = 0; i < 12; i++) expect(values[i]).toBe(xorshift(BigInt(i + 1), 4 * 60_000));
    expect(r.k.stats.preemptions).toBeGreaterThan(12);
    expect(r.k.stats.threadsExited).toBe(12);
    expect(new Set(cpus.flatMap((s) => [...s])).size).toBe(4); // work ran on every vCPU
    expect(r.k.stats.oopses).toBe(0);
  });

  it("the same seed gives the same run, cycle for cycle; another seed interleaves differently", () => {
    const go = (seed: number) => runKernel(function* (k) {
      yield* workload(k, { threads: 6, chunks: 3, rounds: 20_000 });
    }, { cpus: 3, seed });
    const a = go(7), b = go(7), c = go(8);
    expect(a.machine.cpus.map((x) => x.cycles)).toEqual(b.machine.cpus.map((x) => x.cycles));
    expect(a.console).toBe(b.console);
    expect(a.machine.cpus.map((x) => x.cycles)).not.toEqual(c.machine.cpus.map((x) => x.cycles));
  });

  it("sleeping threads wake after their time, blocked joiners when the thread ends", () => {
    const order: string[] = [];
    runKernel(function* (k) {
      const long = k.spawn("long", function* () {
        yield* k.scheduler.sleep(400_000);
        order.push("long");
      });
      const short = k.spawn("short", function* () {
        yield* k.scheduler.sleep(100_000);
        order.push("short");
      });
      yield* k.join(long);
      yield* k.join(short);
      order.push("joined");
    }, { cpus: 2 });
    expect(order).toEqual(["short", "long", "joined"]);
  });

  it("deferred work runs later in the vCPU's worker thread with interrupts on", () => {
    let ran = -1, ifOn = false;
    const r = runKernel(function* (k) {
      k.interrupts.defer(function* () {
        ran = k.cpu.id;
        ifOn = (k.cpu.rflags & 0x200) !== 0;
        yield* call(k.symbols.lvd_work, 1, 10);
      });
      yield* k.scheduler.sleep(200_000);
    });
    expect(r.run.stop).toBe("exit");
    expect(ran).toBe(0);
    expect(ifOn).toBe(true);
  });

  it("interrupt frames have the PT_REGS layout: the saved RIP is where the thread was", () => {
    let seen = 0;
    runKernel(function* (k) {
      k.interrupts.request(0x40, () => {
        const frame = k.cpu.rsp + IRQ_ENTRY.regs;
        seen = k.mem.read64(frame + PT_REGS.vector);
        k.lapic.eoi();
      });
      k.lapic.sendIpi(0, 0x40);
      yield* call(k.symbols.lvd_work, 1, 1000);
    });
    expect(seen).toBe(0x40);
  });
});
