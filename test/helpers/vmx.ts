// A machine for VMX tests: the snippet machine (host code at CODE, ring 0, identity paging
// of the low 16 MB, an IDT whose every vector halts) with VMX enabled (IA32_FEATURE_CONTROL
// locked with VMX on, CR4.VMXE), a VMXON region, a VMCS, an identity EPT, and a guest that
// mirrors the host's state the way a late launch does (same page tables, GDT, IDT and TSS)
// with its own code at GUEST_CODE and stack below GUEST_STACK.
//
// Exits go to a TypeScript host handler that records them (VMCS exit-information fields
// and guest RIP) and leaves the CPU in root operation at HOST_RIP, where host code runs:
// by default a HLT, so run() returns after each exit. Tests that want machine-code hosts
// pass their own host source and HOST_RIP offset and no TS handler.

import { snippet, CODE, type Snippet } from "./snippet.ts";
import { assemble } from "./asm.ts";
import type { Cpu } from "../../src/machine/cpu/cpu.ts";
import { CR4_VMXE, CS, SS } from "../../src/machine/cpu/cpu.ts";
import { vmxOf, type Vmx, type VmResult } from "../../src/machine/vmx/vmx.ts";
import { EptBuilder } from "../../src/machine/vmx/ept-tables.ts";
import { VMCS_REVISION, TRUE_PIN_CONTROLS, TRUE_PRIMARY_CONTROLS, TRUE_EXIT_CONTROLS, TRUE_ENTRY_CONTROLS } from "../../src/machine/vmx/capabilities.ts";
import * as F from "../../src/machine/vmx/fields.ts";

export const GUEST_CODE = 0x500000;
export const GUEST_DATA = 0x580000;
export const GUEST_STACK = 0x5f0000;
const MEMORY = 32 * 1024 * 1024;

export interface ExitRecord {
  reason: number;
  qualification: number;
  length: number;
  info: number;
  guestLinear: number;
  guestPhysical: number;
  interruption: number;
  interruptionError: number;
  vectoring: number;
  rip: number;
}

export interface Controls {
  pin?: number;
  primary?: number;
  secondary?: number;
  exit?: number;
  entry?: number;
}

export interface TestbedOptions {
  /** Host code at CODE (default: HLT), and where VM exits continue (HOST_RIP = CODE + hostRip). */
  host?: string;
  hostRip?: number;
  /** Record exits in TypeScript (default true). */
  tsHost?: boolean;
  /** EPT on (default true), identity-mapping all memory with 2 MB pages. */
  ept?: boolean;
}

export class Testbed {
  readonly s: Snippet;
  readonly cpu: Cpu;
  readonly vmx: Vmx;
  readonly vmxonRegion: number;
  readonly vmcsRegion: number;
  readonly ept: EptBuilder;
  readonly exits: ExitRecord[] = [];

  constructor(guest: string, opts: TestbedOptions = {}) {
    this.s = snippet(opts.host ?? "", { memory: MEMORY });
    const { cpu, mem } = this.s;
    this.cpu = cpu;
    cpu.msrs.set(0x3a, [5, 0]); // IA32_FEATURE_CONTROL: locked, VMX outside SMX
    cpu.cr4 |= CR4_VMXE;
    this.vmx = vmxOf(cpu);
    this.vmxonRegion = this.region();
    this.vmcsRegion = this.region();
    mem.load(GUEST_CODE, assemble(guest + "\nhlt"));
    this.ept = new EptBuilder(mem, () => this.s.allocPage());
    this.ept.map(0, 0, MEMORY, { read: true, write: true, exec: true }, 0x200000);
    if (opts.tsHost ?? true) this.vmx.setHost(() => this.record());
    this.hostRip = CODE + (opts.hostRip ?? 0);
    this.useEpt = opts.ept ?? true;
  }

  private readonly hostRip: number;
  private readonly useEpt: boolean;

  /** A 4 KB region with the VMCS revision identifier. */
  region(): number {
    const pa = this.s.allocPage();
    this.s.mem.write32(pa, VMCS_REVISION);
    return pa;
  }

  read(field: number): number {
    return this.vmx.vmcs.get(field);
  }
  write(field: number, value: number | bigint): void {
    const r = this.vmx.vmwrite(field, value);
    if (r !== 0) throw new Error(`VMWRITE 0x${field.toString(16)} failed: ${r}`);
  }

