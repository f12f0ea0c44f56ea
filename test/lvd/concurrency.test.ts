// Domains with interrupts on and several threads: interrupts land inside domains and are
// handled without a VM exit; preemption switches threads only back in the kernel (no
// context switch inside an LVD); and, beyond the paper, a thread may block in the kernel
// while its domain waits in the springboard: it takes its crossings' state with it and
// resumes on its vCPU, while other threads there use the same domain on other stacks.

import { describe, it, expect } from "vitest";
import { runLvd, domainFromC } from "../helpers/lvd.ts";
import { xorshift } from "../helpers/kernel.ts";
import { KIND, header } from "../../src/kernel/lvd/lvd.ts";
import type { Domain } from "../../src/kernel/lvd/domain.ts";

const SPIN = "drivers/bench/interrupt_spin.c";
const spin = (seed: number, rounds: number) => [header(KIND.RPC_PTR, 1, 3), BigInt(seed), BigInt(rounds)];

describe("concurrency: interrupts inside domains, threads around them", () => {
  it("threads on one vCPU take turns in a domain under timer preemption; the switches happen only back in the kernel", () => {
    const results: bigint[][] = [[], []];
    let switchesInside = 0;
    const r = runLvd(function* (k, lvd) {
      const d: Domain = (yield* lvd.create("spin", domainFromC(SPIN))).domain;
      const schedule = k.scheduler.schedule.bind(k.scheduler);
      k.scheduler.schedule = function* () {
        if (lvd.busy()) switchesInside++;
        yield* schedule();
      };
      const threads = [0, 1].map((i) => k.spawn(`caller${i}`, function* () {
        for (let n = 0; n < 12; n++) results[i].push((yield* lvd.call(d, spin(i * 100 + n + 1, 4000)))[1]);
      }));
      for (const t of threads) yield* k.join(t);
    }, { cpus: 1, tickCycles: 15_000, slice: 1 });
    expect(r.run.stop).toBe("exit");
    for (let i = 0; i < 2; i++) {
      expect(results[i]).toEqual(Array.from({ length: 12 }, (_, n) => xorshift(BigInt(i * 100 + n + 1), 4000)));
    }
    expect(r.k.interrupts.fromDomains).toBeGreaterThan(10);
    expect(r.k.stats.preemptions).toBeGreaterThan(2);
    expect(switchesInside).toBe(0);
  });

  it("the same domain on 4 vCPUs with interrupts on: every result right, interrupts handled inside it on every vCPU", () => {
    const results: bigint[] = [];
    const r = runLvd(function* (k, lvd) {
      const d: Domain = (yield* lvd.create("spin", domainFromC(SPIN))).domain;
      const threads = k.percpus.map((pc) => k.spawn(`caller/${pc.id}`, function* () {
        for (let n = 0; n < 6; n++) results.push((yield* lvd.call(d, spin(pc.id * 10 + n + 1, 5000)))[1]);
      }, pc.id));
      for (const t of threads) yield* k.join(t);
    }, { cpus: 4, tickCycles: 20_000 });
    expect(r.run.stop).toBe("exit");
    const expected = [0, 1, 2, 3].flatMap((c) => Array.from({ length: 6 }, (_, n) => xorshift(BigInt(c * 10 + n + 1), 5000)));
    expect([...results].sort()).toEqual([...expected].sort());
    expect(r.k.interrupts.fromDomains).toBeGreaterThan(20);
    expect(r.k.stats.oopses).toBe(0);
  });

  it("beyond the paper: a thread blocks in the kernel inside a crossing while other threads on its vCPU run the same domain, and resumes on that vCPU", () => {
    const results = new Map<string, bigint>();
    const events: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const r = runLvd(function* (k, lvd) {
      const d: Domain = (yield* lvd.create("spin", domainFromC(SPIN))).domain;
      // The domain's RPC 0 to the kernel: sleep (a thread switch with the domain waiting in the springboard), then answer x + 1.
      lvd.rpc.set(d, function* (_d, w) {
        inside++;
        maxInside = Math.max(maxInside, inside);
        events.push(`${k.current().name} blocks in ${_d.name}`);
        yield* k.scheduler.sleep(30_000);
        events.push(`${k.current().name} resumes on vCPU ${k.cpu.id}`);
        inside--;
        return [header(KIND.REPLY, 0, 2), w[1] + 1n];
      });
      const threads = ["a", "b", "c"].map((name, i) => k.spawn(name, function* () {
        for (let n = 0; n < 3; n++) {
          const reply = yield* lvd.call(d, [header(KIND.RPC_PTR, 2, 3), BigInt(10 * i + n + 1), 2000n]);
          results.set(`${name}${n}/call`, reply[1]);
          results.set(`${name}${n}/seed`, reply[2]); // its stack kept it while others ran the domain
          results.set(`${name}${n}/spin`, (yield* lvd.call(d, spin(100 * i + n + 1, 3000)))[1]);
        }
      }, 1));
      for (const t of threads) yield* k.join(t);
      expect(d.nesting.every((n) => n === 0)).toBe(true);
    }, { cpus: 2 });
    expect(r.run.stop).toBe("exit");
    ["a", "b", "c"].forEach((name, i) => {
      for (let n = 0; n < 3; n++) {
        expect(results.get(`${name}${n}/call`)).toBe(xorshift(BigInt(10 * i + n + 1), 2000) + 1n);
        expect(results.get(`${name}${n}/seed`)).toBe(BigInt(10 * i + n + 1));
        expect(results.get(`${name}${n}/spin`)).toBe(xorshift(BigInt(100 * i + n + 1), 3000));
      }
    });
    expect(maxInside).toBe(3); // all three threads blocked inside the domain at once, each on its own stack of the pool
    expect(events.filter((e) => e.includes("resumes")).every((e) => e.endsWith("vCPU 1"))).toBe(true);
    expect(r.log.some((l) => /killed|could not serve/.test(l))).toBe(false);
    expect(r.k.stats.oopses).toBe(0);
  });
});
