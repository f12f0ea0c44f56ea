// `lvd run --driver mydrv.c [--idl mydrv.idl] [--native]`: boot the kernel, launch the
// hypervisor, start LVD, load the driver into a new domain (with the glue generated from
// its IDL), run its init through a VMFUNC crossing, then its exit, and shut down. With
// --native the same driver is loaded as an ordinary kernel module instead.
// A domain that breaks isolation is killed with the reason; the kernel keeps running
// and shuts down cleanly.

import { basename, dirname, resolve } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { lateLaunch } from "../kernel/late-launch.ts";
import { Lvd, DomainKilled, DomainError, type GlueBinder } from "../kernel/lvd/lvd.ts";
import { KERNEL_APIS } from "../kernel/lvd/apis/index.ts";
import { domainObjects, CompileError } from "./compile.ts";
import { buildGlue } from "./glue.ts";
import { runNative, runToShutdown, type RunNativeOptions } from "./run-native.ts";

export interface RunDomainOptions extends RunNativeOptions {
  native: boolean;
  /** The driver's IDL file: glue is generated from it for both sides. */
  idl?: string;
  /** Times to start the domain (a killed one is started again). */
  starts: number;
}

/** Exit status when the domain was killed (the kernel survived). */
export const EXIT_DOMAIN_KILLED = 3;

export async function runDomain(driver: string, o: RunDomainOptions): Promise<number> {
  if (o.native) return runNative(driver, o);
  let binder: GlueBinder | undefined;
  let extra: string[] = [], includes: string[] = [];
  if (o.idl) {
    const glue = await buildGlue(o.idl);
    const api = KERNEL_APIS[glue.module];
    if (!api) throw new CompileError(`${o.idl}: the kernel implements no IDL module '${glue.module}' (it has: ${Object.keys(KERNEL_APIS).join(", ")})`);
    extra = [glue.cSource];
    includes = [glue.dir, resolve(dirname(o.idl))];
    binder = (ch) => glue.bind(ch, api(ch.kernel));
  }
  const objects = domainObjects(driver, o.opt, extra, includes).map((x) => parseElf(x.bytes, x.name));
  const name = basename(driver).replace(/\.(c|o)$/, "");
  const machine = new Machine({ cpus: o.cpus, memoryBytes: o.memoryMb << 20, seed: o.seed });
  let killed = 0;
  let failure: string | null = null;
  const k = bootKernel(machine, function* (k) {
    yield* lateLaunch(k);
    const lvd = new Lvd(k);
    yield* lvd.start();
    for (let i = 0; i < o.starts; i++) {
      try {
        const { domain, status } = yield* lvd.create(name, objects, binder);
        if (status !== 0) failure = `${name}: init returned ${status}`;
        yield* lvd.destroy(domain);
        k.log(`lvd: domain ${name} unloaded after ${domain.calls} crossing(s)`);
      } catch (e) {
        if (e instanceof DomainKilled) {
          killed++;
          yield* lvd.destroy(e.domain); // its memory goes back to the kernel
          k.log(`lvd: the kernel is still running (${k.threads.size} threads); domain ${name} can be started again`);
        } else if (e instanceof DomainError) {
          failure = e.message;
          k.log(e.message);
          break;
        } else throw e;
      }
    }
  });
  return runToShutdown(machine, k, o.maxInstructions, () => failure) ?? (killed > 0 ? EXIT_DOMAIN_KILLED : 0);
}
