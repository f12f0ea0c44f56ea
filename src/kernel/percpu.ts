// Per-CPU state. The kernel's own record of each vCPU (TypeScript), and its per-CPU
// area in guest memory (GS base points at it): what machine code and attackers see.

import type { Thread } from "./thread.ts";

/** Offsets in the per-CPU area (one page per vCPU). */
export const PERCPU = {
  self: 0,
  cpu: 8,
  currentThread: 16,
  kernelStack: 24,
} as const;

export class PerCpu {
  /** Kernel addresses of this vCPU's per-CPU area, GDT, TSS, and the tops of its IST stacks. */
  area = 0;
  gdt = 0;
  tss = 0;
  istTops: number[] = [];
  idle!: Thread;
  current!: Thread;
  needResched = false;
  online = false;
  stopped = false;
  interrupts = 0;
  ticks = 0;

  constructor(readonly id: number) {}
}
