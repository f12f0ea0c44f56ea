// The VMX state of one logical processor, and VMX root operation as a TypeScript API.
//
// The hypervisor is TypeScript: it does its root-mode work through the methods here
// (vmxon, vmptrld, vmwrite, vmlaunch...), which behave exactly like the instructions
// (ops/vmx.ts -> instructions.ts runs the same code, and only adds RFLAGS), and it
// handles VM exits in a host handler (setHost). Without a host handler, a VM exit
// continues in root operation at the VMCS's HOST_RIP, like hardware, so host code can
// also be machine code (the conformance tests use both).
//
// Cost: each method charges what the instruction costs (its decode-table class,
// COSTS.vmx). A VMREAD in machine code is charged by the run loop through its Insn and
// never reaches these methods, so the charge belongs here, not in instructions.ts, which
// both paths share; a TypeScript hypervisor's exit path thus costs what the same
// sequence of instructions would.
//
// Results follow the SDM's conventions (Vol. 3C, 31.2): VMsucceed, VMfailInvalid (no
// current VMCS) and VMfailValid(n) (error number n in the VM-instruction error field).
//
// Section numbers in src/machine/vmx cite the Intel SDM Vol. 3C as numbered since 2023:
// 24 VMX introduction, 25 VMCS, 26 non-root operation, 27 VM entries, 28 VM exits,
// 29 address translation (VPID, EPT), 31 instruction reference; Appendix A capability
// MSRs, B field encodings, C exit reasons.

import type { Cpu } from "../cpu/cpu.ts";
import { Interception } from "../cpu/cpu.ts";
import { Vmcs } from "./vmcs.ts";
import { Ept } from "./ept.ts";
import { TlbContexts } from "./tlb.ts";
import { VmxEvents } from "./events.ts";
import {
  VM_INSTRUCTION_ERROR, EXIT_TRIPLE_FAULT, EXIT_REASON_ENTRY_FAILURE, VM_SUCCEED, VM_FAIL_INVALID, type VmResult,
} from "./fields.ts";
import * as ops from "./instructions.ts";
import { vmExit, type ExitEvent } from "./exit.ts";
import { COSTS } from "../cost.ts";

export { VM_SUCCEED, VM_FAIL_INVALID, VM_ENTRY_FAILED, type VmResult } from "./fields.ts";

/** What a host handler learns of a VM exit (the rest is in the VMCS: vmread). */
export interface VmExitReport {
  /** The exit-reason field: basic reason in bits 15:0, bit 31 for a failed VM entry. */
  readonly reason: number;
  readonly basicReason: number;
  readonly entryFailure: boolean;
  readonly qualification: number;
}

/** A TypeScript VM-exit handler: it runs in VMX root operation and may call vmresume(). */
export type HostHandler = (exit: VmExitReport, vmx: Vmx) => void;

export class Vmx {
  readonly cpu: Cpu;
  /** In VMX operation (between VMXON and VMXOFF). */
  on = false;
  /** In VMX non-root operation. */
  nonRoot = false;
  /** Physical address of the VMXON region, or -1. */
  vmxonPointer = -1;
  /** The current VMCS (null: the current-VMCS pointer is FFFFFFFF_FFFFFFFFH). */
  current: Vmcs | null = null;

  // Controls of the current VMCS, cached by VM entry: nothing can change a VMCS while
  // its guest runs (VMWRITE is a root-mode instruction).
  pin = 0;
  primary = 0;
  /** Secondary controls, or 0 when "activate secondary controls" is 0. */
  secondary = 0;
  exitControls = 0;
  entryControls = 0;
  exceptionBitmap = 0;
  vmfuncControls = 0;
  /** VPID of the guest (0 when "enable VPID" is 0). */
  vpid = 0;
  /** TSC offset the guest sees (0 without "use TSC offsetting" and in root operation). */
  tscOffset = 0;
  /** Modeled cycle at which the VMX-preemption timer reaches zero (Infinity: not active). */
  timerDeadline = Infinity;
  /**
   * The event being delivered through the guest IDT, in IDT-vectoring-information form
   * (0: none): a VM exit during that delivery reports it (SDM 28.2.4).
   */
  vectoring = 0;
  vectoringError = 0;
  /** Why the last VM entry failed (VMfailValid 7/8 or exit 33), for people debugging a VMCS. */
  lastEntryFailure = "";

  readonly ept: Ept;
  readonly tlbs: TlbContexts;
  readonly events: VmxEvents;
  private host: HostHandler | null = null;
  private inHost = false;
  private pendingExit: VmExitReport | null = null;

  constructor(cpu: Cpu) {
    this.cpu = cpu;
    this.ept = new Ept(this);
    this.tlbs = new TlbContexts(cpu);
    this.events = new VmxEvents(this);
    cpu.eventInterceptor = this.events;
    // The preemption timer asks for serviceEvents through setDeadline; a machine without
    // an event service still needs the boundary call that takes the timer's VM exit.
    cpu.serviceEvents ??= (c) => {
      c.eventInterceptor?.boundary(c);
    };
  }

  /** The VMCS, for code that knows one is current (VM entry, exits, intercepts). */
  get vmcs(): Vmcs {
    return this.current!;
  }

  // ------------------------------------------------------------ TypeScript host API

