// The kernel: TypeScript bound to the machine (DESIGN.md). It owns the gates through
// which vCPUs enter it, the executor that runs its paths on them, the scheduler, memory
// management, interrupts, the console and the exported functions modules call. Boot
// (boot/) builds its state in guest memory; everything it keeps there is what machine
// code, and an attacker, would see.

import type { Machine } from "../machine/machine.ts";
import type { Cpu } from "../machine/cpu/cpu.ts";
import { RAX, RDI, RSI, RDX, RCX, CpuFault, EXCEPTION_NAMES, PF_VEC } from "../machine/cpu/cpu.ts";
import { hex64 } from "../machine/cpu/interrupts.ts";
import { regU64 } from "./registers.ts";
import { IF } from "../machine/cpu/flags.ts";
import { parseElf, linkObjects, type LinkedImage } from "../machine/elf.ts";
import { GuestMemory } from "./guest-memory.ts";
import { Gates } from "./gates.ts";
import { Executor, KernelBug, type ExecutorHost } from "./exec.ts";
import { Scheduler } from "./scheduler.ts";
import { Thread, type KernelPath } from "./thread.ts";
import { Console } from "./console.ts";
import { PerCpu, PERCPU } from "./percpu.ts";
import { Lapic } from "./arch/lapic.ts";
import { Interrupts } from "./interrupts.ts";
import { KERNEL_COSTS } from "./costs.ts";
import type { Completion } from "./sync.ts";
import type { Hypervisor } from "../hypervisor/hypervisor.ts";
import { ModuleLoader } from "./modules/loader.ts";
import { exportKernelFunctions } from "./modules/exports.ts";
import { ENTRY_OBJECT } from "./arch/entry.generated.ts";
import { IRQ_ENTRY_OBJECT } from "./arch/irq-entry.generated.ts";
import { SELFTEST_OBJECT } from "./arch/selftest.generated.ts";
import { BENCH_OBJECT } from "./arch/bench.generated.ts";
import { TRAMPOLINE_OBJECT } from "./lvd/trampoline.generated.ts";
import { STATE_PAGE_PA } from "./lvd/layout.ts";
import type { Lvd } from "./lvd/lvd.ts";
import { KERNEL_TEXT_PA, imageVa } from "./layout.ts";
import type { PageAllocator } from "./mm/page-allocator.ts";
import type { KernelHeap } from "./mm/heap.ts";
import type { Vmap, VmArea } from "./mm/vmap.ts";
import type { AddressSpace } from "./mm/address-space.ts";

export interface KernelConfig {
  /** APIC timer period in cycles (the tick). */
  tickCycles?: number;
  /** Ticks per time slice. */
  slice?: number;
  /** Pages of a kernel thread's stack. */
  stackPages?: number;
  /**
   * Interrupt entry: exitless (every vector on an IST, delivered into domains without a VM
   * exit; irq-entry.S), the default, or vanilla (the CPU's frame on the interrupted
   * stack): the kernel without LVD's entry, for Table 3. Domains need exitless entry.
   */
  exitless?: boolean;
}

/** An exported kernel function: its arguments are the first six integer argument registers. */
export type ExportedFunction = (...args: number[]) => KernelPath<number | void> | number | void;

export interface KernelStats {
  preemptions: number;
  oopses: number;
  threadsCreated: number;
  threadsExited: number;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
  return out;
}

export class Kernel implements ExecutorHost {
  readonly mem: GuestMemory;
  readonly gates: Gates;
  readonly executor: Executor;
  readonly scheduler: Scheduler;
  readonly console: Console;
  readonly lapic: Lapic;
  readonly interrupts: Interrupts;
  readonly percpus: PerCpu[];
  /** The kernel's machine code (arch/*.S), linked at boot, and its symbols. */
  readonly image: LinkedImage;
  readonly symbols: Record<string, number> = {};
  readonly returnGate: number;
  readonly tickCycles: number;
  readonly stackPages: number;
  readonly exitless: boolean;
  readonly stats: KernelStats = { preemptions: 0, oopses: 0, threadsCreated: 0, threadsExited: 0 };
  readonly threads = new Map<number, Thread>();
  /** Exported functions by name: their gate addresses (what modules link against). */
  readonly exports = new Map<string, number>();
  readonly modules: ModuleLoader;

  // Set by boot.
  pages!: PageAllocator;
  heap!: KernelHeap;
  vmap!: Vmap;
  kernelMm!: AddressSpace;

