// Ring 3, as far as LVD's attacks need it: a kernel thread drops to user mode to run a
// few pages of machine code (its own code page and stack page, user-accessible, at a
// fixed place in the lower half, away from the kernel's and the domains' addresses:
// Inv 1) and never comes back; the kernel stops it when it faults or when the hypervisor
// upcalls for what it did. Interrupts from ring 3 arrive on the IST like all others and
// run on the kernel stack the thread left (arch/irq-entry.S, origin user).
//
// There are no user processes: one thread at a time may be in ring 3 (the pages are in
// the kernel's own page tables), which is what the user-mode VMFUNC attack needs.

import type { Kernel } from "./kernel.ts";
import { call, type KernelPath } from "./thread.ts";
import { KernelBug } from "./exec.ts";
import { PAGE, phys2virt } from "./layout.ts";

export const USER_CODE = 0x4000_0000;
export const USER_STACK_TOP = USER_CODE + 3 * PAGE;

/** Runs `code` in ring 3 in the current thread (interrupts on); does not return. */
export function* runUser(k: Kernel, code: Uint8Array): KernelPath<never> {
  if (!k.exitless) throw new KernelBug("ring 3 needs the exitless interrupt entry (its IST path takes the kernel stack from the state page)");
  if (code.length > PAGE) throw new KernelBug(`user code of ${code.length} bytes: one page at most`);
  if (k.kernelMm.lookup(USER_CODE) >= 0) throw new KernelBug("another thread is in ring 3");
  const text = k.pages.alloc();
  const stack = k.pages.alloc();
  k.mem.fill(phys2virt(text), PAGE);
  k.mem.fill(phys2virt(stack), PAGE);
  k.mem.writeBytes(phys2virt(text), code);
  k.kernelMm.map(USER_CODE, text, PAGE, { user: true, exec: true });
  k.kernelMm.map(USER_STACK_TOP - PAGE, stack, PAGE, { user: true, write: true });
  yield* call(k.symbols.lvd_enter_user, USER_CODE, USER_STACK_TOP);
  throw new KernelBug("returned from ring 3");
}

/** Takes the ring-3 pages back once the thread that used them was stopped. */
export function releaseUser(k: Kernel): void {
  for (const va of [USER_CODE, USER_STACK_TOP - PAGE]) {
    for (const pa of k.kernelMm.unmap(va, PAGE)) k.pages.release(pa);
  }
}
