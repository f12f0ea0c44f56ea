// The x86-64 descriptor tables the kernel keeps in guest memory: a GDT and a 64-bit TSS
// per vCPU, one IDT for all. The selectors match the firmware's boot GDT, so loading
// the kernel's GDT needs no far jump.

import type { GuestMemory } from "../guest-memory.ts";

export const KERNEL_CS = 0x08;
export const KERNEL_DS = 0x10;
export const USER_DS = 0x23;
export const USER_CS = 0x2b;
export const TSS_SEL = 0x30;
export const GDT_BYTES = 0x40;

/** 64-bit code (L=1), data, at DPL 0 or 3: flat descriptors as [low, high] dwords. */
const CODE64 = (dpl: number): [number, number] => [0x0000ffff, 0x00af9a00 | (dpl << 13)];
const DATA = (dpl: number): [number, number] => [0x0000ffff, 0x00cf9200 | (dpl << 13)];

/** The 64-bit TSS: RSP0-2 at 4, IST1-7 at 0x24, I/O map base at 0x66 (none: past the limit). */
export const TSS_RSP0 = 4;
export const TSS_IST = 0x24;
export const TSS_BYTES = 0x68;

/** The vectors delivered on an IST stack of their own (as Linux): vector -> IST slot. */
export const IST_OF_VECTOR: Readonly<Record<number, number>> = { 8: 1, 2: 2, 18: 3 }; // #DF, NMI, #MC
/** Exitless delivery (irq-entry.S) puts every other vector on an IST too: exceptions on one, interrupts on another. */
export const IST_EXCEPTIONS = 4;
export const IST_INTERRUPTS = 5;
export const IST_COUNT = 5;

/** The IST slot of `vector`: its own for #DF, NMI and #MC; with exitless delivery, one for the rest of 0-31 and one for 32-255. */
export function istOf(vector: number, exitless: boolean): number {
  return IST_OF_VECTOR[vector] ?? (!exitless ? 0 : vector < 32 ? IST_EXCEPTIONS : IST_INTERRUPTS);
}

export function writeGdt(mem: GuestMemory, gdt: number, tss: number): void {
  const put = (index: number, [lo, hi]: [number, number]) => {
    mem.write32(gdt + index * 8, lo);
    mem.write32(gdt + index * 8 + 4, hi);
  };
  put(0, [0, 0]);
  put(1, CODE64(0));
  put(2, DATA(0));
  put(3, [0, 0]); // user 32-bit code: not used
  put(4, DATA(3));
  put(5, CODE64(3));
  // The TSS descriptor takes two slots: base 63:0, limit, type 9 (available 64-bit TSS), present.
  const base = tss, limit = TSS_BYTES - 1;
  const b = ((base % 4294967296) + 4294967296) % 4294967296;
  put(6, [((b & 0xffff) << 16) | limit, ((b >>> 16) & 0xff) | 0x8900 | (b & 0xff000000)]);
  put(7, [Math.floor(base / 4294967296) | 0, 0]);
}

/** Bytes left unused at the top of each IST stack (writeTss). */
export const IST_SPARE = 16;

export function writeTss(mem: GuestMemory, tss: number, rsp0: number, ists: number[]): void {
  mem.fill(tss, TSS_BYTES);
  mem.write64(tss + TSS_RSP0, rsp0);
  // 16 bytes spare above each IST frame: INT n on a vector whose exception pushes an error
  // code (8, 10-14, 17...) pushes none, and the entry's copy of the frame (one word short)
  // must not read past the stack into its guard page (a #PF in the entry, on the same IST).
  ists.forEach((top, k) => mem.write64(tss + TSS_IST + k * 8, top - IST_SPARE));
  mem.write16(tss + 0x66, TSS_BYTES);
}

/** An interrupt gate (IF cleared on entry) to `handler` in the kernel code segment. */
export function writeIdtGate(mem: GuestMemory, idt: number, vector: number, handler: number, ist = 0, dpl = 0): void {
  const e = idt + vector * 16;
  const lo32 = ((handler % 4294967296) + 4294967296) % 4294967296;
  mem.write32(e, (KERNEL_CS << 16) | (lo32 & 0xffff));
  mem.write32(e + 4, (lo32 & 0xffff0000) | 0x8e00 | (dpl << 13) | ist);
  mem.write32(e + 8, Math.floor(handler / 4294967296) | 0);
  mem.write32(e + 12, 0);
}

/** A descriptor-table pointer (limit, base) for LGDT/LIDT, written at `at`. */
export function writeTablePointer(mem: GuestMemory, at: number, base: number, limit: number): void {
  mem.write16(at, limit);
  mem.write64(at + 2, base);
}
