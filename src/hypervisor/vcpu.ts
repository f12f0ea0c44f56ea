// One vCPU as the hypervisor sees it: its VMX regions and VMCS, its EPT_K root, its
// CR3-target cache, what the kernel registered (upcall entry, progress counter, EPTP
// list), its exit counters; and the operations every exit handler needs, each made of
// the VMX instructions a hypervisor would execute (VMREAD/VMWRITE through the Vmx API,
// which charges them).
//
// In root operation after a VM exit, the general registers still hold the guest's
// values (a VM exit saves and loads only RSP, RIP and RFLAGS of them), so handlers read
// and write them in the Cpu directly, except RSP, which is the VMCS's guest RSP.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { RSP, UD, GP } from "../machine/cpu/cpu.ts";
import type { Vmx } from "../machine/vmx/vmx.ts";
import { hasErrorCode } from "../machine/cpu/interrupts.ts";
import {
  EXIT_INSTRUCTION_LENGTH, GUEST_RIP, GUEST_RSP, GUEST_INTERRUPTIBILITY, EPT_POINTER, ENTRY_INTERRUPTION_INFO,
  ENTRY_EXCEPTION_ERROR_CODE, INTR_VALID, INTR_TYPE_HARDWARE_EXCEPTION, INTR_ERROR_CODE_VALID, BLOCKING_BY_STI,
  BLOCKING_BY_MOV_SS, VM_SUCCEED,
} from "../machine/vmx/fields.ts";
import { Cr3Cache } from "./cr3-cache.ts";
import { ExitCounters } from "./counters.ts";
import type { Incident, IncidentKind } from "./incident.ts";
import type { EptK } from "./ept-k.ts";

export interface UpcallRegistration {
  /** Kernel RIP of the upcall entry. */
  entry: number;
  /** Top of this vCPU's upcall stack (kernel virtual address). */
  stackTop: number;
}

/** What launch recorded of the kernel: the segments an upcall runs with. */
export interface KernelSegments {
  cs: number;
  ss: number;
}

/**
 * The CR0/CR4 bits the hypervisor owns (guest/host masks): those VMX fixes (IA32_VMX_CR0/
 * CR4_FIXED0/1), CR4.VMXE among them. The guest reads them from the read shadows; its
 * writes to them exit.
 */
export interface OwnedBits {
  cr0Mask: number;
  cr4Mask: number;
  /** Bits VMX operation needs set (the real register keeps them whatever the guest writes). */
  cr0MustBe1: number;
  cr4MustBe1: number;
}

export class Vcpu {
  readonly id: number;
  readonly vmx: Vmx;
  /** This vCPU's EPT_K EPTP: any other EPTP in the VMCS means an isolated domain is running. */
  readonly eptp: number;
  readonly vpid: number;
  readonly counters = new ExitCounters();
  readonly cr3: Cr3Cache;
  upcall: UpcallRegistration | null = null;
  /** Guest-physical address of the progress counter (SET_PROGRESS), or -1. */
  progressGpa = -1;
  /** The progress counter at the last watchdog expiry ("lo:hi"), or null before the first. */
  lastProgress: string | null = null;
  /** Preemption-timer value (ticks) of one watchdog period. */
  readonly watchdogTicks: number;
  /** The watchdog timer is off while the vCPU idles in HLT under EPT_K (see watchdog.ts). */
  parked = false;

  constructor(
    readonly cpu: Cpu,
    readonly ept: EptK,
    readonly kernel: KernelSegments,
    readonly owned: OwnedBits,
    opts: { vpid: number; cr3Lo: number; cr3Hi: number; watchdogTicks: number; cr3Targets: number },
    private readonly report: (i: Incident) => void,
  ) {
    this.id = cpu.id;
    this.vmx = cpu.vmx!;
    this.eptp = ept.eptp(cpu.id);
    this.vpid = opts.vpid;
    this.watchdogTicks = opts.watchdogTicks;
    this.cr3 = new Cr3Cache(opts.cr3Targets, { lo: opts.cr3Lo, hi: opts.cr3Hi });
  }

