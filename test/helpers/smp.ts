// Multi-vCPU snippet machines: a Machine with its low 16 MB identity-mapped (plus the
// local APIC page), one GDT with a TSS per vCPU (IST1..7 on stacks of their own), one IDT
// shared by all whose every vector defaults to a `cli; hlt` stub (so an unexpected event
// parks the vCPU where faultVector() can see it), and `main` assembled at CODE. Every
// vCPU starts at CODE, at ring 0 with IF=0, RDI = its index and RSP = its own stack.

import { Machine, type MachineOptions, type MachineRun } from "../../src/machine/machine.ts";
import { Cpu, CS, SS, DS, ES, RDI, RSP } from "../../src/machine/cpu/cpu.ts";
import type { LocalApic } from "../../src/machine/apic.ts";
import { PageTableBuilder } from "../../src/machine/page-tables.ts";
import { assemble } from "./asm.ts";

export const CODE = 0x100000;
export const DATA = 0x200000;
export const GDT = 0x300000, IDT = 0x301000, TSS = 0x302000, HANDLERS = 0x304000;
const STACKS = 0x400000, IST_STACKS = 0x800000, PT_BASE = 0xc00000;
export const APIC = 0xfee00000;
/** Selector of vCPU k's TSS. */
export const tssSelector = (k: number) => 0x28 + 16 * k;
/** Top of vCPU k's ordinary stack, and of its IST stack n (1..7). */
export const stackTop = (k: number) => STACKS + (k + 1) * 0x4000;
export const istTop = (k: number, n: number) => IST_STACKS + k * 0x8000 + n * 0x1000;

export interface SmpOptions extends Partial<MachineOptions> {
  /** Start every vCPU at CODE (default), or only the BSP (the others wait for SIPI). */
  start?: "all" | "bsp";
}

export interface Smp {
  m: Machine;
  cpu(k: number): Cpu;
  apic(k: number): LocalApic;
  /** Assembles `source` at physical (= linear) address `at`; returns its length. */
  load(at: number, source: string): number;
  /** IDT gate `vector` -> `target` (interrupt gate unless trap; IST index; DPL). */
  gate(vector: number, target: number, opts?: { trap?: boolean; ist?: number; dpl?: number; present?: boolean }): void;
  /** Assembles a handler at `at` and points `vector`'s gate at it. */
  handler(vector: number, at: number, source: string, opts?: { trap?: boolean; ist?: number }): void;
  run(max?: number): MachineRun;
  read32(pa: number): number;
  read64(pa: number): number;
  /** The vector whose default stub vCPU k is parked in, or -1. */
  faultVector(k: number): number;
  /**
   * Fills vCPU k's TLB for the pages an event delivery to `vector` touches (IDT, GDT,
   * TSS, the current stack, the handler) and `more`, so tests that count cycles exactly
   * are not charged first-use page walks.
   */
  warm(k: number, vector: number, more?: number[]): void;
}

export function smp(main: string, opts: SmpOptions = {}): Smp {
  const cpus = opts.cpus ?? 1;
  const m = new Machine({ ...opts, cpus, memoryBytes: opts.memoryBytes ?? 16 * 1024 * 1024, seed: opts.seed ?? 1 });
  const mem = m.mem;
  let next = PT_BASE;
  const pt = new PageTableBuilder(mem, () => {
    const pa = next;
    next += 4096;
    return pa;
  });
  pt.map(0, 0, 0x1000000, { write: true, exec: true }, 0x200000);
  pt.map(APIC, APIC, 4096, { write: true });

  const load = (at: number, source: string) => {
    const bytes = assemble(source);
    mem.load(at, bytes);
    return bytes.length;
  };
  load(CODE, main);

  // GDT: null, code 0x08, data 0x10, then a 16-byte TSS descriptor per vCPU at 0x28 + 16k.
  mem.write64(GDT + 8, 0x0000ffff, 0x00af9b00);
  mem.write64(GDT + 16, 0x0000ffff, 0x00cf9300);
  for (let k = 0; k < cpus; k++) {
    const tss = TSS + k * 0x80;
    mem.write64(GDT + tssSelector(k), 0x0067 | ((tss & 0xffff) << 16), ((tss >>> 16) & 0xff) | 0x8b00 | (tss & 0xff000000));
    mem.writeU64(tss + 4, stackTop(k)); // RSP0
    for (let n = 1; n <= 7; n++) mem.writeU64(tss + 0x24 + (n - 1) * 8, istTop(k, n));
  }
  const gate = (vector: number, target: number, o: { trap?: boolean; ist?: number; dpl?: number; present?: boolean } = {}) => {
    const access = (o.present === false ? 0 : 0x80) | ((o.dpl ?? 0) << 5) | (o.trap ? 0xf : 0xe);
    mem.write32(IDT + vector * 16, (target & 0xffff) | (0x08 << 16));
    mem.write32(IDT + vector * 16 + 4, (target & 0xffff0000) | (access << 8) | (o.ist ?? 0));
    mem.write32(IDT + vector * 16 + 8, 0);
  };
  for (let v = 0; v < 256; v++) {
    gate(v, HANDLERS + v * 16);
    mem.load(HANDLERS + v * 16, new Uint8Array([0xfa, 0xf4, 0xeb, 0xfd])); // cli; hlt; jmp back to hlt
  }

  const setup = (c: Cpu) => {
    c.cr3 = pt.root;
    c.flushTlb(true);
    c.gdtBase = GDT;
    c.gdtLimit = 0x28 + 16 * cpus - 1;
    c.idtBase = IDT;
    c.idtLimit = 4095;
    c.trSel = tssSelector(c.id);
    c.trBase = TSS + c.id * 0x80;
    c.trLimit = 0x67;
    c.segSel[CS] = 0x08;
    c.segSel[SS] = c.segSel[DS] = c.segSel[ES] = 0x10;
    c.cpl = 0;
    c.rflags = 2;
    c.rip = CODE;
    c.setReg64(RSP, stackTop(c.id));
    c.setReg64(RDI, c.id);
  };
  setup(m.cpus[0]);
  for (let k = 1; k < cpus; k++) {
    if (opts.start === "bsp") {
      // Waiting for SIPI, but with the same tables ready for whoever starts it.
      const c = m.cpus[k];
      c.cr3 = pt.root;
      c.trSel = tssSelector(k);
      c.trBase = TSS + k * 0x80;
      c.trLimit = 0x67;
    } else m.startCpu(k, setup);
  }

  return {
    m,
    cpu: (k) => m.cpus[k],
    apic: (k) => m.apics[k],
    load,
    gate,
    handler(vector, at, source, o = {}) {
      load(at, source);
      gate(vector, at, o);
    },
    run: (max = 10_000_000) => m.run(max),
    read32: (pa) => mem.read32(pa),
    read64: (pa) => mem.readU64(pa),
    faultVector(k) {
      const off = m.cpus[k].rip - HANDLERS;
      return off >= 0 && off < 256 * 16 && m.cpus[k].halted ? off >> 4 : -1;
    },
    warm(k, vector, more = []) {
      const c = m.cpus[k];
      const gate = IDT + vector * 16;
      const target = (mem.read32(gate) & 0xffff) | (mem.read32(gate + 4) & 0xffff0000);
      for (const la of [gate, GDT, c.trBase, target]) c.translateAs(la, 1, false);
      for (const la of [c.rsp - 8, c.rsp - 64, ...more]) c.translateAs(la, 2, false); // written: D set

    },
  };
}