  /**
   * Registers the TypeScript hypervisor's VM-exit handler (null: continue at HOST_RIP).
   * It is called after the exit has loaded host state; it may read and write the VMCS and
   * call vmresume(). An exit that happens while it runs (a failed injection, say) is
   * handed to it again after it returns, never recursively.
   */
  setHost(handler: HostHandler | null): void {
    this.host = handler;
  }

  vmxon(regionPa: number): VmResult {
    this.charge();
    return ops.vmxon(this, () => halves(regionPa));
  }
  vmxoff(): VmResult {
    this.charge();
    return ops.vmxoff(this);
  }
  vmclear(pa: number): VmResult {
    this.charge();
    return ops.vmclear(this, () => halves(pa));
  }
  vmptrld(pa: number): VmResult {
    this.charge();
    return ops.vmptrld(this, () => halves(pa));
  }
  /** The current-VMCS pointer (-1 for FFFFFFFF_FFFFFFFFH). */
  vmptrst(): number {
    this.charge();
    const [lo, hi] = ops.vmptrst(this);
    return hi * 4294967296 + (lo >>> 0);
  }
  /**
   * Reads a field, in Vmcs.get()'s form (the 64-bit value as signed: exact for
   * addresses and small values). Throws if the read would VMfail (use vmreadChecked).
   */
  vmread(field: number): number {
    this.charge();
    const r = ops.vmread(this, field);
    if (r.result !== VM_SUCCEED) throw new Error(`VMREAD 0x${field.toString(16)} failed (${r.result})`);
    return r.hi * 4294967296 + (r.lo >>> 0);
  }
  /** VMREAD with the instruction's result and the value as halves. */
  vmreadChecked(field: number): { result: VmResult; lo: number; hi: number } {
    this.charge();
    return ops.vmread(this, field);
  }
  /** Writes a field (a number in Vmcs.set()'s form, or a bigint for any 64-bit value). */
  vmwrite(field: number, value: number | bigint): VmResult {
    this.charge();
    let lo: number, hi: number;
    if (typeof value === "bigint") {
      const v = BigInt.asUintN(64, value);
      lo = Number(v & 0xffffffffn) | 0;
      hi = Number(v >> 32n) | 0;
    } else {
      lo = value | 0;
      hi = Math.floor(value / 4294967296) | 0;
    }
    return ops.vmwrite(this, field, 0, lo, hi);
  }
  vmlaunch(): VmResult {
    this.charge();
    return ops.enter(this, true);
  }
  vmresume(): VmResult {
    this.charge();
    return ops.enter(this, false);
  }
  invept(type: number, eptp: number): VmResult {
    this.charge();
    return ops.invept(this, type, 0, () => halves(eptp));
  }
  invvpid(type: number, vpid: number, la = 0): VmResult {
    this.charge();
    return ops.invvpid(this, type, 0, () => [vpid, 0, la]);
  }

  /** One VMX instruction executed by TypeScript root-mode code (see the header). */
  private charge(): void {
    this.cpu.cycles += COSTS.vmx;
  }

  // ------------------------------------------------------------ results

  /** VMfail(n): VMfailValid(n) with a current VMCS, else VMfailInvalid. */
  fail(error: number): VmResult {
    if (!this.current) return VM_FAIL_INVALID;
    this.current.set(VM_INSTRUCTION_ERROR, error);
    return error;
  }

  // ------------------------------------------------------------ VM exits

  /** Performs a VM exit now (SDM 28), then runs the host handler if there is one. */
  exit(e: ExitEvent): void {
    vmExit(this, e);
    this.afterExit(e.reason, e.qualification ?? 0);
  }

  /** An Interception that performs this VM exit: throw it from an instruction or an access. */
  intercept(e: ExitEvent): Interception {
    if (this.vectoring !== 0 && e.vectoring === undefined) {
      e.vectoring = this.vectoring;
      e.vectoringError = this.vectoringError;
    }
    return new Interception(() => this.exit(e));
  }

  /**
   * Called by Cpu.triple(): in VMX non-root operation a triple fault is a VM exit (reason
   * 2, SDM 26.2) instead of a shutdown. No event is left being delivered, so no
   * IDT-vectoring information.
   */
  tripleFault(): void {
    if (this.nonRoot) throw this.intercept({ reason: EXIT_TRIPLE_FAULT, vectoring: 0 });
  }

  /** Hands a VM exit (or VM-entry failure) to the host handler, one at a time. */
  afterExit(reason: number, qualification: number): void {
    if (!this.host) return;
    const report: VmExitReport = {
      reason: reason >>> 0,
      basicReason: reason & 0xffff,
      entryFailure: (reason & EXIT_REASON_ENTRY_FAILURE) !== 0,
      qualification,
    };
    if (this.inHost) {
      this.pendingExit = report;
      return;
    }
    this.inHost = true;
    try {
      let next: VmExitReport | null = report;
      while (next) {
        this.pendingExit = null;
        this.host(next, this);
        next = this.pendingExit;
      }
    } finally {
      this.inHost = false;
    }
  }
}

/** A number holding a 64-bit value as [low, high] halves. */
function halves(v: number): [number, number] {
  return [v | 0, Math.floor(v / 4294967296) | 0];
}

/** The VMX state of `cpu`, created on first use. */
export function vmxOf(cpu: Cpu): Vmx {
  return cpu.vmx ?? (cpu.vmx = new Vmx(cpu));
}
