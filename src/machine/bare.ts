// A bare machine for one program: what `lvd run-bare` runs, and what the CPU tests use.
//
// The loader plays firmware: it links the program's objects at the kernel's code-model
// address (gcc -mcmodel=kernel: the top 2 GB), builds 4-level page tables with the
// image's page rights (text read-execute, rodata read-only, data no-execute), a GDT
// with a 64-bit code segment, a stack with an unmapped guard page below it, and starts
// one vCPU in long mode at ring 0 in `lvd_main`, with a return address pointing at an
// exit stub that writes RAX to the exit port and halts.
//
// Devices: port 0xE9 prints a byte (the Bochs/QEMU debug console); a 32-bit write to
// port 0xF4 ends the run with that status (like QEMU's isa-debug-exit). There is no
// IDT, so an exception ends the run as a triple fault that reports the first fault.

import { PhysicalMemory } from "./memory.ts";
import { Cpu, Stop, CS, SS, DS, ES, RSP, type PortBus } from "./cpu/cpu.ts";
import { PageTableBuilder, flagsForPerms } from "./page-tables.ts";
import { linkObjects, parseElf, type ElfFile, type LinkedImage } from "./elf.ts";

export const DEBUG_CONSOLE_PORT = 0xe9;
export const EXIT_PORT = 0xf4;

/** Where the program is linked: gcc's kernel code model needs the top 2 GB. */
export const IMAGE_BASE = -0x80000000; // 0xFFFFFFFF80000000
const STACK_TOP = -0x80000000 - 0x100000; // 1 MB below the image, a guard page below the stack
const STUB_VA = -0x80000000 - 0x200000;
const PT_AREA = 0x10000;
const IMAGE_PA = 0x400000;

export interface BareOptions {
  memoryBytes?: number;
  stackBytes?: number;
  /** Extra symbols the program may call (name -> address). */
  resolve?: (name: string) => number | undefined;
}

export interface BareResult {
  output: string;
  /** The value lvd_main returned (or wrote to the exit port), low 32 bits, signed. */
  status: number | null;
  /** Set when the program ended by a fault nobody handled. */
  fault: string | null;
  instructions: number;
  cycles: number;
  stop: Stop;
}

/** Console and exit devices on the port bus. */
export class BarePorts implements PortBus {
  output: number[] = [];
  exitStatus: number | null = null;
  onExit: () => void = () => {};
  in(_port: number, size: number): number {
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }
  out(port: number, _size: number, value: number): void {
    if (port === DEBUG_CONSOLE_PORT) this.output.push(value & 0xff);
    else if (port === EXIT_PORT) {
      this.exitStatus = value | 0;
      this.onExit();
    }
  }
  text(): string {
    return new TextDecoder().decode(new Uint8Array(this.output));
  }
}

export class BareMachine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly ports = new BarePorts();
  readonly image: LinkedImage;
  private nextPage = PT_AREA;

  constructor(objects: (ElfFile | Uint8Array)[], opts: BareOptions = {}) {
    const files = objects.map((o, k) => (o instanceof Uint8Array ? parseElf(o, `object ${k}`) : o));
    this.image = linkObjects(files, { base: IMAGE_BASE, resolve: opts.resolve });
    const entry = this.image.symbols.get("lvd_main");
    if (entry === undefined) throw new Error("the program defines no 'lvd_main' function");

    const stackBytes = opts.stackBytes ?? 256 * 1024;
    this.mem = new PhysicalMemory(opts.memoryBytes ?? 64 * 1024 * 1024);
    const stackPa = IMAGE_PA + align(this.image.size, 4096);
    const stubPa = stackPa + stackBytes;
    if (stubPa + 4096 > this.mem.size || stackPa > this.mem.size) throw new Error("the program does not fit in memory");

    const pt = new PageTableBuilder(this.mem, () => this.allocPage());
    // The image, with its regions' rights.
    this.mem.load(IMAGE_PA, this.image.image);
    for (const r of this.image.regions) {
      pt.map(r.start, IMAGE_PA + (r.start - IMAGE_BASE), r.size, flagsForPerms(r.perms));
    }
    pt.map(STACK_TOP - stackBytes, stackPa, stackBytes, { write: true });
    // Exit stub: out 0xF4, eax ; hlt
    this.mem.load(stubPa, new Uint8Array([0xe7, EXIT_PORT, 0xf4]));
    pt.map(STUB_VA, stubPa, 4096, { exec: true });
    // GDT: null, 64-bit code (0x08), data (0x10).
    const gdtPa = this.allocPage();
    this.mem.write64(gdtPa + 8, 0x0000ffff, 0x00af9b00);
    this.mem.write64(gdtPa + 16, 0x0000ffff, 0x00cf9300);
    pt.map(STUB_VA + 4096, gdtPa, 4096, {});

    const cpu = (this.cpu = new Cpu(this.mem, this.ports));
    cpu.cr3 = pt.root;
    cpu.gdtBase = STUB_VA + 4096;
    cpu.gdtLimit = 23;
    cpu.segSel[CS] = 0x08;
    cpu.segSel[SS] = cpu.segSel[DS] = cpu.segSel[ES] = 0x10;
    cpu.rip = entry;
    cpu.setReg64(RSP, STACK_TOP - 8);
    cpu.writeMem(STACK_TOP - 8, 8, STUB_VA | 0, Math.floor(STUB_VA / 4294967296) | 0);
    this.ports.onExit = () => (cpu.stopRequested = true);
  }

  private allocPage(): number {
    const pa = this.nextPage;
    this.nextPage += 4096;
    if (this.nextPage > IMAGE_PA) throw new Error("bare machine: out of page-table memory");
    return pa;
  }

  /** Runs until the program exits, faults, or `maxInstructions` have run. */
  run(maxInstructions = 2_000_000_000): BareResult {
    const cpu = this.cpu;
    let stop = Stop.Budget;
    const slice = 1_000_000;
    while (cpu.instructions < maxInstructions) {
      stop = cpu.run(Math.min(slice, maxInstructions - cpu.instructions));
      if (stop !== Stop.Budget) break;
    }
    return {
      output: this.ports.text(),
      status: this.ports.exitStatus,
      fault: cpu.shutdown ? cpu.shutdown.message : stop === Stop.Halted && this.ports.exitStatus === null ? "halted" : null,
      instructions: cpu.instructions,
      cycles: cpu.cycles,
      stop,
    };
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
