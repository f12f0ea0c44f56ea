// Booting the kernel on a machine: construct it, let the firmware start the bootstrap
// processor at the kernel's start gate, and run start_kernel there as the first thread
// (on the firmware's stack) with `main` as what the kernel does once it is up.

import type { Machine } from "../../machine/machine.ts";
import { Kernel, type KernelConfig } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import { firmwareBoot } from "./firmware.ts";
import { startKernel } from "./start.ts";
import { BOOT_STACK, BOOT_STACK_END, phys2virt } from "../layout.ts";

export function bootKernel(machine: Machine, main: (k: Kernel) => KernelPath, config: KernelConfig = {}): Kernel {
  const k = new Kernel(machine, config);
  const init = k.newThread("init", () => startKernel(k, main), -1, { base: phys2virt(BOOT_STACK), top: phys2virt(BOOT_STACK_END) });
  const start = k.gates.bind("start_kernel", (cpu) => k.executor.boot(cpu, init));
  firmwareBoot(machine, start);
  return k;
}
