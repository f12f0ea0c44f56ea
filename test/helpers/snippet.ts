// A small machine for CPU tests: code at CODE, a data area at DATA, a stack, identity
// page tables for the low 16 MB (so tests can also build their own tables there), and an
// IDT whose every vector is a gate to a HLT stub, so an exception stops the run with
// `faultVector`/`faultError` recorded. Runs at ring 0 unless `user` is set.

import { PhysicalMemory } from "../../src/machine/memory.ts";
import { Cpu, CS, SS, RSP, type PortBus } from "../../src/machine/cpu/cpu.ts";
import { PageTableBuilder } from "../../src/machine/page-tables.ts";
import { assemble } from "./asm.ts";

export const CODE = 0x400000;
export const DATA = 0x600000;
export const STACK_TOP = 0x800000;
const IDT = 0x900000, GDT = 0x901000, TSS = 0x902000, HANDLERS = 0x903000, PT_BASE = 0xa00000;

export class NullPorts implements PortBus {
  readonly writes: [number, number, number][] = [];
  in(_port: number, size: number): number {
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }
  out(port: number, size: number, value: number): void {
    this.writes.push([port, size, value]);
  }
}

export interface Snippet {
  cpu: Cpu;
  mem: PhysicalMemory;
  ports: NullPorts;
  pt: PageTableBuilder;
  /** Allocates a zeroed physical page above the tables (for tests' own structures). */
  allocPage(): number;
  /** Runs until HLT (end of snippet or an exception) or `max` instructions. */
  run(max?: number): void;
  /** The vector of the exception that stopped the run, or -1. */
  faultVector(): number;
  /** Its error code (or -1) and the RIP it was raised at. */
  faultError(): number;
  faultRip(): number;
}

/** Builds a machine with `source` (assembly text or bytes) at CODE, ending in HLT. */
export function snippet(source: string | Uint8Array, opts: { user?: boolean; memory?: number } = {}): Snippet {
  const mem = new PhysicalMemory(opts.memory ?? 32 * 1024 * 1024);
  const ports = new NullPorts();
  let next = PT_BASE;
  const allocPage = () => {
    const pa = next;
    next += 4096;
    mem.load(pa, new Uint8Array(4096));
    return pa;
  };
  const pt = new PageTableBuilder(mem, allocPage);
  const user = !!opts.user;
  pt.map(0, 0, 0x1000000, { write: true, exec: true, user }, 0x200000);
  const code = typeof source === "string" ? assemble(source + "\nhlt") : source;
  mem.load(CODE, code);

  // GDT: null, kernel code 0x08, kernel data 0x10, user data 0x1b, user code 0x23 (0x20|3), TSS 0x28.
  mem.write64(GDT + 8, 0x0000ffff, 0x00af9b00);
  mem.write64(GDT + 16, 0x0000ffff, 0x00cf9300);
  mem.write64(GDT + 24, 0x0000ffff, 0x00cff300);
  mem.write64(GDT + 32, 0x0000ffff, 0x00affb00);
  mem.write64(GDT + 40, 0x0067 | ((TSS & 0xffff) << 16), ((TSS >>> 16) & 0xff) | 0x8900 | (TSS & 0xff000000));
  // TSS: RSP0 and IST1..7 all point at the stack top region reserved for events.
  for (let k = 0; k < 3; k++) mem.writeU64(TSS + 4 + k * 8, STACK_TOP + 0x10000);
  for (let k = 0; k < 7; k++) mem.writeU64(TSS + 0x24 + k * 8, STACK_TOP + 0x20000 + k * 0x1000);
  // Every vector: an interrupt gate to HANDLERS + 16*v, which records nothing and halts.
  for (let v = 0; v < 256; v++) {
    const target = HANDLERS + v * 16;
    mem.write32(IDT + v * 16, (target & 0xffff) | (0x08 << 16));
    mem.write32(IDT + v * 16 + 4, (target & 0xffff0000) | 0x8e00);
    mem.write32(IDT + v * 16 + 8, 0);
    mem.write8(HANDLERS + v * 16, 0xf4);
  }

  const cpu = new Cpu(mem, ports);
  cpu.cr3 = pt.root;
  cpu.gdtBase = GDT;
  cpu.gdtLimit = 55;
  cpu.idtBase = IDT;
  cpu.idtLimit = 4095;
  cpu.trSel = 0x28;
  cpu.trBase = TSS;
  cpu.trLimit = 0x67;
  if (user) {
    cpu.cpl = 3;
    cpu.segSel[CS] = 0x23;
    cpu.segSel[SS] = 0x1b;
  } else {
    cpu.segSel[CS] = 0x08;
    cpu.segSel[SS] = 0x10;
  }
  cpu.rip = CODE;
  cpu.setReg64(RSP, STACK_TOP);

  const handlerVector = () => {
    const off = cpu.rip - 1 - HANDLERS;
    return cpu.rip > HANDLERS && off < 256 * 16 && off % 16 === 0 ? off / 16 : -1;
  };
  return {
    cpu, mem, ports, pt, allocPage,
    run(max = 1_000_000) {
      for (let n = 0; n < max && !cpu.halted && !cpu.shutdown; n++) cpu.step();
    },
    faultVector: handlerVector,
    faultError() {
      const v = handlerVector();
      if (v < 0) return -1;
      const hasCode = v === 8 || (v >= 10 && v <= 14) || v === 17;
      return hasCode ? mem.read32(cpu.translateAs(cpu.rsp, 1, false)) : -1;
    },
    faultRip() {
      const v = handlerVector();
      const hasCode = v === 8 || (v >= 10 && v <= 14) || v === 17;
      return cpu.read64(cpu.rsp + (hasCode ? 8 : 0)) >>> 0;
    },
  };
}
