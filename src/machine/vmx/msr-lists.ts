// The VM-entry MSR-load list and the VM-exit MSR-store and MSR-load lists (SDM Vol. 3C,
// 25.7.2, 25.8.2, 27.4, 28.4, 28.6). Each is an array of 16-byte entries in physical
// memory: bits 31:0 the MSR index, 63:32 reserved (0), 127:64 the value.

import type { Cpu } from "../cpu/cpu.ts";
import { CpuFault } from "../cpu/arch.ts";
import { readMsr, writeMsr } from "../cpu/ops/msr.ts";

/** MSRs no list may load: FS/GS bases, SMBASE, the x2APIC range (SDM 27.4). */
function loadable(index: number): boolean {
  return index !== 0xc0000100 && index !== 0xc0000101 && index !== 0x9e && index >>> 8 !== 0x8;
}

/**
 * Loads `count` MSRs from the list at `pa`. Returns 0, or the 1-based number of the
 * entry that failed (its MSR cannot be loaded, its reserved bits are set, or the value
 * is invalid): VM entry then fails with exit reason 34 and that number as qualification.
 * On a VM exit a failure is a VMX abort (SDM 28.7), which shuts the processor down.
 */
export function loadMsrList(cpu: Cpu, pa: number, count: number, onExit = false): number {
  for (let k = 0; k < count; k++) {
    const at = pa + 16 * k;
    const index = cpu.mem.read32(at) >>> 0;
    let ok = cpu.mem.read32(at + 4) === 0 && loadable(index);
    if (ok) {
      try {
        writeMsr(cpu, index, cpu.mem.read32(at + 8), cpu.mem.read32(at + 12));
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        ok = false;
      }
    }
    if (!ok) {
      if (onExit) vmxAbort(cpu, `VM-exit MSR-load entry ${k + 1} (MSR 0x${index.toString(16)})`);
      return k + 1;
    }
  }
  return 0;
}

/** Stores the current values of the `count` MSRs listed at `pa` into their entries. */
export function storeMsrList(cpu: Cpu, pa: number, count: number): void {
  for (let k = 0; k < count; k++) {
    const at = pa + 16 * k;
    const index = cpu.mem.read32(at) >>> 0;
    try {
      const [lo, hi] = readMsr(cpu, index);
      cpu.mem.write32(at + 8, lo);
      cpu.mem.write32(at + 12, hi);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      vmxAbort(cpu, `VM-exit MSR-store entry ${k + 1} (MSR 0x${index.toString(16)})`);
      return;
    }
  }
}

/** A VMX abort: the logical processor enters a shutdown state (SDM 28.7). */
function vmxAbort(cpu: Cpu, what: string): void {
  if (!cpu.shutdown) cpu.shutdown = { vector: -1, errorCode: -1, rip: cpu.rip, cr2: cpu.cr2, message: `VMX abort: ${what} failed` };
}
