// Domains with interrupts on and several threads: interrupts land inside domains and are
// handled without a VM exit; threads switch only back in the kernel (no context switch
// inside an LVD); a thread that would block inside a crossing is refused, not switched.

import { describe, it, expect } from "vitest";
import { runLvd, domainFromC } from "../helpers/lvd.ts";
import { xorshift } from "../helpers/kernel.ts";
import { KIND, header } from "../../src/kernel/lvd/lvd.ts";
import type { Domain } from "../../src/kernel/lvd/domain.ts";

const SPIN = "drivers/tests/domain_spin.c";
const spin = (seed: number, rounds: number) => [header(KIND.RPC_PTR, 0, 3), BigInt(seed), BigInt(rounds)];

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

  it("a kernel call that would block inside a crossing is refused: the domain gets an error, the thread and the kernel go on", () => {
    let reply = 0n;
    const r = runLvd(function* (k, lvd) {
      const d: Domain = (yield* lvd.create("spin", domainFromC(SPIN))).domain;
      lvd.rpc.set(d, function* (_d, w) {
        yield* k.scheduler.sleep(10_000); // would switch threads with the domain's crossing in progress
        return [header(KIND.REPLY, 0, 2), w[1]];
      });
      reply = (yield* lvd.call(d, [header(KIND.RPC_PTR, 1, 3), 7n, 100n]))[1];
      // Outside any crossing the same thread may sleep.
      yield* k.scheduler.sleep(10_000);
    });
    expect(r.run.stop).toBe("exit");
    expect(reply).toBe(BigInt.asUintN(64, -1n));
    expect(r.log.some((l) => /the kernel could not serve its call: .* would block inside a domain crossing/.test(l))).toBe(true);
    expect(r.k.stats.oopses).toBe(0);
  });
});
