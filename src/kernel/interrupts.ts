// Interrupts and exceptions: the kernel's interrupt gate (entered from the entry stubs
// with the registers saved, PT_REGS), handlers by vector, EOI, preemption at the end of
// the outermost interrupt, and deferred work (a per-vCPU worker thread runs what
// handlers defer, with interrupts on, like softirqs/workqueues).
//
// Exceptions raised by guest code that runs as part of a kernel thread (a module's code,
// say) kill that thread with a report, like an oops; in an idle thread they are fatal.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { EXCEPTION_NAMES, PF_VEC, NMI } from "../machine/cpu/arch.ts";
import { hex64 } from "../machine/cpu/interrupts.ts";
import type { Kernel } from "./kernel.ts";
import type { KernelPath, Thread } from "./thread.ts";
import { PT_REGS, IRQ_ENTRY, ORIGIN } from "./arch/frame.ts";
import { TIMER_VECTOR, RESCHEDULE_VECTOR, STOP_VECTOR, SPURIOUS_VECTOR } from "./arch/lapic.ts";
import { WaitQueue } from "./sync.ts";
import { IST_OF_VECTOR } from "./arch/descriptors.ts";

export type IrqHandler = (vector: number) => KernelPath | void;

export class Interrupts {
  private readonly handlers = new Map<number, IrqHandler>();
  /** Interrupts handled, by vector. */
  readonly counts = new Map<number, number>();
  /** Interrupts and exceptions that arrived while a domain ran. */
  fromDomains = 0;
  private readonly deferred: (() => KernelPath)[][];
  private readonly workerWait: WaitQueue[];

  constructor(private readonly k: Kernel) {
    this.deferred = k.percpus.map(() => []);
    this.workerWait = k.percpus.map(() => new WaitQueue(k));
    this.handlers.set(TIMER_VECTOR, () => this.timer());
    this.handlers.set(RESCHEDULE_VECTOR, () => {
      this.k.lapic.eoi();
      this.k.percpu().needResched = true;
    });
    this.handlers.set(STOP_VECTOR, () => this.stop());
  }

  /** Installs a handler for a device or IPI vector (32-255). */
  request(vector: number, handler: IrqHandler): void {
    if (vector < 32 || vector > 255 || this.handlers.has(vector)) throw new Error(`vector ${vector} is not free`);
    this.handlers.set(vector, handler);
  }

  /** The interrupt gate: RSP is at the words the entry pushed below the saved registers (IRQ_ENTRY). */
  enter(cpu: Cpu): void {
    const entry = cpu.rsp;
    let kill: string | null = null;
    this.k.executor.enter(cpu, this.handle(entry, (why) => (kill = why)), () => {
      const c = this.k.cpu;
      // A domain broke a rule: it is killed and the crossing it was in fails (lvd.ts).
      if (kill !== null) return this.k.lvd!.killInterrupted(c, kill);
      c.rsp = entry;
      c.nextRip = this.k.percpu().stopped ? this.k.symbols.lvd_halt_forever : this.k.symbols.lvd_irq_return;
    });
  }

  private *handle(entry: number, killDomain: (why: string) => void): KernelPath {
    const k = this.k;
    const t = k.current();
    const origin = k.mem.read64(entry + IRQ_ENTRY.origin);
    const frame = entry + IRQ_ENTRY.regs;
    const vector = k.mem.read64(frame + PT_REGS.vector) & 0xff;
    let why: string | null = null;
    if (origin === ORIGIN.domain || origin === ORIGIN.domainInEptK) {
      this.fromDomains++;
      why = k.lvd ? k.lvd.interrupted(k.cpu, vector, origin, frame) : "an interrupt from a domain with LVD not running";
    }
    // A domain broke a rule (lvd.ts interrupted()): a real interrupt behind it is still
    // handled (its EOI is due); an exception, or a vector INT n raised, was only the domain's doing.
    if (why === null || (vector >= 32 && k.lapic.inService(vector))) yield* this.dispatch(t, vector, frame);
    if (why !== null) {
      if (k.lvd?.busy()) killDomain(why);
      else yield* k.kill(t, `${why} in ${t}`); // no domain to blame: the thread's own doing
      return;
    }
    const pc = k.percpu();
    if (t.irqDepth === 0 && pc.needResched && !pc.stopped && IST_OF_VECTOR[vector] === undefined && origin === ORIGIN.kernel && !k.lvd?.busy()) {
      // (A frame on an IST stack is this vCPU's: that thread must not move elsewhere; and
      // no thread switch happens inside a domain: lvd.ts reschedules when the crossing returns.)
      yield* k.scheduler.schedule();
    }
  }

  /** Runs the handler of `vector` (an exception kills the thread that raised it). */
  private *dispatch(t: Thread, vector: number, frame: number): KernelPath {
    const k = this.k;
    this.counts.set(vector, (this.counts.get(vector) ?? 0) + 1);
    k.percpu().interrupts++;
    k.charge("irqDispatch");
    t.irqDepth++;
    if (vector < 32 && vector !== NMI) yield* this.exception(t, vector, frame);
    else {
      const h = this.handlers.get(vector);
      const r = h?.(vector);
      if (r) yield* r;
      else if (!h && vector !== SPURIOUS_VECTOR && vector !== NMI) k.lapic.eoi();
    }
    t.irqDepth--;
  }

  private *exception(t: Thread, vector: number, frame: number): KernelPath {
    const k = this.k;
    const rip = k.mem.read64(frame + PT_REGS.rip);
    const error = k.mem.read64(frame + PT_REGS.error);
    let why = `${EXCEPTION_NAMES[vector] ?? `vector ${vector}`} at RIP 0x${hex64(rip)}`;
    const where = k.symbolAt(rip);
    if (where) why += ` <${where}>`;
    why += `, error code 0x${error.toString(16)}`;
    if (vector === PF_VEC) why += `, address 0x${hex64(k.cpu.cr2)}`;
    t.irqDepth = 0;
    yield* k.kill(t, `unhandled exception ${why} in ${t}`);
  }

  private timer(): void {
    const k = this.k;
    k.lapic.eoi();
    k.charge("tick");
    k.percpu().ticks++;
    k.lvd?.progress();
    k.scheduler.tick();
  }

  private stop(): void {
    const pc = this.k.percpu();
    pc.stopped = true;
    this.k.lapic.stopTimer();
    this.k.lapic.eoi();
  }

  /** Sends the reschedule IPI to vCPU `id`. */
  reschedule(id: number): void {
    this.k.lapic.sendIpi(id, RESCHEDULE_VECTOR);
  }
  /** Stops vCPU `id` (shutdown): it halts with interrupts off after this interrupt. */
  stopCpu(id: number): void {
    this.k.lapic.sendIpi(id, STOP_VECTOR);
  }

  /** Runs `work` later in this vCPU's worker thread (interrupts on, preemptible). */
  defer(work: () => KernelPath): void {
    const id = this.k.cpu.id;
    this.deferred[id].push(work);
    this.workerWait[id].wakeAll();
  }

  /** The body of vCPU `id`'s worker thread. */
  *worker(id: number): KernelPath {
    for (;;) {
      yield* this.workerWait[id].waitUntil(() => this.deferred[id].length > 0);
      const work = this.deferred[id].shift()!;
      yield* work();
    }
  }
}
