// Several vCPUs on shared memory: they all start and run; LOCK XADD is atomic across
// vCPUs; the seed decides the interleaving (and only the interleaving), reproducibly.

import { describe, it, expect } from "vitest";
import { smp, DATA } from "../helpers/smp.ts";
import { Machine } from "../../src/machine/machine.ts";

const COUNTER = DATA;

/** Each vCPU adds 1 to COUNTER `n` times with LOCK XADD, then parks. */
const lockedLoop = (n: number) => `
    mov ecx, ${n}
  1:
    mov eax, 1
    lock xadd dword ptr [${COUNTER}], eax
    dec ecx
    jnz 1b
    cli
    hlt`;

/** The same without LOCK and in three instructions: load, add, store. */
const racyLoop = (n: number) => `
    mov ecx, ${n}
  1:
    mov eax, [${COUNTER}]
    inc eax
    mov [${COUNTER}], eax
    dec ecx
    jnz 1b
    cli
    hlt`;

function runCounter(source: string, seed: number, cpus = 2) {
  const s = smp(source, { cpus, seed, trace: true });
  const r = s.run(100_000_000);
  return { s, r, counter: s.read32(COUNTER), trace: s.m.trace!, cycles: s.m.cpus.map((c) => c.cycles) };
}

describe("vCPUs", () => {
  it.each([1, 4, 64])("%i vCPUs start and run to the end", (n) => {
    const s = smp(`lock inc dword ptr [${COUNTER}]\nmov eax, [${COUNTER}]\nmov [rdi * 4 + ${DATA + 16}], eax\ncli\nhlt`, { cpus: n, trace: true });
    expect(s.run().stop).toBe("idle");
    expect(s.read32(COUNTER)).toBe(n);
    for (let k = 0; k < n; k++) {
      expect(s.cpu(k).instructions).toBe(5);
      expect(s.read32(DATA + 16 + 4 * k)).toBeGreaterThan(0);
    }
    const seen = new Set<number>();
    for (let k = 0; k < s.m.trace!.length; k += 2) seen.add(s.m.trace![k]);
    expect(seen.size).toBe(n);
  });

  it("rejects 0 or 65 vCPUs and RAM over the APIC page", () => {
    expect(() => new Machine({ cpus: 0, memoryBytes: 1 << 20 })).toThrow();
    expect(() => new Machine({ cpus: 65, memoryBytes: 1 << 20 })).toThrow();
    expect(() => new Machine({ cpus: 1, memoryBytes: 0xfee01000 })).toThrow();
  });
});

describe("LOCK across vCPUs", () => {
  it("two vCPUs LOCK XADD a shared counter 500,000 times each: nothing is lost, whatever the seed", () => {
    const runs = [1, 2, 3].map((seed) => runCounter(lockedLoop(500_000), seed));
    for (const { r, counter } of runs) {
      expect(r.stop).toBe("idle");
      expect(counter).toBe(1_000_000);
    }
    // The seeds interleave differently.
    expect(runs[0].trace).not.toEqual(runs[1].trace);
    expect(runs[1].trace).not.toEqual(runs[2].trace);
    expect(runs[0].trace).not.toEqual(runs[2].trace);
    // The vCPUs really alternate at fine grain: many quanta, some of a single instruction.
    const t = runs[0].trace;
    expect(t.length / 2).toBeGreaterThan(10_000);
    expect(t.some((v, k) => k % 2 === 1 && v === 1)).toBe(true);
  });

  it("an unlocked load-add-store race loses updates, the same ones for the same seed", () => {
    const a = runCounter(racyLoop(100_000), 7);
    const b = runCounter(racyLoop(100_000), 7);
    expect(a.counter).toBeLessThan(200_000);
    expect(b.counter).toBe(a.counter);
    const others = [8, 9].map((seed) => runCounter(racyLoop(100_000), seed).counter);
    expect(others.some((c) => c !== a.counter)).toBe(true);
  });

  it("the same seed gives the same run, cycle for cycle", () => {
    const a = runCounter(lockedLoop(20_000), 42, 3);
    const b = runCounter(lockedLoop(20_000), 42, 3);
    expect(b.cycles).toEqual(a.cycles);
    expect(b.trace).toEqual(a.trace);
    expect(a.counter).toBe(60_000);
  });

  it("keeps the vCPUs' clocks within the window of each other", () => {
    // Unequal work per instruction: vCPU 0 divides (26 cycles), vCPU 1 adds (1 cycle).
    const s = smp(`
      test edi, edi
      jnz 2f
    1:
      mov eax, 100
      xor edx, edx
      mov ebx, 7
      div ebx
      jmp 1b
    2:
      inc eax
      jmp 2b`, { cpus: 2, window: 500, maxQuantum: 16 });
    for (let k = 0; k < 200; k++) {
      s.run(1000);
      const [c0, c1] = [s.cpu(0).cycles, s.cpu(1).cycles];
      expect(Math.abs(c0 - c1)).toBeLessThanOrEqual(500 + 16 * 26);
    }
  });
});
