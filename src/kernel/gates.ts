// The kernel's native gates (memory.ts): 16-byte slots in the gate pages at the start of
// the kernel image, kernel-only and executable. Binding a slot to a handler makes a
// fetch from its address run the handler; the slot's bytes are UD2, so if the binding
// were ever missing the fetch would raise #UD rather than run something else.

import type { PhysicalMemory, NativeGate } from "../machine/memory.ts";
import { GATE_PAGES, GATE_SIZE, KERNEL_IMAGE_PA, PAGE, imageVa } from "./layout.ts";

const UD2 = [0x0f, 0x0b];

export class Gates {
  private next = 0;
  /** Gate names by kernel address, for traces and reports. */
  readonly names = new Map<number, string>();
  readonly byName = new Map<string, number>();

  constructor(private readonly mem: PhysicalMemory) {
    const bytes = new Uint8Array(GATE_PAGES * PAGE);
    for (let k = 0; k < bytes.length; k += 2) bytes.set(UD2, k);
    mem.load(KERNEL_IMAGE_PA, bytes);
  }

  /** Binds the next free slot to `handler`; returns its kernel address. */
  bind(name: string, handler: NativeGate): number {
    if (this.next * GATE_SIZE >= GATE_PAGES * PAGE) throw new Error(`out of native gate slots (${this.next})`);
    const pa = KERNEL_IMAGE_PA + this.next++ * GATE_SIZE;
    this.mem.setGate(pa, handler);
    const va = imageVa(pa);
    this.names.set(va, name);
    this.byName.set(name, va);
    return va;
  }

  /** Binds a gate at a physical address outside the gate pages (the AP start page). */
  bindAt(name: string, pa: number, handler: NativeGate): void {
    this.mem.setGate(pa, handler);
    this.names.set(pa, name);
  }
}
