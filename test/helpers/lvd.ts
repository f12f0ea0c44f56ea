// Boots a kernel with the hypervisor launched and LVD started, then runs `main`.

import { runKernel, type KernelRun } from "./kernel.ts";
import { lateLaunch } from "../../src/kernel/late-launch.ts";
import { Lvd } from "../../src/kernel/lvd/lvd.ts";
import type { Kernel, KernelConfig } from "../../src/kernel/kernel.ts";
import type { KernelPath } from "../../src/kernel/thread.ts";
import { parseElf, type ElfFile } from "../../src/machine/elf.ts";
import { domainObjects } from "../../src/cli/compile.ts";

export function runLvd(main: (k: Kernel, lvd: Lvd) => KernelPath, opts: { cpus?: number; seed?: number } & KernelConfig = {}): KernelRun {
  return runKernel(function* (k) {
    yield* lateLaunch(k);
    const lvd = new Lvd(k);
    yield* lvd.start();
    yield* main(k, lvd);
  }, opts);
}

const cache = new Map<string, ElfFile[]>();
/** A C driver under drivers/ compiled for a domain (with the domain library). */
export function domainFromC(path: string): ElfFile[] {
  let objs = cache.get(path);
  if (!objs) {
    objs = domainObjects(path).map((o) => parseElf(o.bytes, o.name));
    cache.set(path, objs);
  }
  return objs;
}
