// The executor: how kernel TypeScript runs on the vCPUs (DESIGN.md, execution model).
//
// The kernel is entered only through native gates (memory.ts): a gate handler pushes an
// activation (a generator, thread.ts) on the thread running on that vCPU and calls
// run(), which resumes the innermost activation until it yields an effect the vCPU must
// carry out in machine code, or returns:
//  - "call": the executor loads the arguments, aligns the stack, pushes the address of
//    the return gate and jumps to the target; the gate handler returns and the vCPU runs
//    the guest code. When that code returns to the return gate, run() resumes the same
//    activation with RAX. The stack pointer identifies the call: the return gate checks
//    RSP is the one the call left, so a stray jump to the gate cannot resume anything.
//  - "switch": the vCPU changes threads. Callee-saved registers and RFLAGS of the old
//    thread go onto its kernel stack, its RSP into the thread; the new thread's are
//    restored (or its body starts on a fresh stack), and run() goes on with the new
//    thread's innermost activation (which is waiting in its own "switch").
//  - return: the activation's completion sets up where the vCPU continues (for an
//    interrupt, the register-restoring IRETQ path; for an exported function, RAX and a
//    RET), and the gate handler returns.
// So the machine's run loop never recurses through JavaScript, a thread can be
// suspended anywhere in a chain kernel -> guest -> kernel -> guest, and it may resume
// on another vCPU.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { CpuFault, Interception, RAX, RBX, RBP, RDI, RSI, RDX, RCX } from "../machine/cpu/cpu.ts";
import type { Activation, Completion, Effect, KernelPath, Thread } from "./thread.ts";
import { setRegU64 } from "./registers.ts";

const ARG_REGS = [RDI, RSI, RDX, RCX, 8, 9];
/** Saved across a switch, in push order (the rest is dead across a call, or saved by the interrupt entry). */
const CALLEE_SAVED = [RBX, RBP, 12, 13, 14, 15];

/**
 * A kernel bug found by kernel TypeScript (a bad pointer handed to kfree, memory
 * exhausted...): the thread that hit it is killed, like an oops. Any other JavaScript
 * error is a bug in the TypeScript itself and propagates.
 */
export class KernelBug extends Error {}

/** What the executor needs from the kernel around it. */
export interface ExecutorHost {
  current(cpu: Cpu): Thread;
  setCurrent(cpu: Cpu, t: Thread): void;
  /** The kernel address of the return gate (bound to Executor.returned). */
  readonly returnGate: number;
  /** The path a new thread runs (its body, then its exit). */
  threadMain(t: Thread): KernelPath<unknown>;
  /** After a switch away from `t`, its context saved: requeue it if ready, free its stack if dead. */
  switchedOut(t: Thread): void;
  /** A kernel path of `t` failed; returns the path that takes the vCPU elsewhere (kill `t`, schedule). */
  oops(cpu: Cpu, t: Thread, error: unknown): KernelPath<unknown>;
  /** The vCPU the kernel is running on changes (KernelCore.cpu). */
  enterCpu(cpu: Cpu): void;
}

export class Executor {
  constructor(private readonly host: ExecutorHost) {}

  /** A gate entered the kernel: run `path` as the innermost activation of the current thread. */
  enter(cpu: Cpu, path: KernelPath<unknown>, complete: Completion): void {
    const t = this.host.current(cpu);
    t.activations.push({ path, complete, savedRsp: 0, awaitRsp: NaN });
    this.run(cpu, t, undefined);
  }

  /** The return gate: guest code called by the kernel returned. */
  returned(cpu: Cpu): void {
    const t = this.host.current(cpu);
    const a = t.top;
    if (!a || a.awaitRsp !== cpu.rsp) {
      const why = a ? `RSP 0x${(cpu.rsp >>> 0).toString(16)}, expected 0x${(a.awaitRsp >>> 0).toString(16)}` : "no call outstanding";
      this.fail(cpu, t, new KernelBug(`return gate reached by ${t} with ${why}`));
      return;
    }
    cpu.rsp = a.savedRsp;
    a.awaitRsp = NaN;
    this.run(cpu, t, cpu.reg64(RAX));
  }

  /** Starts `t` on a vCPU that runs no thread yet (a processor coming up). */
  boot(cpu: Cpu, t: Thread): void {
    this.host.setCurrent(cpu, t);
    this.begin(cpu, t);
    this.run(cpu, t, undefined);
  }

