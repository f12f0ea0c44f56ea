// Kernel threads and the continuations they are made of.
//
// Kernel code that can run guest code, block or be preempted is a generator (a
// KernelPath). It never touches the processor's control flow itself: it yields an
// Effect and the executor (exec.ts) makes the vCPU do it, then resumes the generator
// when the effect is over. A thread is a stack of such generators ("activations"),
// innermost last: its own body at the bottom, then one per entry into the kernel that
// happened while it ran guest code (an interrupt, a call of an exported kernel function
// by a module), each waiting for the guest code it called to return, or for the thread
// to be switched back in.

import type { AddressSpace } from "./mm/address-space.ts";

/** Run machine code at `target` with the System V calling convention; resumes with RAX. */
export interface CallEffect {
  readonly kind: "call";
  readonly target: number;
  /** Numbers (exact below 2^53, or canonical addresses) or bigints (any 64-bit value). */
  readonly args: readonly (number | bigint)[];
}
/** Give this vCPU to thread `to` (the scheduler decided); resumes when this thread runs again. */
export interface SwitchEffect {
  readonly kind: "switch";
  readonly to: Thread;
}
export type Effect = CallEffect | SwitchEffect;

export type KernelPath<T = void> = Generator<Effect, T, number | undefined>;

/** Calls machine code from the kernel: `const rax = yield* call(fn, a, b)`. */
export function* call(target: number, ...args: (number | bigint)[]): KernelPath<number> {
  return (yield { kind: "call", target, args }) as number;
}

/** What the executor does with the vCPU when an activation's generator returns. */
export type Completion = (value: unknown) => void;

export interface Activation {
  readonly path: KernelPath<unknown>;
  readonly complete: Completion;
  /** While a guest call is out: RSP before the call, and RSP the return gate must see. */
  savedRsp: number;
  awaitRsp: number;
}

export type ThreadState = "new" | "running" | "ready" | "blocked" | "dead";

export class Thread {
  state: ThreadState = "new";
  readonly activations: Activation[] = [];
  /** RSP while switched out (callee-saved registers and RFLAGS pushed below it). */
  savedRsp = 0;
  /** Interrupt activations on the stack: the thread is preemptible only at 0. */
  irqDepth = 0;
  /** Timer ticks left in its time slice. */
  slice = 0;
  /** Ticks it has run, and the vCPU it last ran on. */
  ticks = 0;
  lastCpu = -1;
  /** Set when it was killed (an oops), with the reason. */
  killed: string | null = null;
  /** Wakes it at this cycle when sleeping. */
  wakeAt = Infinity;
  /**
   * Where its extended (x87/SSE/AVX) state is saved across a domain crossing, when the
   * kernel's lazy tracking says the thread uses it (kernel_fpu_begin); 0: not in use.
   */
  xstate = 0;
  /** Threads waiting for this one to end (join). */
  readonly joiners: Thread[] = [];

  constructor(
    readonly id: number,
    readonly name: string,
    /** The body; null for a vCPU's boot/idle thread, whose body the executor starts itself. */
    readonly body: (() => KernelPath<unknown>) | null,
    /** Kernel stack: lowest usable address and the top. */
    readonly stackBase: number,
    readonly stackTop: number,
    /** -1: any vCPU; else the only vCPU it runs on. */
    public affinity: number,
    /** Its address space (CR3); the boot thread gets the kernel's once the kernel has built it. */
    public mm: AddressSpace | null,
  ) {}

  get top(): Activation | undefined {
    return this.activations[this.activations.length - 1];
  }

  toString(): string {
    return `${this.name}[${this.id}]`;
  }
}
