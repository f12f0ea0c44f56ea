// Dropping cached EPT_I translations after entries were removed (an unmap, a revocation).
//
// Each vCPU caches translations of the domain's EPT_I it ran with (the TLB is tagged by
// VPID and EPTP), and only INVEPT, a root-operation instruction, drops them: the kernel
// asks the hypervisor on each vCPU (the INVEPT hypercall), from a kernel thread pinned to
// that vCPU, as Lvd.start() does its per-vCPU setup.
//
// The kernel waits until every vCPU has flushed: when a revocation, an unmap or a deletion
// returns, no vCPU can reach the pages through a cached translation, so they may be freed
// or given away. A domain's own syscall waits too (its thread blocks inside the crossing,
// lvd.ts). A vCPU that is running inside the domain at that moment flushes when it next
// schedules in the kernel, before the syscall returns; until then the domain races
// itself and reaches no memory it was not given.

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Domain } from "./domain.ts";
import { KernelBug } from "../exec.ts";
import { hypercall } from "../late-launch.ts";
import { HC_INVEPT } from "../../hypervisor/hypercalls.ts";

/** INVEPT on the current vCPU (its thread is pinned there) for each domain's EPT_I there. */
function* flushCurrent(k: Kernel, domains: Iterable<Domain>): KernelPath {
  const c = k.cpu.id;
  for (const d of domains) {
    d.staleOn[c] = false;
    const r = yield* hypercall(k, HC_INVEPT, d.eptps[c]);
    if (r.rax !== 0) throw new KernelBug(`INVEPT of ${d.name} failed on vCPU ${c}: ${r.rax}`);
  }
}

/** Flushes `domains` on every vCPU and waits for all of them. */
export function* everywhere(k: Kernel, domains: Iterable<Domain>): KernelPath {
  const list = [...domains];
  if (list.length === 0) return;
  for (const d of list) d.staleOn.fill(true);
  const threads = k.percpus.map((pc) => k.spawn(`invept/${pc.id}`, () => flushCurrent(k, list), pc.id));
  for (const t of threads) yield* k.join(t);
  const failed = threads.find((t) => t.killed);
  if (failed) throw new KernelBug(`EPT shootdown failed: ${failed.killed}`);
}
