// `lvd run-native --driver mydrv.c|.o`: boot the kernel, load the driver as a native
// (non-isolated) module in a kernel thread, run its init, unload it (cleanup_module),
// shut down. The kernel log goes to stdout as it is written.

import { basename } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
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
  k.console.onLine = (_line, text) => process.stdout.write(text + "\n");
  const run = machine.run(o.maxInstructions);
  if (run.stop !== "exit") {
    process.stderr.write(`lvd: the kernel did not shut down (${run.stop} after ${run.instructions} instructions)\n`);
    return 2;
  }
  if (failure) {
    process.stderr.write(`lvd: ${failure}\n`);
    return 1;
  }
  return 0;
}