  /**
   * Abandons the activations of `t` (the current thread) above `a`, which waits for a
   * guest call, and resumes `a` by throwing `error` into it, after `restore` has put the
   * vCPU back as that call's caller had it (a domain that was killed: its crossing fails).
   */
  unwind(cpu: Cpu, t: Thread, a: Activation, error: Error, restore: () => void): void {
    const i = t.activations.indexOf(a);
    if (i < 0) throw new KernelBug(`unwind: the activation is not ${t}'s`);
    for (const x of t.activations.splice(i + 1).reverse()) x.path.return(undefined);
    restore();
    cpu.rsp = a.savedRsp;
    a.awaitRsp = NaN;
    this.run(cpu, t, undefined, error);
  }

  private run(cpu: Cpu, t: Thread, value: number | undefined, error?: Error): void {
    this.host.enterCpu(cpu);
    for (;;) {
      const a = t.top!;
      let r: IteratorResult<unknown, unknown>;
      try {
        if (error) {
          const e = error;
          error = undefined;
          r = a.path.throw(e);
        } else r = a.path.next(value);
      } catch (e) {
        if (e instanceof Interception) throw e; // a VM exit: the hypervisor takes it (and upcalls the kernel)
        this.fail(cpu, t, e);
        return;
      }
      if (r.done) {
        t.activations.pop();
        a.complete(r.value);
        return;
      }
      const effect = r.value as Effect;
      try {
        if (effect.kind === "call") {
          this.callGuest(cpu, a, effect.target, effect.args);
          return;
        }
        t = this.switchTo(cpu, t, effect.to);
      } catch (e) {
        if (e instanceof Interception) throw e;
        this.fail(cpu, t, e);
        return;
      }
      value = undefined;
    }
  }

  private callGuest(cpu: Cpu, a: Activation, target: number, args: readonly (number | bigint)[]): void {
    args.forEach((v, k) => (typeof v === "number" ? cpu.setReg64(ARG_REGS[k], v) : setRegU64(cpu, ARG_REGS[k], v)));
    a.savedRsp = cpu.rsp;
    // System V: RSP + 8 is 16-byte aligned at the callee's first instruction.
    cpu.rsp = a.savedRsp - (a.savedRsp & 15) - 8;
    cpu.push(8, this.host.returnGate | 0, Math.floor(this.host.returnGate / 4294967296));
    a.awaitRsp = cpu.rsp + 8;
    cpu.nextRip = target;
  }

  private switchTo(cpu: Cpu, prev: Thread, next: Thread): Thread {
    if (next === prev) return prev;
    if (prev.state !== "dead") {
      for (const r of CALLEE_SAVED) cpu.push(8, cpu.lo[r], cpu.hi[r]);
      cpu.push(8, cpu.rflags, 0);
      prev.savedRsp = cpu.rsp;
    }
    this.host.setCurrent(cpu, next);
    if (next.activations.length === 0) this.begin(cpu, next);
    else {
      cpu.rsp = next.savedRsp;
      cpu.rflags = cpu.pop(8);
      for (let k = CALLEE_SAVED.length - 1; k >= 0; k--) {
        const lo = cpu.pop(8);
        cpu.lo[CALLEE_SAVED[k]] = lo;
        cpu.hi[CALLEE_SAVED[k]] = cpu.h;
      }
    }
    next.state = "running";
    next.lastCpu = cpu.id;
    this.host.switchedOut(prev);
    return next;
  }

  /** A new thread's first activation, on its fresh stack with interrupts off. */
  private begin(cpu: Cpu, t: Thread): void {
    cpu.rsp = t.stackTop;
    cpu.rflags = 2;
    t.state = "running";
    t.lastCpu = cpu.id;
    t.activations.push({
      path: this.host.threadMain(t),
      complete: () => {
        throw new KernelBug(`the main path of ${t} returned instead of switching away`);
      },
      savedRsp: 0,
      awaitRsp: NaN,
    });
  }

  /** A kernel path threw: the thread's activations are gone; the host's recovery path runs instead. */
  private fail(cpu: Cpu, t: Thread, error: unknown): void {
    if (!(error instanceof CpuFault) && !(error instanceof KernelBug)) throw error;
    if (t.killed !== null) throw error; // the recovery path itself failed: a bug in the kernel's TypeScript
    t.activations.length = 0;
    t.activations.push({ path: this.host.oops(cpu, t, error), complete: () => {}, savedRsp: 0, awaitRsp: NaN });
    this.run(cpu, t, undefined);
  }
}

