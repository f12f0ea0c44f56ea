// The computer: 1 to 64 vCPUs, each a Cpu with its local APIC and event service, sharing
// physical memory, the port bus and the APIC bus (IPIs, MSIs), run by a deterministic
// scheduler.
//
// Scheduling. run() repeatedly picks one vCPU and runs it for a quantum of 1..maxQuantum
// instructions, both drawn from a seeded PRNG (prng.ts). So vCPUs interleave at
// instruction granularity, each instruction executing atomically with respect to the
// others: a LOCK-prefixed read-modify-write is atomic across vCPUs (and so, in this
// model, is any single instruction: races show between instructions, not inside one).
// The same seed gives the same run, cycle for cycle.
//
// The rule that keeps the vCPUs' cycle clocks close: "now" is the clock of the running
// vCPU that is furthest behind, and only vCPUs whose clock is within `window` cycles of
// it are candidates; the PRNG picks among them. A clock therefore leads the slowest by
// at most window + one quantum. Halted vCPUs are candidates once something needs their
// attention (an interrupt arrived, a deadline such as the APIC timer is due by now);
// their clock first moves forward to the earlier of now and that deadline, since time
// passes while a processor is halted. When every vCPU is halted, time skips to the
// earliest deadline; with none, the machine is idle and run() returns.
//
// Application processors. After construction only vCPU 0 (the BSP) runs; the others
// wait for a SIPI. Real-mode startup is not modeled, so the machine defines a long-mode
// boot protocol instead: startCpu(id, setup) starts an AP directly (for firmware or the
// kernel, which sets its registers in `setup`), and an INIT-SIPI-SIPI sequence starts it
// through onStartup, by default in 64-bit ring 0 at RIP = vector * 4096 (a linear
// address) with interrupts off, zeroed general registers, and the control registers,
// EFER, GDTR, IDTR and segment selectors of the vCPU that sent the SIPI, i.e. the state
// a real-mode trampoline would build before it jumps to the kernel; the AP's code then
// loads its own stack, TSS and per-CPU state.
//
// Devices: port 0xE9 is the debug console; a write to port 0xF4 stops run() with that
// exit status (like QEMU's isa-debug-exit). Devices signal MSIs with msi(address, data).

import { PhysicalMemory } from "./memory.ts";
import { Cpu, Stop, RSP, CS, SS, DS, ES } from "./cpu/cpu.ts";
import { LocalApic } from "./apic.ts";
import { InterruptRouter } from "./interrupt-router.ts";
import { installEventService } from "./cpu/events.ts";
import { Prng } from "./prng.ts";
import { PortRouter, DebugConsole } from "./ports.ts";

export const MAX_CPUS = 64;
export const DEBUG_CONSOLE_PORT = 0xe9;
export const EXIT_PORT = 0xf4;
/** RAM must end below the local APIC page (0xFEE00000), which Cpu.readPhys intercepts above RAM. */
export const MAX_MEMORY = 0xfee00000;

export interface MachineOptions {
  /** Number of vCPUs, 1..64. */
  cpus: number;
  memoryBytes: number;
  /** Seed of the scheduler's PRNG (default 1). */
  seed?: number;
  /** Longest quantum, in instructions (default 64). */
  maxQuantum?: number;
  /** How many cycles a vCPU's clock may lead the slowest running one and still be picked (default 1000). */
  window?: number;
  /** Record which vCPU ran how many instructions, in order (machine.trace). */
  trace?: boolean;
}

/** Why run() returned. */
export type MachineStop = "budget" | "idle" | "exit" | "shutdown" | "requested";

export interface MachineRun {
  stop: MachineStop;
  /** Instructions executed by all vCPUs in this run. */
  instructions: number;
  /** The vCPU that ended the run ("exit", "shutdown", "requested"), else -1. */
  cpu: number;
}

export class Machine {
  readonly mem: PhysicalMemory;
  readonly cpus: Cpu[] = [];
  readonly apics: LocalApic[] = [];
  readonly router: InterruptRouter;
  readonly ports = new PortRouter();
  readonly console = new DebugConsole();
  /** Pairs (vCPU, instructions) per quantum that executed something, when tracing. */
  readonly trace: number[] | null;
  /** The value written to the exit port, once written. */
  exitStatus: number | null = null;
  /** What a SIPI does to an AP waiting for it (the boot protocol above). */
  onStartup: (ap: Cpu, vector: number) => void = (ap, vector) => this.startFromSipi(ap, vector);

  private readonly prng: Prng;
  private readonly maxQuantum: number;
  private readonly window: number;
  /** The vCPU inside run() right now, if any. */
  private current: Cpu | null = null;

  constructor(opts: MachineOptions) {
    const n = opts.cpus;
    if (!Number.isInteger(n) || n < 1 || n > MAX_CPUS) throw new Error(`a machine has 1 to ${MAX_CPUS} vCPUs, not ${n}`);
    if (opts.memoryBytes > MAX_MEMORY) throw new Error(`memory must end below the local APIC page at 0x${MAX_MEMORY.toString(16)}`);
    this.mem = new PhysicalMemory(opts.memoryBytes);
    this.prng = new Prng(opts.seed ?? 1);
    this.maxQuantum = Math.max(1, opts.maxQuantum ?? 64);
    this.window = Math.max(0, opts.window ?? 1000);
    this.trace = opts.trace ? [] : null;

    this.ports.register(DEBUG_CONSOLE_PORT, this.console);
    this.ports.register(EXIT_PORT, {
      out: (_port, _size, value) => {
        this.exitStatus = value | 0;
        if (this.current) this.current.stopRequested = true;
      },
    });

    for (let id = 0; id < n; id++) {
      const cpu = new Cpu(this.mem, this.ports, id);
      const apic = new LocalApic(cpu, id);
      installEventService(cpu, apic);
      apic.onStartup = (vector) => this.onStartup(cpu, vector);
      if (id !== 0) {
        apic.waitingForSipi = true;
        cpu.halted = true;
      }
      this.cpus.push(cpu);
      this.apics.push(apic);
    }
    this.router = new InterruptRouter(this.apics);
    for (const a of this.apics) a.bus = this.router;
  }