  /** The IDT (kernel address), and the count of APs that came online. */
  idt = 0;
  apOnline!: Completion;
  /** The hypervisor, once the kernel has late-launched it (late-launch.ts). */
  hypervisor: Hypervisor | null = null;
  /** The LVD runtime (domains), once started (lvd/lvd.ts). */
  lvd: Lvd | null = null;
  /** The physical memory the kernel gave it (no longer the kernel's to touch). */
  hypervisorPool = { base: 0, bytes: 0 };

  /** The vCPU kernel code is running on now (set whenever a gate enters the kernel). */
  cpu!: Cpu;
  private nextThreadId = 0;

  constructor(
    readonly machine: Machine,
    config: KernelConfig = {},
  ) {
    this.tickCycles = config.tickCycles ?? 100_000;
    this.stackPages = config.stackPages ?? 4;
    this.exitless = config.exitless ?? true;
    this.mem = new GuestMemory(() => this.cpu);
    this.gates = new Gates(machine.mem);
    this.executor = new Executor(this);
    this.scheduler = new Scheduler(this);
    this.scheduler.slice = config.slice ?? 2;
    this.console = new Console(this);
    this.lapic = new Lapic(this.mem);
    this.percpus = machine.cpus.map((c) => new PerCpu(c.id));
    this.interrupts = new Interrupts(this);
    this.modules = new ModuleLoader(this);

    this.returnGate = this.gates.bind("return", (cpu) => this.executor.returned(cpu));
    this.gates.bind("lvd_gate_irq", (cpu) => this.interrupts.enter(cpu));
    const objects = [
      parseElf(decodeBase64(ENTRY_OBJECT), "entry.o"),
      parseElf(decodeBase64(IRQ_ENTRY_OBJECT), "irq-entry.o"),
      parseElf(decodeBase64(SELFTEST_OBJECT), "selftest.o"),
      parseElf(decodeBase64(BENCH_OBJECT), "bench.o"),
      parseElf(decodeBase64(TRAMPOLINE_OBJECT), "trampoline.o"),
    ];
    this.gates.bind("lvd_gate_domain_call", (cpu) => this.lvd!.springboard(cpu));
    this.image = linkObjects(objects, {
      base: imageVa(KERNEL_TEXT_PA),
      resolve: (name) => (name === "lvd_state_page" ? imageVa(STATE_PAGE_PA) : this.gates.byName.get(name)),
    });
    machine.mem.load(KERNEL_TEXT_PA, this.image.image);
    for (const [name, va] of this.image.symbols) this.symbols[name] = va;
    exportKernelFunctions(this);
  }

  /** RAX of the current vCPU as an exact unsigned 64-bit value (right after a call returned). */
  rax64(): bigint {
    return regU64(this.cpu, RAX);
  }

  /** Charges a named kernel cost (costs.ts) to the current vCPU. */
  charge(name: string, times = 1): void {
    this.cpu.cycles += (KERNEL_COSTS[name] ?? 0) * times;
  }

  log(text: string): void {
    this.console.log(text);
  }

  // ------------------------------------------------------------ threads

  current(cpu: Cpu = this.cpu): Thread {
    return this.percpus[cpu.id].current;
  }
  percpu(cpu: Cpu = this.cpu): PerCpu {
    return this.percpus[cpu.id];
  }
  setCurrent(cpu: Cpu, t: Thread): void {
    const pc = this.percpus[cpu.id];
    const prev = pc.current;
    pc.current = t;
    if (this.lvd && prev && prev !== t && this.cpu === cpu) this.lvd.switched(prev, t); // a thread may be inside a domain
    if (pc.area !== 0) this.mem.write64(pc.area + PERCPU.currentThread, t.id);
  }
  enterCpu(cpu: Cpu): void {
    this.cpu = cpu;
    cpu.cycles += KERNEL_COSTS.gate;
  }
  isIdle(t: Thread): boolean {
    return t.affinity >= 0 && this.percpus[t.affinity].idle === t;
  }

  /** A thread object with a stack (`stack`, or a new one from vmap). */
  newThread(name: string, body: (() => KernelPath<unknown>) | null, affinity = -1, stack?: VmArea): Thread {
    const area = stack ?? this.vmap.alloc(this.stackPages);
    const t = new Thread(this.nextThreadId++, name, body, area.base, area.top, affinity, this.kernelMm ?? null);
    this.threads.set(t.id, t);
    this.stats.threadsCreated++;
    return t;
  }

  /** Creates a kernel thread and makes it runnable. */
  spawn(name: string, body: () => KernelPath<unknown>, affinity = -1): Thread {
    if (this.cpu) this.charge("spawn");
    const t = this.newThread(name, body, affinity);
    this.scheduler.enqueue(t);
    return t;
  }

