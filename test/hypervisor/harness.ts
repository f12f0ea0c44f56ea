// A machine for hypervisor tests: the "kernel" is ring-0 assembly that boots natively
// and asks for the late launch by writing the vCPU's number to port LAUNCH_PORT (the
// port handler runs inside the OUT instruction, like a kernel's native gate would run
// launch()). Memory (16 MB, identity-mapped with 2 MB pages, plus the local APIC page):
//
//   CODE 0x100000   main program, every vCPU starts here (RDI = its number, IF = 0)
//   DATA 0x200000   data area for tests
//   GDT/IDT/TSS     0x300000..; every exception vector goes to a stub that records
//                   vector, error code (or -1) and RIP at FAULT (per vCPU, 32 bytes)
//                   and halts with interrupts off
//   STACKS          0x400000.. per vCPU; UPCALL_STACKS 0x600000.. per vCPU
//   PT 0xc00000     page tables (allocated from here on)
//   POOL 0xf00000   the hypervisor's 1 MB
//
// Hypercall and upcall helpers are assembly snippets the tests paste into their programs.

import { Machine, type MachineRun } from "../../src/machine/machine.ts";
import { Cpu, CS, SS, DS, ES, RDI, RSP } from "../../src/machine/cpu/cpu.ts";
import { PageTableBuilder } from "../../src/machine/page-tables.ts";
import { Hypervisor } from "../../src/hypervisor/hypervisor.ts";
import { EptBuilder } from "../../src/machine/vmx/ept-tables.ts";
import { HC_INSTALL_EPTP_LIST, HC_REGISTER_UPCALL } from "../../src/hypervisor/hypercalls.ts";
import {
  UPCALL_FRAME_KIND, UPCALL_FRAME_EXIT_REASON, UPCALL_FRAME_QUALIFICATION, UPCALL_FRAME_GUEST_LINEAR,
  UPCALL_FRAME_GUEST_PHYSICAL, UPCALL_FRAME_RIP, UPCALL_FRAME_RSP, UPCALL_FRAME_RFLAGS, UPCALL_FRAME_EPTP,
  UPCALL_FRAME_DETAIL, UPCALL_FRAME_CS, UPCALL_FRAME_VCPU,
} from "../../src/hypervisor/upcall.ts";
import { assemble } from "../helpers/asm.ts";

export const CODE = 0x100000;
export const DATA = 0x200000;
export const GDT = 0x300000, IDT = 0x301000, TSS = 0x302000, FAULT = 0x303000, HANDLERS = 0x304000;
export const STACKS = 0x400000, UPCALL_STACKS = 0x600000;
export const PT_BASE = 0xc00000;
export const POOL = 0xf00000, POOL_BYTES = 0x100000;
export const MEMORY = 16 * 1024 * 1024;
export const APIC = 0xfee00000;
export const LAUNCH_PORT = 0x80;

export const tssSelector = (k: number) => 0x28 + 16 * k;
export const stackTop = (k: number) => STACKS + (k + 1) * 0x8000;
export const upcallStackTop = (k: number) => UPCALL_STACKS + (k + 1) * 0x4000;
/** Where vCPU k's exception stub records vector, error code, RIP. */
export const faultRecord = (k: number) => FAULT + 32 * k;

export interface HarnessOptions {
  cpus?: number;
  watchdogCycles?: number;
  seed?: number;
  /** Start every vCPU at CODE (default) or only vCPU 0. */
  start?: "all" | "bsp";
}

export class Harness {
  readonly m: Machine;
  readonly hv: Hypervisor;
  readonly pt: PageTableBuilder;
  private next = PT_BASE;

