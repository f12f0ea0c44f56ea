// The CR3-target list as a small LRU cache (reference section 3: "CR3 writes use the
// VMCS CR3-target list managed as a small LRU cache so that context switches do not
// exit"). A MOV to CR3 whose operand equals one of the targets does not exit; a miss
// exits, and the hypervisor puts the new value in, evicting the least recently used one.
//
// Hits never exit, so the hypervisor cannot see them; what it sees of use is the
// insertion of a value and, at each miss, the CR3 the guest is leaving (the one in use
// until then), which it marks as used. Values are the MOV operands as 64-bit halves
// (with PCIDs, bit 63 is part of the operand and of the comparison).
//
// Pure bookkeeping: the hypervisor mirrors each change into the VMCS.

export interface Cr3Target {
  lo: number;
  hi: number;
}

export class Cr3Cache {
  /** Targets by slot (slot k is CR3-target value k); `count` of them are valid. */
  readonly slots: Cr3Target[] = [];
  /** A use stamp per slot: the smallest is the least recently used. */
  private readonly used: number[] = [];
  private clock = 0;

  constructor(readonly capacity: number, first: Cr3Target) {
    this.insert(first.lo, first.hi);
  }

  get count(): number {
    return this.slots.length;
  }

  /** The slot holding exactly this operand, or -1. */
  find(lo: number, hi: number): number {
    return this.slots.findIndex((t) => t.lo === lo && t.hi === hi);
  }

  /** Marks as used the targets that load `cr3` (a CR3 register value: bit 63 is never set in it). */
  touch(cr3Lo: number, cr3Hi: number): void {
    for (let k = 0; k < this.slots.length; k++) {
      const t = this.slots[k];
      if (t.lo === cr3Lo && (t.hi & 0x7fffffff) === cr3Hi) this.used[k] = ++this.clock;
    }
  }

  /**
   * Adds an operand that missed; returns its slot and whether a value was evicted (the
   * least recently used one, whose slot it takes).
   */
  insert(lo: number, hi: number): { slot: number; evicted: Cr3Target | null } {
    let slot = this.find(lo, hi);
    let evicted: Cr3Target | null = null;
    if (slot < 0) {
      if (this.slots.length < this.capacity) {
        slot = this.slots.length;
        this.slots.push({ lo, hi });
      } else {
        slot = 0;
        for (let k = 1; k < this.used.length; k++) if (this.used[k] < this.used[slot]) slot = k;
        evicted = this.slots[slot];
        this.slots[slot] = { lo, hi };
      }
    }
    this.used[slot] = ++this.clock;
    return { slot, evicted };
  }
}
