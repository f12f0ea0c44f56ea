// The LVD hypervisor (reference section 3): minimal, late-launched, transparent. It runs
// in VMX root operation as TypeScript, only at launch and on VM exits. The kernel boots
// natively, hands it a pool of physical memory, and calls launch(cpu) on each vCPU; from
// then on the kernel runs in VMX non-root operation with its own IDT, its own page tables
// and all memory but the pool mapped one-to-one (EPT_K), and does not notice, except
// through the hypercalls it makes on purpose (hypercalls.ts).
//
// Files: launch.ts (VMCS from the running state, the controls), vcpu.ts (one vCPU's
// state and the VMCS operations every handler uses), ept-k.ts (per-CPU EPT_K),
// page-pool.ts (the hypervisor's memory), exits.ts (the exit handler) and emulate-*.ts
// (what each exit does), emulated-cost.ts (an emulated instruction costs what the native
// one does), cr3-cache.ts (the CR3-target list as an LRU cache), hypercalls.ts (the
// interface) and hypercall-handlers.ts, upcall.ts (violations handed to the kernel; the
// frame layout), watchdog.ts (the preemption timer), guest-memory.ts (guest linear
// memory seen from root operation), counters.ts, incident.ts. No Node-only API: this
// runs in a browser.

import type { Machine } from "../machine/machine.ts";
import type { Cpu } from "../machine/cpu/cpu.ts";
import { PagePool } from "./page-pool.ts";
import { EptK } from "./ept-k.ts";
import { launchVcpu } from "./launch.ts";
import { handleExit } from "./exits.ts";
import type { Vcpu } from "./vcpu.ts";
import type { Incident } from "./incident.ts";

export type { Incident, IncidentKind } from "./incident.ts";

export interface HypervisorConfig {
  machine: Machine;
  /**
   * Physical memory handed to the hypervisor (whole 4 KB pages of RAM) for its VMXON
   * regions, VMCSs and EPT tables; not mapped in EPT_K, so the kernel cannot touch it.
   * A few pages per vCPU and about 8 shared ones (more for per-CPU remaps).
   */
  pool: { base: number; bytes: number };
  /** Period of the VMX-preemption-timer watchdog, in cycles (default 1,000,000). */
  watchdogCycles?: number;
}

export const DEFAULT_WATCHDOG_CYCLES = 1_000_000;

export class Hypervisor {
  readonly machine: Machine;
  /** Events the hypervisor could not hand to the kernel (see incident.ts). */
  readonly incidents: Incident[] = [];
  private readonly pool: PagePool;
  private readonly ept: EptK;
  private readonly watchdogCycles: number;
  private readonly vcpus = new Map<number, Vcpu>();

  constructor(cfg: HypervisorConfig) {
    this.machine = cfg.machine;
    this.pool = new PagePool(cfg.machine.mem, cfg.pool.base, cfg.pool.bytes);
    this.ept = new EptK(cfg.machine.mem, this.pool);
    this.watchdogCycles = cfg.watchdogCycles ?? DEFAULT_WATCHDOG_CYCLES;
  }

  /**
   * Late launch on this vCPU. Callable from TypeScript at an instruction boundary of
   * `cpu` (between cpu.run calls) or from inside an instruction handler (a native gate):
   * cpu.nextRip is left as it was, so an instruction in progress completes where it
   * would have. Afterwards the vCPU is in VMX non-root operation with exactly the
   * architectural state it had, as the guest reads it, and EPT_K active. Throws (a
   * programming error, not a guest's doing) if the vCPU cannot be virtualized.
   */
  launch(cpu: Cpu): void {
    if (this.vcpus.has(cpu.id)) throw new Error(`LVD hypervisor: vCPU ${cpu.id} is already launched`);
    if (this.machine.cpus[cpu.id] !== cpu) throw new Error(`LVD hypervisor: vCPU ${cpu.id} is not this machine's`);
    // The machine's startup protocol sets an AP's registers directly: start it first, then launch.
    if (this.machine.apics[cpu.id].waitingForSipi) throw new Error(`LVD hypervisor: vCPU ${cpu.id} is waiting for SIPI; start it before the launch`);
    const services = { pool: this.pool };
    const v = launchVcpu(cpu, {
      pool: this.pool,
      ept: this.ept,
      watchdogCycles: this.watchdogCycles,
      report: (i) => this.incidents.push(i),
      handler: (v) => (exit) => handleExit(v, services, exit),
    });
    this.vcpus.set(cpu.id, v);
  }

  isLaunched(cpuId: number): boolean {
    return this.vcpus.has(cpuId);
  }

  /** Exit counts by reason name ("WRMSR", "IO_INSTRUCTION", "CR_ACCESS"...): of one vCPU, or of all. */
  exitCounts(cpuId?: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [id, v] of this.vcpus) if (cpuId === undefined || id === cpuId) v.counters.addTo(counts);
    return counts;
  }

  /** A launched vCPU's EPT_K EPTP (what INSTALL_EPTP_LIST returns), for tests and reports. */
  kernelEptp(cpuId: number): number {
    const v = this.vcpus.get(cpuId);
    if (!v) throw new Error(`LVD hypervisor: vCPU ${cpuId} is not launched`);
    return v.eptp;
  }
}
