// Runs a case on LVD's Cpu: the same code and data pages at the same linear addresses,
// user mode (CPL 3, CS 0x33 like the host process), the host's GS base, and no IDT, so
// an exception ends in a triple fault whose report keeps the first fault's vector,
// error code and CR2, with the registers as they were (exceptions are precise).

import { PhysicalMemory } from "../../src/machine/memory.ts";
import { Cpu, CS, SS, DS, ES, FS, GS, type PortBus, type ShutdownReason } from "../../src/machine/cpu/cpu.ts";
import { PageTableBuilder } from "../../src/machine/page-tables.ts";
import { blockConfig, configureBlocks } from "../../src/machine/cpu/blocks.ts";
import { CODE_BASE, DATA_BASE, PAGE, initialData, type FuzzCase, type Outcome } from "./cases.ts";
import type { HostEnv } from "./native.ts";

const CODE_PA = 0x80000;
const DATA_PA = 0x81000;

class NoPorts implements PortBus {
  in(_port: number, size: number): number {
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }
  out(): void {}
}

/** System state an instruction might change (if the emulator let it): restored before every case. */
interface SystemState {
  cpl: number;
  segSel: number[];
  segBase: number[];
  kernelGsBase: number;
  cr0: number; cr3: number; cr4: number; cr8: number; efer: number; xcr0: number;
  dr: number[];
  gdt: [number, number]; idt: [number, number];
}

export class Emulator {
  readonly mem = new PhysicalMemory(0x100000);
  readonly cpu: Cpu;
  private readonly codePage = new Uint8Array(PAGE).fill(0xcc);
  private readonly initial: SystemState;
  private readonly tables = new Uint8Array(0x10000);

  /**
   * Runs each case as one decoded block compiled before its first run (so through
   * jit.ts's generated code, a flag producer and its consumer in the same block) instead
   * of one cpu.step() per instruction.
   */
  readonly viaBlocks: boolean;

  constructor(env: HostEnv, opts: { viaBlocks?: boolean } = {}) {
    this.viaBlocks = opts.viaBlocks ?? false;
    let next = 0x10000;
    const pt = new PageTableBuilder(this.mem, () => {
      const pa = next;
      next += PAGE;
      return pa;
    });
    pt.map(CODE_BASE, CODE_PA, PAGE, { user: true, write: true, exec: true });
    pt.map(DATA_BASE, DATA_PA, PAGE, { user: true, write: true });
    const cpu = (this.cpu = new Cpu(this.mem, new NoPorts()));
    cpu.cr3 = pt.root;
    cpu.cpl = 3;
    [ES, CS, SS, DS, FS, GS].forEach((seg, k) => (cpu.segSel[seg] = env.selectors[k]));
    cpu.segBase[GS] = Number(env.gsBase);
    cpu.idtBase = 0;
    cpu.idtLimit = 0;
    this.initial = this.snapshot();
    this.tables.set(this.mem.bytes.subarray(0x10000, 0x20000));
  }

  private snapshot(): SystemState {
    const c = this.cpu;
    return {
      cpl: c.cpl, segSel: [...c.segSel], segBase: [...c.segBase], kernelGsBase: c.kernelGsBase,
      cr0: c.cr0, cr3: c.cr3, cr4: c.cr4, cr8: c.cr8, efer: c.efer, xcr0: c.xcr0, dr: [...c.dr],
      gdt: [c.gdtBase, c.gdtLimit], idt: [c.idtBase, c.idtLimit],
    };
  }

  /** Puts back the system state of a user process, should a case have changed it. */
  private restore(): void {
    const c = this.cpu, s = this.initial;
    const same = JSON.stringify(this.snapshot()) === JSON.stringify(s);
    if (same) return;
    c.cpl = s.cpl;
    s.segSel.forEach((v, k) => (c.segSel[k] = v));
    s.segBase.forEach((v, k) => (c.segBase[k] = v));
    c.kernelGsBase = s.kernelGsBase;
    c.cr0 = s.cr0; c.cr3 = s.cr3; c.cr4 = s.cr4; c.cr8 = s.cr8; c.efer = s.efer; c.xcr0 = s.xcr0;
    s.dr.forEach((v, k) => (c.dr[k] = v));
    [c.gdtBase, c.gdtLimit] = s.gdt;
    [c.idtBase, c.idtLimit] = s.idt;
    this.mem.load(0x10000, this.tables);
    c.flushTlb(true);
    c.refetch();
  }

  run(c: FuzzCase): Outcome {
    const { cpu, mem } = this;
    this.restore();
    const code = this.codePage;
    const inPage = c.bytes.subarray(0, PAGE - c.codeOff); // the rest would be on the unmapped next page
    code.set(inPage, c.codeOff);
    mem.load(CODE_PA, code);
    code.fill(0xcc, c.codeOff, c.codeOff + inPage.length);
    const data = initialData(c);
    mem.load(DATA_PA, data);
    for (let r = 0; r < 16; r++) {
      cpu.lo[r] = Number(c.regs[r] & 0xffffffffn) | 0;
      cpu.hi[r] = Number(c.regs[r] >> 32n) | 0;
    }
    cpu.shutdown = null;
    cpu.halted = false;
    cpu.cr2 = 0;
    cpu.rip = CODE_BASE + c.codeOff;
    cpu.rflags = c.rflags;
    let problem: string | undefined;
    const saved = { ...blockConfig };
    try {
      if (this.viaBlocks) {
        configureBlocks({ hot: 0, maxLength: c.steps });
        cpu.run(c.steps);
      } else {
        for (let k = 0; k < c.steps && !cpu.shutdown; k++) cpu.step();
      }
    } catch (e) {
      problem = `the emulator threw: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      configureBlocks(saved);
    }
    const regs: bigint[] = [];
    for (let r = 0; r < 16; r++) regs.push((BigInt(cpu.hi[r] >>> 0) << 32n) | BigInt(cpu.lo[r] >>> 0));
    const diffs: [number, number][] = [];
    const bytes = mem.bytes;
    for (let k = 0, n = data.length; k < n; k++) if (bytes[DATA_PA + k] !== data[k]) diffs.push([k, bytes[DATA_PA + k]]);
    const o: Outcome = { vector: -1, err: -1, regs, rip: cpu.rip - CODE_BASE, rflags: cpu.rflags >>> 0, diffs, problem };
    const s = cpu.shutdown as ShutdownReason | null; // step() may have set it
    if (s) {
      o.vector = s.vector;
      o.err = s.errorCode;
      o.rip = s.rip - CODE_BASE;
      if (s.vector === 14) o.cr2 = BigInt.asUintN(64, BigInt(s.cr2));
    }
    return o;
  }
}