  // ------------------------------------------------------------ the VMCS

  read(field: number): number {
    return this.vmx.vmread(field);
  }
  /** A field as exact 64-bit halves. */
  readHalves(field: number): [number, number] {
    const r = this.vmx.vmreadChecked(field);
    return [r.lo, r.hi];
  }
  write(field: number, value: number | bigint): void {
    const r = this.vmx.vmwrite(field, value);
    if (r !== VM_SUCCEED) throw new Error(`VMWRITE 0x${field.toString(16)} failed (${r})`);
  }
  writeHalves(field: number, lo: number, hi: number): void {
    this.write(field, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  }

  /** Whether the exit came from the kernel: the EPTP in force is this vCPU's EPT_K. */
  fromKernel(): boolean {
    return this.read(EPT_POINTER) === this.eptp;
  }

  // ------------------------------------------------------------ guest registers

  /** A general register of the guest as a number (the signed 64-bit form: exact for addresses and small values). */
  reg(r: number): number {
    if (r === RSP) return this.read(GUEST_RSP);
    return this.cpu.reg64(r);
  }
  regHalves(r: number): [number, number] {
    if (r === RSP) return this.readHalves(GUEST_RSP);
    return [this.cpu.lo[r], this.cpu.hi[r]];
  }
  setRegHalves(r: number, lo: number, hi: number): void {
    if (r === RSP) this.writeHalves(GUEST_RSP, lo, hi);
    else this.cpu.writeReg(8, r, lo, hi);
  }

  // ------------------------------------------------------------ ending an exit

  /**
   * The exiting instruction is done (emulated): RIP moves past it by the VM-exit
   * instruction length, an STI or MOV-SS shadow it was in ends with it, and it counts as
   * retired, as it would natively.
   */
  skip(): void {
    const length = this.read(EXIT_INSTRUCTION_LENGTH);
    this.write(GUEST_RIP, this.read(GUEST_RIP) + length);
    const blocking = this.read(GUEST_INTERRUPTIBILITY);
    if ((blocking & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0) {
      this.write(GUEST_INTERRUPTIBILITY, blocking & ~(BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
    }
    this.cpu.instructions++;
  }

  /** The exiting instruction raises a hardware exception in the guest instead (RIP stays on it). */
  inject(vector: number, errorCode = 0): void {
    // Exceptions that push an error code deliver one (the VM-entry check, SDM 27.2.1.3).
    const withCode = hasErrorCode(vector) && vector !== 21 && vector < 29;
    this.write(ENTRY_INTERRUPTION_INFO, INTR_VALID | (INTR_TYPE_HARDWARE_EXCEPTION << 8) | vector | (withCode ? INTR_ERROR_CODE_VALID : 0));
    if (withCode) this.write(ENTRY_EXCEPTION_ERROR_CODE, errorCode);
  }
  injectUd(): void {
    this.inject(UD);
  }
  injectGp(): void {
    this.inject(GP, 0);
  }

  /** Records an incident and stops this vCPU for good (the shutdown state): it runs no more. */
  stop(kind: IncidentKind, reason: number, details: string): void {
    const rip = this.vmx.current ? this.vmx.vmcs.get(GUEST_RIP) : this.cpu.rip;
    this.report({ kind, cpu: this.id, rip, reason, details });
    const cpu = this.cpu;
    cpu.shutdown ??= { vector: -1, errorCode: -1, rip, cr2: cpu.cr2, message: `LVD hypervisor stopped vCPU ${this.id}: ${kind}: ${details}` };
    cpu.halted = true;
  }
  /** Records an incident without stopping (the kernel got an upcall). */
  note(kind: IncidentKind, reason: number, details: string): void {
    this.report({ kind, cpu: this.id, rip: this.vmx.vmcs.get(GUEST_RIP), reason, details });
  }
}