  /** Waits for `t` to end. */
  *join(t: Thread): KernelPath {
    while (t.state !== "dead") {
      t.joiners.push(this.current());
      yield* this.scheduler.block();
    }
  }

  *threadMain(t: Thread): KernelPath<void> {
    this.cpu.rflags |= IF;
    if (t.body) yield* t.body();
    yield* this.exitThread(t);
  }

  private *exitThread(t: Thread): KernelPath {
    t.state = "dead";
    this.stats.threadsExited++;
    for (const j of t.joiners.splice(0)) this.scheduler.wake(j);
    yield* this.scheduler.schedule();
    throw new KernelBug(`${t} ran after it exited`);
  }

  switchedOut(t: Thread): void {
    if (t.state === "dead") {
      this.threads.delete(t.id);
      if (t.stackBase !== this.bootStack.base) this.vmap.release({ base: t.stackBase, top: t.stackTop });
    } else this.scheduler.switchedOut(t);
  }

  /** The firmware's boot stack (the first thread's); set by boot. */
  bootStack: VmArea = { base: 0, top: 0 };

  /**
   * The current thread starts using extended (x87/SSE) state: from now on a crossing into
   * a domain saves it and gives the domain the initial state (Inv 5). Linux's
   * kernel_fpu_begin, as the lazy tracking the reference relies on.
   */
  fpuBegin(): void {
    const t = this.current();
    if (t.xstate === 0) t.xstate = this.heap.alloc(1024); // a 1 KB slab object: 64-byte aligned, as XSAVE needs
  }
  fpuEnd(): void {
    const t = this.current();
    if (t.xstate !== 0) this.heap.free(t.xstate);
    t.xstate = 0;
  }

  /** Wakes an idle vCPU that may run a thread with `affinity`, with a reschedule IPI. */
  kickIdle(affinity: number): void {
    if (!this.cpu) return;
    for (const pc of this.percpus) {
      if (!pc.online || pc.stopped || pc.id === this.cpu.id || pc.current !== pc.idle) continue;
      if (affinity >= 0 && affinity !== pc.id) continue;
      if (pc.needResched) continue;
      pc.needResched = true;
      this.interrupts.reschedule(pc.id);
      return;
    }
  }

  oops(_cpu: Cpu, t: Thread, error: unknown): KernelPath<unknown> {
    const why = error instanceof CpuFault
      ? `${EXCEPTION_NAMES[error.vector] ?? `vector ${error.vector}`} in kernel code at ${this.symbolAt(this.cpu.rip) ?? "?"}` +
        (error.vector === PF_VEC ? `, address 0x${hex64(this.cpu.cr2)}` : "")
      : error instanceof Error ? error.message : String(error);
    return this.kill(t, why);
  }

  /** Kills `t` (the current thread) for `why`, like an oops: logged, joiners woken, the vCPU moves on. */
  *kill(t: Thread, why: string): KernelPath<void> {
    this.stats.oopses++;
    t.killed = why;
    this.log(`BUG: ${why}; killed ${t}`);
    if (this.isIdle(t)) throw new KernelBug(`the idle thread of vCPU ${t.affinity} died: ${why}`);
    yield* this.exitThread(t);
  }

  // ------------------------------------------------------------ exported functions

  /**
   * Exports `fn` to modules under `name`: a gate that reads the arguments from the
   * argument registers, runs it (a plain function or a kernel path), and returns to the
   * caller with the result in RAX.
   */
  export(name: string, fn: ExportedFunction): number {
    const va = this.gates.bind(name, (cpu) => {
      const args = [cpu.reg64(RDI), cpu.reg64(RSI), cpu.reg64(RDX), cpu.reg64(RCX), cpu.reg64(8), cpu.reg64(9)];
      const path = (function* (): KernelPath<unknown> {
        const result = fn(...args);
        return isPath(result) ? yield* result : result;
      })();
      this.executor.enter(cpu, path, (value) => this.returnToCaller(value));
    });
    this.exports.set(name, va);
    return va;
  }

  /** "symbol+0x12" for a kernel or module address, if known. */
  symbolAt(address: number): string | undefined {
    return this.image.symbolAt(address)?.label ?? this.gates.names.get(address) ?? this.modules.symbolAt(address);
  }

  private returnToCaller(value: unknown): void {
    const c = this.cpu;
    if (typeof value === "number") c.setReg64(RAX, value);
    const lo = c.pop(8);
    c.nextRip = c.h * 4294967296 + (lo >>> 0);
  }
}

function isPath(v: unknown): v is KernelPath<number | void> {
  return typeof v === "object" && v !== null && typeof (v as Generator).next === "function";
}
