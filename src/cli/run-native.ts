// `lvd run-native --driver mydrv.c|.o`: boot the kernel, load the driver as a native
// (non-isolated) module in a kernel thread, run its init, unload it (cleanup_module),
// shut down. The kernel log goes to stdout as it is written.

import { basename } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { ModuleError } from "../kernel/modules/loader.ts";
import { moduleObjects } from "./compile.ts";

export interface RunNativeOptions {
  cpus: number;
  seed: number;
  opt: string;
  memoryMb: number;
  maxInstructions: number;
}

export function runNative(driver: string, o: RunNativeOptions): number {
  const objects = moduleObjects(driver, o.opt).map((x) => parseElf(x.bytes, x.name)); // compile errors: before booting
  const name = basename(driver).replace(/\.(c|o)$/, "");
  const machine = new Machine({ cpus: o.cpus, memoryBytes: o.memoryMb << 20, seed: o.seed });
  let failure: string | null = null;
  const k = bootKernel(machine, function* (k) {
    const insmod = k.spawn(`insmod/${name}`, function* () {
      try {
        const { module, status } = yield* k.modules.load(name, objects);
        if (status !== 0) {
          failure = `${name}: init_module returned ${status}`;
          return;
        }
        k.log(`module ${name}: init_module returned 0`);
        yield* k.modules.unload(module);
      } catch (e) {
        if (!(e instanceof ModuleError)) throw e;
        k.log(e.message);
        failure = e.message;
      }
    });
    yield* k.join(insmod);
    if (insmod.killed) failure = `${name}: killed: ${insmod.killed}`;
  });
  return runToShutdown(machine, k, o.maxInstructions, () => failure) ?? 0;
}

/**
 * Runs the booted kernel with its log on stdout until it shuts down. The exit status
 * when something went wrong (2: no clean shutdown; 1: `failure()` has a message), else null.
 */
export function runToShutdown(machine: Machine, k: Kernel, budget: number, failure: () => string | null): number | null {
  k.console.onLine = (_line, text) => process.stdout.write(text + "\n");
  const run = machine.run(budget);
  if (run.stop !== "exit") {
    process.stderr.write(`lvd: the kernel did not shut down (${run.stop} after ${run.instructions} instructions)\n`);
    return 2;
  }
  const why = failure();
  if (why) {
    process.stderr.write(`lvd: ${why}\n`);
    return 1;
  }
  return null;
}
