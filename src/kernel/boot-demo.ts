// What `lvd boot` runs once the kernel is up: the self-test workload natively, the late
// launch of the hypervisor, the same workload again as a guest (it must give the same
// results), and the exits the hypervisor took, by reason.

import type { Kernel } from "./kernel.ts";
import type { KernelPath } from "./thread.ts";
import { workload, type WorkloadOptions } from "./selftest.ts";
import { lateLaunch } from "./late-launch.ts";

export interface BootDemoOptions extends WorkloadOptions {
  /** Launch the hypervisor between the two runs (default true). */
  launch: boolean;
}

export function* bootDemo(k: Kernel, o: BootDemoOptions): KernelPath<boolean> {
  const round = function* (label: string) {
    const started = k.cpu.cycles;
    const before = k.stats.preemptions;
    k.log(`workload (${label}): ${o.threads} threads x ${o.chunks} chunks of ${o.rounds} rounds on ${k.percpus.length} vCPU(s)`);
    const r = yield* workload(k, { ...o, verbose: true });
    k.log(`workload (${label}): done in ${k.cpu.cycles - started} cycles, ${k.stats.preemptions - before} preemptions`);
    return r.values.map((v) => v.toString(16)).join(",");
  };
  const native = yield* round("native");
  if (!o.launch) return true;
  const hv = yield* lateLaunch(k);
  const guest = yield* round("under the hypervisor");
  const same = native === guest;
  k.log(`workload: results ${same ? "identical" : "DIFFER"} before and after the late launch`);
  for (const [reason, n] of [...hv.exitCounts()].sort((a, b) => b[1] - a[1])) k.log(`exits: ${reason.padEnd(20)} ${n}`);
  return same;
}
