// The console: printk's log. Lines are kept (with the modeled time and vCPU) for the
// kernel's users, and written to the debug console port by a console thread with real
// port I/O (REP OUTSB from a buffer in guest memory), so under the hypervisor the output
// costs the I/O exits it would on hardware. Logging itself never blocks: like printk,
// it stores the line and wakes the writer.

import type { Kernel } from "./kernel.ts";
import { call, type KernelPath } from "./thread.ts";
import { WaitQueue } from "./sync.ts";
import { DEBUG_CONSOLE_PORT } from "../machine/machine.ts";

/** The modeled clock rate for log timestamps (the reference's Haswell E5-2660 v3). */
export const CLOCK_HZ = 2.6e9;

export interface LogLine {
  cycle: number;
  cpu: number;
  text: string;
}

const CHUNK = 4096;

export class Console {
  readonly lines: LogLine[] = [];
  private pending = "";
  private writing = false;
  private buffer = 0;
  private readonly waiting: WaitQueue;
  /** Sees each line as it is logged. */
  onLine: ((line: LogLine, formatted: string) => void) | null = null;

  constructor(private readonly k: Kernel) {
    this.waiting = new WaitQueue(k);
  }

  static format(line: LogLine): string {
    return `[${(line.cycle / CLOCK_HZ).toFixed(6).padStart(11)}] ${line.text}`;
  }

  log(text: string): void {
    const k = this.k;
    const line = { cycle: k.cpu ? k.cpu.cycles : 0, cpu: k.cpu ? k.cpu.id : 0, text };
    if (k.cpu) k.charge("printk");
    this.lines.push(line);
    const formatted = Console.format(line);
    this.onLine?.(line, formatted);
    this.pending += formatted + "\n";
    this.waiting.wakeAll();
  }

  /** The console thread's body: writes what is logged to the console port. */
  *writer(): KernelPath {
    this.buffer = this.k.heap.alloc(CHUNK);
    for (;;) {
      yield* this.waiting.waitUntil(() => this.pending.length > 0);
      this.writing = true;
      while (this.pending.length > 0) {
        const chunk = this.pending.slice(0, CHUNK);
        this.pending = this.pending.slice(chunk.length);
        const bytes = new TextEncoder().encode(chunk).subarray(0, CHUNK);
        this.k.mem.writeBytes(this.buffer, bytes);
        yield* call(this.k.symbols.lvd_outsb, DEBUG_CONSOLE_PORT, this.buffer, bytes.length);
      }
      this.writing = false;
      this.waiting.wakeAll();
    }
  }

  /** Waits until everything logged so far has been written. */
  *drain(): KernelPath {
    yield* this.waiting.waitUntil(() => this.pending.length === 0 && !this.writing);
  }
}
