// Waiting: wait queues and completions for kernel threads.

import type { Kernel } from "./kernel.ts";
import type { KernelPath, Thread } from "./thread.ts";

export class WaitQueue {
  private readonly waiters: Thread[] = [];

  constructor(private readonly k: Kernel) {}

  /** Blocks the current thread until `ready()` holds (checked on every wake-up). */
  *waitUntil(ready: () => boolean): KernelPath {
    while (!ready()) {
      this.waiters.push(this.k.current());
      yield* this.k.scheduler.block();
    }
  }

  wakeAll(): void {
    for (const t of this.waiters.splice(0)) this.k.scheduler.wake(t);
  }
}

/** A one-shot (or counting) event threads wait for: complete() n times releases waiters of n. */
export class Completion {
  private done = 0;
  private readonly queue: WaitQueue;

  constructor(k: Kernel) {
    this.queue = new WaitQueue(k);
  }

  complete(): void {
    this.done++;
    this.queue.wakeAll();
  }

  *wait(count = 1): KernelPath {
    yield* this.queue.waitUntil(() => this.done >= count);
  }
}