  constructor(main: string, opts: HarnessOptions = {}) {
    const cpus = opts.cpus ?? 1;
    const m = (this.m = new Machine({ cpus, memoryBytes: MEMORY, seed: opts.seed ?? 1 }));
    const mem = m.mem;
    this.pt = new PageTableBuilder(mem, () => this.allocPage());
    this.pt.map(0, 0, MEMORY, { write: true, exec: true }, 0x200000);
    this.pt.map(APIC, APIC, 4096, { write: true, uncached: true });
    this.load(CODE, main);

    // GDT: null, code 0x08, data 0x10, then a 16-byte TSS descriptor per vCPU at 0x28 + 16k.
    mem.write64(GDT + 8, 0x0000ffff, 0x00af9b00);
    mem.write64(GDT + 16, 0x0000ffff, 0x00cf9300);
    for (let k = 0; k < cpus; k++) {
      const tss = TSS + k * 0x80;
      mem.write64(GDT + tssSelector(k), 0x0067 | ((tss & 0xffff) << 16), ((tss >>> 16) & 0xff) | 0x8b00 | (tss & 0xff000000));
      mem.writeU64(tss + 4, stackTop(k));
    }
    // Exception stubs: record [vector, error code or -1, RIP] for this vCPU (TR tells which), halt.
    const stubs: string[] = [];
    for (let v = 0; v < 32; v++) {
      const code = v === 8 || (v >= 10 && v <= 14) || v === 17;
      stubs.push(`.org ${v * 64}
        mov eax, [${APIC + 0x20}]
        shr eax, 19
        add rax, ${FAULT}
        mov qword ptr [rax], ${v}
        ${code ? "pop qword ptr [rax + 8]" : "mov qword ptr [rax + 8], -1"}
        pop qword ptr [rax + 16]
      1: cli
        hlt
        jmp 1b`);
    }
    this.load(HANDLERS, stubs.join("\n"));
    for (let k = 0; k < cpus; k++) mem.write64(faultRecord(k), -1, -1);
    for (let v = 0; v < 256; v++) this.gate(v, HANDLERS + Math.min(v, 31) * 64);

    const setup = (c: Cpu) => {
      c.cr3 = this.pt.root;
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
    for (let k = 1; k < cpus; k++) if (opts.start !== "bsp") m.startCpu(k, setup);

    this.hv = new Hypervisor({ machine: m, pool: { base: POOL, bytes: POOL_BYTES }, watchdogCycles: opts.watchdogCycles });
    m.ports.register(LAUNCH_PORT, { out: (_p, _s, value) => this.hv.launch(m.cpus[value & 0xff]) });
  }

  allocPage(): number {
    const pa = this.next;
    this.next += 4096;
    this.m.mem.load(pa, new Uint8Array(4096));
    return pa;
  }

  cpu(k = 0): Cpu {
    return this.m.cpus[k];
  }

  /** Assembles `source` at physical (= linear) address `at`; returns its length. */
  load(at: number, source: string): number {
    const bytes = assemble(source);
    this.m.mem.load(at, bytes);
    return bytes.length;
  }

  gate(vector: number, target: number): void {
    const mem = this.m.mem;
    mem.write32(IDT + vector * 16, (target & 0xffff) | (0x08 << 16));
    mem.write32(IDT + vector * 16 + 4, (target & 0xffff0000) | 0x8e00);
    mem.write32(IDT + vector * 16 + 8, 0);
  }

  /** Runs until every vCPU is halted with nothing to wake it (or exits through port 0xF4). */
  run(max = 20_000_000): MachineRun {
    return this.m.run(max);
  }

  u64(pa: number): number {
    return this.m.mem.readU64(pa);
  }
  /** A 64-bit value as a bigint (for values above 2^53). */
  big(pa: number): bigint {
    return (BigInt(this.m.mem.read32(pa + 4) >>> 0) << 32n) | BigInt(this.m.mem.read32(pa) >>> 0);
  }

  /** The exception vCPU k's stub recorded: vector (-1 if none), error code (-1 if none), RIP. */
  fault(k = 0): { vector: number; error: number; rip: number } {
    const at = faultRecord(k);
    return { vector: this.m.mem.read32(at), error: Number(BigInt.asIntN(64, this.big(at + 8))), rip: this.u64(at + 16) };
  }
}

/** Assembly: the late launch of this vCPU (its number is in EDI at start; clobbers EAX). */
export const LAUNCH_SELF = "mov eax, edi\nout 0x80, al";

/** Assembly: hypercall `leaf` with RBX/RCX set by the caller (clobbers RAX, RBX, RDX). */
export const hypercall = (leaf: number) => `mov eax, ${leaf}\ncpuid`;

/**
 * A domain's EPT (an EPT_I as the kernel would build it, in kernel memory): everything
 * EPT_K maps (RAM but the pool, the APIC page) one-to-one, except the guest-physical
 * pages in `remap`, which go to other machine pages. Returns its EPTP.
 */
export function domainEpt(h: Harness, remap: [number, number][] = []): number {
  const ept = new EptBuilder(h.m.mem, () => h.allocPage());
  const RWX = { read: true, write: true, exec: true };
  ept.map(0, 0, POOL - (POOL % 0x200000), RWX, 0x200000);
  ept.map(POOL - (POOL % 0x200000), POOL - (POOL % 0x200000), POOL % 0x200000, RWX);
  ept.map(APIC, APIC, 4096, { ...RWX, memoryType: 0 });
  for (const [gpa, hpa] of remap) ept.map(gpa, hpa, 4096, RWX);
  return ept.eptp();
}

/** Where tests keep the EPTP list page and the domain's EPTP for the kernel code to copy. */
export const EPTP_LIST = DATA + 0xe000;
export const DOMAIN_EPTP = DATA + 0xdff8;

/**
 * Assembly: install the EPTP list at EPTP_LIST with slot 0 = EPT_K (returned by the
 * hypercall) and slot 1 = the EPTP the test stored at DOMAIN_EPTP. Clobbers RAX, RBX, RDX.
 */
export const INSTALL_LIST = `
  mov ebx, ${EPTP_LIST}
  mov eax, ${HC_INSTALL_EPTP_LIST}
  cpuid
  mov [${EPTP_LIST}], rbx
  mov rax, [${DOMAIN_EPTP}]
  mov [${EPTP_LIST + 8}], rax`;

/** Assembly: VMFUNC to EPTP-list slot `k` (clobbers RAX, RCX). */
export const vmfuncTo = (k: number) => `xor eax, eax\nmov ecx, ${k}\nvmfunc`;

/** Where the upcall entry of the tests lives, and what it records (the frame address). */
export const UPCALL_ENTRY = CODE + 0x8000;
export const UPCALL_SEEN = DATA + 0xd000;

/**
 * Installs an upcall entry that stores RSP (the frame) at UPCALL_SEEN + 8 * vCPU and
 * halts; returns the assembly that registers it on the running vCPU (RDI = its number).
 */
export function withUpcall(h: Harness): string {
  h.load(UPCALL_ENTRY, `
    mov eax, [${APIC + 0x20}]
    shr eax, 21
    mov [${UPCALL_SEEN} + rax], rsp
  1: hlt
    jmp 1b`);
  return `
  mov rbx, ${UPCALL_ENTRY}
  mov rcx, ${UPCALL_STACKS} + 0x4000
  mov rax, rdi
  shl rax, 14
  add rcx, rax
  mov eax, ${HC_REGISTER_UPCALL}
  cpuid`;
}

/** The upcall frame vCPU k's entry recorded (null if there was no upcall). */
export function upcallFrame(h: Harness, k = 0): Record<string, number> | null {
  const at = h.u64(UPCALL_SEEN + 8 * k);
  if (at === 0) return null;
  const f = (off: number) => h.u64(at + off);
  return {
    at, kind: f(UPCALL_FRAME_KIND), reason: f(UPCALL_FRAME_EXIT_REASON), qualification: f(UPCALL_FRAME_QUALIFICATION),
    guestLinear: f(UPCALL_FRAME_GUEST_LINEAR), guestPhysical: f(UPCALL_FRAME_GUEST_PHYSICAL), rip: f(UPCALL_FRAME_RIP),
    rsp: f(UPCALL_FRAME_RSP), rflags: f(UPCALL_FRAME_RFLAGS), eptp: f(UPCALL_FRAME_EPTP), detail: f(UPCALL_FRAME_DETAIL),
    cs: f(UPCALL_FRAME_CS), vcpu: f(UPCALL_FRAME_VCPU),
  };
}
