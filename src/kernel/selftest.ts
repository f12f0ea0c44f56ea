// The kernel's self-test workload: threads that run CPU-bound machine code in chunks
// (arch/selftest.S), log their progress, and sum their results. What `lvd boot` runs
// before and after the late launch, and what the tests compare: the same seeds give the
// same results whichever vCPU runs which chunk and wherever preemption lands.

import type { Kernel } from "./kernel.ts";
import { call, type KernelPath } from "./thread.ts";

/** The xorshift64 chain of arch/selftest.S (lvd_work), in TypeScript: the reference for results computed by guest code. */
export function xorshift(seed: bigint, rounds: number): bigint {
  const m = (1n << 64n) - 1n;
  let x = seed;
  for (let i = 0; i < rounds; i++) {
    x ^= (x << 13n) & m;
    x ^= x >> 7n;
    x ^= (x << 17n) & m;
  }
  return x;
}

export interface WorkloadOptions {
  threads: number;
  /** Chunks per thread and xorshift rounds per chunk. */
  chunks: number;
  rounds: number;
  /** Log a line for each thread when it finishes. */
  verbose?: boolean;
}

export interface WorkloadResult {
  /** Final value of each thread, by thread index. */
  values: bigint[];
  /** vCPUs each thread ran chunks on. */
  cpus: Set<number>[];
}

export function* workload(k: Kernel, o: WorkloadOptions): KernelPath<WorkloadResult> {
  const values: bigint[] = new Array(o.threads).fill(0n);
  const cpus = values.map(() => new Set<number>());
  const threads = [];
  for (let i = 0; i < o.threads; i++) {
    threads.push(k.spawn(`work/${i}`, function* () {
      let x = BigInt(i + 1);
      for (let c = 0; c < o.chunks; c++) {
        cpus[i].add(k.cpu.id);
        yield* call(k.symbols.lvd_work, x, o.rounds);
        x = k.rax64();
      }
      values[i] = x;
      if (o.verbose) k.log(`work/${i}: ${values[i].toString(16).padStart(16, "0")} after ${o.chunks} chunks on vCPU(s) ${[...cpus[i]].join(",")}`);
    }));
  }
  for (const t of threads) yield* k.join(t);
  return { values, cpus };
}
