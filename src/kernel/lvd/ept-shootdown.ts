// Dropping cached EPT_I translations after entries were removed (an unmap, a revocation).
//
// Each vCPU caches translations of the domain's EPT_I it ran with (the TLB is tagged by
// VPID and EPTP), and only INVEPT, a root-operation instruction, drops them: the kernel
// asks the hypervisor on each vCPU (the INVEPT hypercall), from a kernel thread pinned to
// that vCPU, as Lvd.start() does its per-vCPU setup.
//
// Two strengths:
//  - everywhere(): waits until every vCPU has flushed. Kernel revocations use it: when
//    they return no vCPU can reach the revoked pages, so they may be freed or given away.
//  - here(): a domain syscall cannot wait (its crossing is bound to this vCPU: blocking
//    could resume it on another), so it flushes this vCPU at once and marks the others
//    stale; a thread on each of them flushes it soon, and a stale vCPU flushes before it
//    next enters the domain (catchUp) or serves it a syscall. A vCPU running inside the
//    domain at that moment (interrupts are off there) keeps the old translation until it
//    comes back to the kernel: the domain races itself, it reaches no memory it was not
//    given, because the pages stay the kernel's until a kernel revocation (everywhere()).

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Domain } from "./domain.ts";
import { KernelBug } from "../exec.ts";
import { hypercall } from "../late-launch.ts";
import { HC_INVEPT } from "../../hypervisor/hypercalls.ts";
import { IF } from "../../machine/cpu/flags.ts";

/** INVEPT on the current vCPU for each domain's EPT_I there; interrupts off so the thread cannot move meanwhile. */
function* flushCurrent(k: Kernel, domains: Iterable<Domain>): KernelPath {
  const cpu = k.cpu;
  const interrupts = cpu.rflags & IF;
  cpu.rflags &= ~IF;
  try {
    for (const d of domains) {
      // Cleared first: a removal that lands while the hypercall is on its way marks it again.
      d.staleOn[cpu.id] = false;
      const r = yield* hypercall(k, HC_INVEPT, d.eptps[cpu.id]);
      if (r.rax !== 0) throw new KernelBug(`INVEPT of ${d.name} failed on vCPU ${cpu.id}: ${r.rax}`);
    }
  } finally {
    if (interrupts) cpu.rflags |= IF;
  }
}

function spawnFlushes(k: Kernel, domains: Domain[], skip: number) {
  return k.percpus.filter((pc) => pc.id !== skip).map((pc) =>
    k.spawn(`invept/${pc.id}`, () => flushCurrent(k, domains.filter((d) => d.staleOn[pc.id])), pc.id));
}

/** Flushes `domains` on every vCPU and waits for all of them. */
export function* everywhere(k: Kernel, domains: Iterable<Domain>): KernelPath {
  const list = [...domains];
  if (list.length === 0) return;
  for (const d of list) d.staleOn.fill(true);
  const threads = spawnFlushes(k, list, -1);
  for (const t of threads) yield* k.join(t);
  const failed = threads.find((t) => t.killed);
  if (failed) throw new KernelBug(`EPT shootdown failed: ${failed.killed}`);
}

/** Flushes `domains` on this vCPU now and on the others without waiting (see above). */
export function* here(k: Kernel, domains: Iterable<Domain>): KernelPath {
  const list = [...domains];
  if (list.length === 0) return;
  for (const d of list) d.staleOn.fill(true);
  const self = k.cpu.id;
  yield* flushCurrent(k, list);
  spawnFlushes(k, list, self);
}

/** Before this vCPU runs domain `d` again: drops translations an unmap elsewhere left stale here. */
export function* catchUp(k: Kernel, d: Domain): KernelPath {
  if (d.staleOn[k.cpu.id]) yield* flushCurrent(k, [d]);
}
