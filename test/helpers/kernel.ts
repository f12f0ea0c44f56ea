// Boots the kernel on a fresh machine, runs `main` as its first thread's work, and
// returns what happened.

import { Machine, type MachineRun } from "../../src/machine/machine.ts";
import { bootKernel } from "../../src/kernel/boot/boot.ts";
import type { Kernel, KernelConfig } from "../../src/kernel/kernel.ts";
import type { KernelPath } from "../../src/kernel/thread.ts";
import { parseElf, type ElfFile } from "../../src/machine/elf.ts";
import { moduleObjects } from "../../src/cli/compile.ts";

export interface KernelRun {
  machine: Machine;
  k: Kernel;
  run: MachineRun;
  /** The log lines' texts. */
  log: string[];
  /** What reached the console port. */
  console: string;
}

export function runKernel(
  main: (k: Kernel) => KernelPath,
  opts: { cpus?: number; seed?: number; memoryMb?: number; budget?: number } & KernelConfig = {},
): KernelRun {
  const machine = new Machine({ cpus: opts.cpus ?? 1, memoryBytes: (opts.memoryMb ?? 64) << 20, seed: opts.seed ?? 1 });
  const k = bootKernel(machine, main, { tickCycles: opts.tickCycles ?? 50_000, ...opts });
  const run = machine.run(opts.budget ?? 200_000_000);
  return { machine, k, run, log: k.console.lines.map((l) => l.text), console: machine.console.text() };
}

const cache = new Map<string, ElfFile[]>();
/** A C file under drivers/ compiled as a module (cached per test run). */
export function moduleFromC(path: string): ElfFile[] {
  let objs = cache.get(path);
  if (!objs) {
    objs = moduleObjects(path).map((o) => parseElf(o.bytes, o.name));
    cache.set(path, objs);
  }
  return objs;
}

/** The xorshift64 chain of arch/selftest.S, in TypeScript: the reference for workload results. */
export { xorshift } from "../../src/kernel/selftest.ts";
