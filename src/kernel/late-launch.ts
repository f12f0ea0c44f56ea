// Loading the LVD hypervisor into the running kernel (reference §3): the kernel gives it
// a pool of physical memory, and on each vCPU a thread pinned there calls its late
// launch, after which that vCPU runs the kernel in VMX non-root mode. Then, still on that
// vCPU, the kernel registers its upcall entry (a native gate) and a per-vCPU upcall stack
// with the REGISTER_UPCALL hypercall, so problems the hypervisor finds come back to the
// kernel instead of stopping the machine.

import type { Kernel } from "./kernel.ts";
import { call, type KernelPath } from "./thread.ts";
import { Hypervisor } from "../hypervisor/hypervisor.ts";
import { HC_PROBE, HC_REGISTER_UPCALL, HYPERVISOR_SIGNATURE } from "../hypervisor/hypercalls.ts";
import {
  UPCALL_FRAME_KIND, UPCALL_FRAME_RIP, UPCALL_FRAME_GUEST_PHYSICAL, UPCALL_FRAME_GUEST_LINEAR, UPCALL_FRAME_EXIT_REASON,
  UPCALL_KIND_NAMES,
} from "../hypervisor/upcall.ts";
import { hex64 } from "../machine/cpu/interrupts.ts";
import { PAGE } from "./layout.ts";
import { KernelBug } from "./exec.ts";

/** Physical memory handed to the hypervisor, in pages. */
const POOL_PAGES = 256;

/** One hypercall: RAX = result, the second result (RBX) in `out`. */
export function* hypercall(k: Kernel, leaf: number, a0 = 0, a1 = 0, a2 = 0): KernelPath<{ rax: number; rbx: number }> {
  const out = k.percpu().area + 0x200;
  const rax = yield* call(k.symbols.lvd_hypercall, leaf, a0, a1, a2, out);
  return { rax, rbx: k.mem.read64(out) };
}

export function* lateLaunch(k: Kernel): KernelPath<Hypervisor> {
  const poolPa = k.pages.alloc(POOL_PAGES);
  k.hypervisorPool = { base: poolPa, bytes: POOL_PAGES * PAGE };
  const hv = new Hypervisor({ machine: k.machine, pool: k.hypervisorPool });
  k.hypervisor = hv;
  const entry = k.gates.byName.get("upcall") ?? k.gates.bind("upcall", (cpu) => {
    if (k.lvd?.upcall(cpu, cpu.rsp)) return; // a domain's doing: the domain is killed, the crossing fails
    k.executor.enter(cpu, upcall(k, cpu.rsp), () => {
      throw new KernelBug("an upcall handler returned");
    });
  });
  const launchers = k.percpus.filter((pc) => pc.online).map((pc) =>
    k.spawn(`hvlaunch/${pc.id}`, function* () {
      hv.launch(k.cpu);
      const probe = yield* hypercall(k, HC_PROBE);
      if (probe.rax !== 0 || probe.rbx !== HYPERVISOR_SIGNATURE) throw new KernelBug(`vCPU ${pc.id}: the hypervisor does not answer`);
      const stack = k.vmap.alloc(2);
      yield* hypercall(k, HC_REGISTER_UPCALL, entry, stack.top);
    }, pc.id));
  for (const t of launchers) yield* k.join(t);
  const failed = launchers.filter((t) => t.killed);
  if (failed.length) throw new KernelBug(`late launch failed: ${failed.map((t) => t.killed).join("; ")}`);
  k.log(`hypervisor: late launch done; the kernel runs in VMX non-root mode on ${launchers.length} vCPU(s)`);
  return hv;
}

/**
 * The upcall entry: the hypervisor found something it will not do for the code that was
 * running (the frame says what). Nothing of the interrupted code is trusted; without
 * isolated domains it can only be the kernel's own thread, which is killed like an oops.
 */
function* upcall(k: Kernel, frame: number): KernelPath {
  const kind = k.mem.read64(frame + UPCALL_FRAME_KIND);
  const rip = k.mem.read64(frame + UPCALL_FRAME_RIP);
  const t = k.current();
  t.irqDepth = 0;
  yield* k.kill(t, `hypervisor upcall: ${UPCALL_KIND_NAMES[kind] ?? kind} (exit reason ${k.mem.read64(frame + UPCALL_FRAME_EXIT_REASON)}) at RIP 0x${hex64(rip)}` +
    ` <${k.symbolAt(rip) ?? "?"}>, guest-physical 0x${k.mem.read64(frame + UPCALL_FRAME_GUEST_PHYSICAL).toString(16)}, linear 0x${hex64(k.mem.read64(frame + UPCALL_FRAME_GUEST_LINEAR))}`);
}