  // ---------------------------------------------------------------- devices and signals

  /** A device's message-signalled interrupt: `data` written to `address` (0xFEExxxxx). */
  msi(address: number, data: number): void {
    this.router.msi(address, data);
  }

  /** The platform's NMI to one vCPU. */
  nmi(id: number): void {
    this.apics[id].nmi();
  }

  // ---------------------------------------------------------------- application processors

  /**
   * Starts vCPU `id` (out of wait-for-SIPI, or out of HLT), its clock at the machine's
   * present; `setup` sets its registers (long mode, like the BSP's).
   */
  startCpu(id: number, setup?: (cpu: Cpu) => void): void {
    const cpu = this.cpus[id];
    this.apics[id].waitingForSipi = false;
    cpu.halted = false;
    cpu.cycles = Math.max(cpu.cycles, this.present(cpu));
    setup?.(cpu);
  }

  /** The default SIPI protocol: 64-bit ring 0 at vector * 4096 with the sender's system registers. */
  private startFromSipi(ap: Cpu, vector: number): void {
    const from = this.current ?? this.cpus[0];
    this.startCpu(ap.id, (c) => {
      c.lo.fill(0);
      c.hi.fill(0);
      c.cr0 = from.cr0;
      c.cr4 = from.cr4;
      c.efer = from.efer;
      c.cr3 = from.cr3;
      c.flushTlb(true);
      c.gdtBase = from.gdtBase;
      c.gdtLimit = from.gdtLimit;
      c.idtBase = from.idtBase;
      c.idtLimit = from.idtLimit;
      for (const seg of [CS, SS, DS, ES]) c.segSel[seg] = from.segSel[seg] & ~3;
      c.cpl = 0;
      c.rflags = 2;
      c.setReg64(RSP, 0);
      c.rip = vector * 4096;
    });
  }

  // ---------------------------------------------------------------- scheduling

  /** The time of the machine as `except` sees it: the running vCPU's clock inside run(), else the slowest running one. */
  private present(except: Cpu): number {
    if (this.current && this.current !== except) return this.current.cycles;
    let min = Infinity, max = 0;
    for (const c of this.cpus) {
      if (c === except) continue;
      max = Math.max(max, c.cycles);
      if (this.running(c)) min = Math.min(min, c.cycles);
    }
    return min === Infinity ? max : min;
  }

  private alive(c: Cpu): boolean {
    return c.shutdown === null && !this.apics[c.id].waitingForSipi;
  }
  private running(c: Cpu): boolean {
    return this.alive(c) && !c.halted;
  }

  /** Picks the next vCPU to run (the rule in the header), or -1 when the machine is idle. */
  private pick(): number {
    let now = Infinity;
    for (const c of this.cpus) if (this.running(c)) now = Math.min(now, c.cycles);
    if (now === Infinity) {
      // Everyone is halted: time goes to the first one with something to do.
      for (const c of this.cpus) {
        if (this.alive(c)) now = Math.min(now, c.attention ? c.cycles : c.eventCycle);
      }
      if (now === Infinity) return -1;
    }
    const candidates: number[] = [];
    for (const c of this.cpus) {
      if (!this.alive(c)) continue;
      if (!c.halted) {
        if (c.cycles <= now + this.window) candidates.push(c.id);
      } else if (c.attention || c.eventCycle <= now) {
        c.cycles = Math.max(c.cycles, Math.min(now, c.eventCycle)); // time passed while it was halted
        candidates.push(c.id);
      }
    }
    return candidates[candidates.length === 1 ? 0 : this.prng.below(candidates.length)];
  }

  /**
   * Runs the vCPUs until `maxInstructions` have executed in all, the machine is idle
   * (every vCPU halted with nothing to wake it), a vCPU shuts down (a triple fault resets
   * the whole platform, so the run ends), the exit port is written, or a hook stops a vCPU.
   */
  run(maxInstructions = Number.MAX_SAFE_INTEGER): MachineRun {
    let done = 0;
    let idleSteps = 0;
    while (done < maxInstructions) {
      const id = this.pick();
      if (id < 0) return { stop: "idle", instructions: done, cpu: -1 };
      const cpu = this.cpus[id];
      const quantum = Math.min(1 + this.prng.below(this.maxQuantum), maxInstructions - done);
      const before = cpu.instructions;
      this.current = cpu;
      let stop: Stop;
      try {
        stop = cpu.run(quantum);
      } finally {
        this.current = null;
      }
      const n = cpu.instructions - before;
      done += n;
      if (n > 0) {
        idleSteps = 0;
        if (this.trace) this.trace.push(id, n);
      } else if (++idleSteps > 4 * this.cpus.length + 16) {
        // Only a hook that leaves its deadline in place can get here (events.ts never does).
        throw new Error(`machine: vCPU ${id} is serviced without progress (a deadline nobody moves?)`);
      }
      if (cpu.shutdown) return { stop: "shutdown", instructions: done, cpu: id };
      if (stop === Stop.Requested) return { stop: this.exitStatus !== null ? "exit" : "requested", instructions: done, cpu: id };
    }
    return { stop: "budget", instructions: done, cpu: -1 };
  }
}
