// The scheduler: one run queue shared by all vCPUs (first in, first out, honouring
// affinity), time slices counted in timer ticks, preemption when a slice runs out (at the
// end of the interrupt that noticed it), blocking, sleeping and waking.
//
// Kernel TypeScript runs atomically with respect to the other vCPUs (a gate is one
// instruction), so the queue needs no lock. Guest code runs between the steps of a
// kernel path, though, so a thread is put back in the queue only after its context is
// saved (switchedOut), never while it still runs on its vCPU.

import { IF } from "../machine/cpu/flags.ts";
import { call, type KernelPath, type Thread } from "./thread.ts";
import type { Kernel } from "./kernel.ts";

export class Scheduler {
  private readonly queue: Thread[] = [];
  private readonly sleepers = new Set<Thread>();
  /** Ticks in a time slice. */
  slice = 2;

  constructor(private readonly k: Kernel) {}

  /** Makes a ready thread runnable; an idle vCPU that may run it is kicked. */
  enqueue(t: Thread): void {
    t.state = "ready";
    this.queue.push(t);
    this.k.kickIdle(t.affinity);
  }

  /** Takes the first queued thread that may run on vCPU `id`, or null. */
  private take(id: number): Thread | null {
    const i = this.queue.findIndex((t) => t.affinity < 0 || t.affinity === id);
    return i < 0 ? null : this.queue.splice(i, 1)[0];
  }

  hasWorkFor(id: number): boolean {
    return this.queue.some((t) => t.affinity < 0 || t.affinity === id);
  }

  /**
   * Gives the vCPU to the next thread. The current one keeps its state: "running" (still
   * runnable: requeued once switched out), "blocked" or "dead". Returns when the current
   * thread runs again (on any vCPU), with its interrupt flag as before.
   */
  *schedule(): KernelPath {
    const k = this.k;
    const prev = k.current();
    const cpu = k.cpu;
    const interrupts = cpu.rflags & IF;
    cpu.rflags &= ~IF;
    k.percpu().needResched = false;
    k.charge("schedule");
    const next = this.take(cpu.id) ?? (prev.state === "running" && !k.isIdle(prev) ? prev : k.percpu().idle);
    if (prev.state === "running") prev.state = "ready";
    if (next !== prev) {
      next.slice = this.slice;
      if (next.mm !== prev.mm && next.mm !== null) yield* call(k.symbols.lvd_write_cr3, next.mm.cr3);
      yield { kind: "switch", to: next };
    } else prev.state = "running";
    if (interrupts) k.cpu.rflags |= IF;
  }

  /** Called by the executor once `t` is switched out. */
  switchedOut(t: Thread): void {
    if (t.state === "ready" && !this.k.isIdle(t)) this.enqueue(t);
  }

  /** Blocks the current thread until wake(). */
  *block(): KernelPath {
    this.k.current().state = "blocked";
    yield* this.schedule();
  }

  wake(t: Thread): void {
    if (t.state !== "blocked") return;
    this.sleepers.delete(t);
    t.wakeAt = Infinity;
    this.enqueue(t);
  }

  /** Sleeps for `cycles` of the vCPU clock (woken by the timer tick that sees the time has come). */
  *sleep(cycles: number): KernelPath {
    const t = this.k.current();
    t.wakeAt = this.k.cpu.cycles + cycles;
    this.sleepers.add(t);
    yield* this.block();
  }

  /** A timer tick on the current vCPU: accounting, sleepers, and whether to preempt. */
  tick(): void {
    const k = this.k;
    const now = k.cpu.cycles;
    for (const t of this.sleepers) if (t.wakeAt <= now) this.wake(t);
    const cur = k.current();
    cur.ticks++;
    const pc = k.percpu();
    if (k.isIdle(cur)) {
      if (this.hasWorkFor(k.cpu.id)) pc.needResched = true;
    } else if (--cur.slice <= 0 && this.hasWorkFor(k.cpu.id)) {
      pc.needResched = true;
      k.stats.preemptions++;
    }
  }
}
