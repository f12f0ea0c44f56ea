// `lvd boot --cpus 4`: boot the kernel, run its self-test workload natively, late-launch
// the hypervisor, run the workload again in VMX non-root mode, print the exits by reason,
// shut down. The kernel log goes to stdout as it is written.

import { Machine } from "../machine/machine.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { bootDemo } from "../kernel/boot-demo.ts";

export interface BootOptions {
  cpus: number;
  seed: number;
  memoryMb: number;
  threads: number;
  chunks: number;
  rounds: number;
  tick: number;
  launch: boolean;
}

export function boot(o: BootOptions): number {
  const machine = new Machine({ cpus: o.cpus, memoryBytes: o.memoryMb << 20, seed: o.seed });
  let same = false;
  const k = bootKernel(machine, function* (k) {
    same = yield* bootDemo(k, o);
  }, { tickCycles: o.tick });
  k.console.onLine = (_line, text) => process.stdout.write(text + "\n");
  const started = performance.now();
  const run = machine.run();
  const seconds = (performance.now() - started) / 1000;
  const cycles = Math.max(...machine.cpus.map((c) => c.cycles));
  process.stderr.write(`machine: ${run.instructions} instructions, ${cycles} cycles, ${seconds.toFixed(2)} s host time\n`);
  if (run.stop !== "exit") {
    process.stderr.write(`lvd: the kernel did not shut down cleanly (${run.stop})\n`);
    return 2;
  }
  return same ? 0 : 1;
}