  /** VMXON, VMCLEAR, VMPTRLD and a VMCS for the guest, ready for vmlaunch(). */
  prepare(ctl: Controls = {}): void {
    const { vmx, cpu } = this;
    expectOk(vmx.vmxon(this.vmxonRegion), "VMXON");
    expectOk(vmx.vmclear(this.vmcsRegion), "VMCLEAR");
    expectOk(vmx.vmptrld(this.vmcsRegion), "VMPTRLD");
    const secondaryDefault = this.useEpt ? F.CPU2_ENABLE_EPT : 0;
    const secondary = ctl.secondary ?? secondaryDefault;
    this.write(F.PIN_BASED_CONTROLS, ctl.pin ?? TRUE_PIN_CONTROLS.mustBe1);
    this.write(F.PRIMARY_CONTROLS, (ctl.primary ?? TRUE_PRIMARY_CONTROLS.mustBe1) | (secondary !== 0 ? F.CPU_SECONDARY_CONTROLS : 0));
    this.write(F.SECONDARY_CONTROLS, secondary);
    this.write(F.EXIT_CONTROLS, ctl.exit ?? TRUE_EXIT_CONTROLS.mustBe1);
    this.write(F.ENTRY_CONTROLS, ctl.entry ?? TRUE_ENTRY_CONTROLS.mustBe1);
    this.write(F.EPT_POINTER, this.ept.eptp());
    this.write(F.VMCS_LINK_POINTER, -1);

    // Host state: the machine as it is now, continuing at HOST_RIP.
    this.write(F.HOST_CR0, cpu.cr0 >>> 0);
    this.write(F.HOST_CR3, cpu.cr3);
    this.write(F.HOST_CR4, cpu.cr4);
    this.write(F.HOST_CS_SELECTOR, 0x08);
    this.write(F.HOST_SS_SELECTOR, 0x10);
    this.write(F.HOST_TR_SELECTOR, 0x28);
    this.write(F.HOST_TR_BASE, cpu.trBase);
    this.write(F.HOST_GDTR_BASE, cpu.gdtBase);
    this.write(F.HOST_IDTR_BASE, cpu.idtBase);
    this.write(F.HOST_RSP, cpu.rsp);
    this.write(F.HOST_RIP, this.hostRip);

    // Guest state: the same machine at ring 0, running GUEST_CODE (a late launch).
    this.write(F.GUEST_CR0, cpu.cr0 >>> 0);
    this.write(F.GUEST_CR3, cpu.cr3);
    this.write(F.GUEST_CR4, cpu.cr4);
    this.write(F.GUEST_CS_SELECTOR, cpu.segSel[CS]);
    this.write(F.GUEST_CS_AR, 0xa09b);
    this.write(F.GUEST_CS_LIMIT, 0xffffffff);
    this.write(F.GUEST_SS_SELECTOR, cpu.segSel[SS]);
    this.write(F.GUEST_SS_AR, 0xc093);
    this.write(F.GUEST_SS_LIMIT, 0xffffffff);
    for (const f of [F.GUEST_DS_AR, F.GUEST_ES_AR, F.GUEST_FS_AR, F.GUEST_GS_AR, F.GUEST_LDTR_AR]) this.write(f, 0x10000);
    this.write(F.GUEST_TR_SELECTOR, 0x28);
    this.write(F.GUEST_TR_BASE, cpu.trBase);
    this.write(F.GUEST_TR_LIMIT, 0x67);
    this.write(F.GUEST_TR_AR, 0x8b);
    this.write(F.GUEST_GDTR_BASE, cpu.gdtBase);
    this.write(F.GUEST_GDTR_LIMIT, cpu.gdtLimit);
    this.write(F.GUEST_IDTR_BASE, cpu.idtBase);
    this.write(F.GUEST_IDTR_LIMIT, cpu.idtLimit);
    this.write(F.GUEST_RFLAGS, 2);
    this.write(F.GUEST_RSP, GUEST_STACK);
    this.write(F.GUEST_RIP, GUEST_CODE);
  }

  /** prepare() and VMLAUNCH; throws unless the entry succeeds. */
  launch(ctl: Controls = {}, fields: [number, number | bigint][] = []): this {
    this.prepare(ctl);
    for (const [f, v] of fields) this.write(f, v);
    expectOk(this.vmx.vmlaunch(), `VMLAUNCH (${this.vmx.lastEntryFailure})`);
    return this;
  }

  /** Runs until the CPU halts (the host's HLT after an exit, or a halted guest), shuts down, or `max` instructions. */
  run(max = 200_000): this {
    const cpu = this.cpu;
    const end = cpu.instructions + max;
    while (!cpu.halted && !cpu.shutdown && cpu.instructions < end) cpu.run(Math.min(10_000, end - cpu.instructions));
    return this;
  }

  /** The last exit recorded. */
  get last(): ExitRecord {
    const e = this.exits.at(-1);
    if (!e) throw new Error(`no VM exit (guest RIP 0x${this.cpu.rip.toString(16)}, non-root: ${this.vmx.nonRoot})`);
    return e;
  }

  /** VMRESUME, first moving guest RIP past the exiting instruction when `skip`. */
  resume(skip = true): VmResult {
    if (skip) this.write(F.GUEST_RIP, this.read(F.GUEST_RIP) + this.read(F.EXIT_INSTRUCTION_LENGTH));
    return this.vmx.vmresume();
  }

  private record(): void {
    const r = (f: number) => this.vmx.vmcs.get(f);
    this.exits.push({
      reason: r(F.EXIT_REASON), qualification: r(F.EXIT_QUALIFICATION), length: r(F.EXIT_INSTRUCTION_LENGTH),
      info: r(F.EXIT_INSTRUCTION_INFO), guestLinear: r(F.GUEST_LINEAR_ADDRESS), guestPhysical: r(F.GUEST_PHYSICAL_ADDRESS),
      interruption: r(F.EXIT_INTERRUPTION_INFO), interruptionError: r(F.EXIT_INTERRUPTION_ERROR_CODE),
      vectoring: r(F.IDT_VECTORING_INFO), rip: r(F.GUEST_RIP),
    });
  }
}

export function expectOk(r: VmResult, what: string): void {
  if (r !== 0) throw new Error(`${what} failed: ${r}`);
}

/** Address of the instruction after the assembly `prefix` when the code starts at `base`. */
export function after(prefix: string, base = GUEST_CODE): number {
  return base + (prefix === "" ? 0 : assemble(prefix).length);
}
