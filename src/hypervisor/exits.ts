// The VM-exit handler: what runs in VMX root operation each time a launched vCPU exits.
//
// The path is what a hypervisor's exit stub and handler execute, each VMX instruction
// charged by the Vmx API: VMREAD the exit reason, check that a sensitive exit came from
// the kernel (VMREAD the EPT pointer), VMREAD the qualification / instruction
// information / guest registers the emulation needs, emulate (charging the emulated
// instruction), VMWRITE the new RIP (VM-exit instruction length), VMRESUME. The VM exit
// and VM entry themselves are charged by the machine.
//
// Outcomes of an exit: the instruction is emulated and skipped; or it raises an exception
// in the guest (GuestFault, injected: RIP stays on it); or the problem goes to the kernel
// (upcall.ts); or the vCPU is stopped with an incident. Nothing a guest does makes this
// handler throw out of the machine's run loop: an unexpected JavaScript error here is
// caught at this boundary and becomes an incident ("hypervisor-error").

import { PF_VEC, RCX } from "../machine/cpu/arch.ts";
import type { VmExitReport } from "../machine/vmx/vmx.ts";
import { VM_SUCCEED, VM_ENTRY_FAILED } from "../machine/vmx/vmx.ts";
import * as F from "../machine/vmx/fields.ts";
import { COSTS } from "../machine/cost.ts";
import type { Vcpu } from "./vcpu.ts";
import { GuestFault, GuestEptViolation } from "./guest-memory.ts";
import {
  upcall, UPCALL_EPT_VIOLATION, UPCALL_EPT_MISCONFIG, UPCALL_SENSITIVE_EXIT, UPCALL_VMFUNC, UPCALL_TRIPLE_FAULT,
  UPCALL_UNEXPECTED_EXIT,
} from "./upcall.ts";
import { controlRegisterAccess } from "./emulate-cr.ts";
import { rdmsrExit, wrmsrExit } from "./emulate-msr.ts";
import { ioExit } from "./emulate-io.ts";
import { gdtrIdtrExit, ldtrTrExit } from "./emulate-descriptor-tables.ts";
import { movDrExit } from "./emulate-dr.ts";
import { xsetbvExit } from "./emulate-xsetbv.ts";
import { cpuidExit } from "./emulate-cpuid.ts";
import type { HypervisorServices } from "./hypercall-handlers.ts";
import { watchdogExit, unpark, externalInterruptExit, nmiExit } from "./watchdog.ts";
import { exitName } from "./counters.ts";

type Handler = (v: Vcpu, services: HypervisorServices, reason: number) => void;

/**
 * Exits that touch state isolation depends on (reference section 3, Inv 4): emulated
 * only for the kernel; from any other EPTP they are violations and are not emulated.
 */
function sensitive(emulate: (v: Vcpu) => void): Handler {
  return (v, _s, reason) => {
    if (v.fromKernel()) emulate(v);
    else upcall(v, { kind: UPCALL_SENSITIVE_EXIT, reason, qualification: v.read(F.EXIT_QUALIFICATION) });
  };
}

/** EPT violations and misconfigurations: the guest touched memory its EPT does not give it. */
function eptProblem(kind: number): Handler {
  return (v, _s, reason) => {
    upcall(v, {
      kind, reason, qualification: v.read(F.EXIT_QUALIFICATION), guestPhysical: v.read(F.GUEST_PHYSICAL_ADDRESS),
      guestLinear: kind === UPCALL_EPT_VIOLATION ? v.read(F.GUEST_LINEAR_ADDRESS) : 0,
    });
  };
}

/** The processor the guest sees has no VMX: its instructions are #UD. */
const noVmx: Handler = (v) => v.injectUd();

const unexpected: Handler = (v, _s, reason) => {
  upcall(v, { kind: UPCALL_UNEXPECTED_EXIT, reason, qualification: v.read(F.EXIT_QUALIFICATION) });
};

/**
 * A triple fault: always an incident. Inside a domain the kernel gets an upcall; a
 * kernel that triple-faults cannot be trusted to run its own upcall (it would fault
 * again), so that vCPU stops, as a processor without a hypervisor would shut down.
 */
const tripleFault: Handler = (v, _s, reason) => {
  if (v.upcall && !v.fromKernel()) {
    v.note("triple-fault", reason, "triple fault inside a domain; upcalled");
    upcall(v, { kind: UPCALL_TRIPLE_FAULT, reason });
  } else v.stop("triple-fault", reason, v.upcall ? "triple fault in the kernel" : "triple fault (no upcall registered)");
};

const HANDLERS: Handler[] = [];
HANDLERS[F.EXIT_EXCEPTION_OR_NMI] = (v, s, reason) => {
  if (!nmiExit(v)) unexpected(v, s, reason);
};
HANDLERS[F.EXIT_EXTERNAL_INTERRUPT] = (v) => externalInterruptExit(v);
HANDLERS[F.EXIT_TRIPLE_FAULT] = tripleFault;
HANDLERS[F.EXIT_CPUID] = (v, s) => cpuidExit(v, s);
HANDLERS[F.EXIT_INVD] = (v) => v.skip(); // caches are not modeled: nothing to write back or drop
HANDLERS[F.EXIT_WBINVD] = (v) => v.skip();
for (const r of [F.EXIT_VMCALL, F.EXIT_VMCLEAR, F.EXIT_VMLAUNCH, F.EXIT_VMPTRLD, F.EXIT_VMPTRST, F.EXIT_VMREAD,
  F.EXIT_VMRESUME, F.EXIT_VMWRITE, F.EXIT_VMXOFF, F.EXIT_VMXON, F.EXIT_INVEPT, F.EXIT_INVVPID]) HANDLERS[r] = noVmx;
HANDLERS[F.EXIT_CR_ACCESS] = sensitive(controlRegisterAccess);
HANDLERS[F.EXIT_DR_ACCESS] = sensitive(movDrExit);
HANDLERS[F.EXIT_IO] = sensitive(ioExit);
HANDLERS[F.EXIT_RDMSR] = sensitive(rdmsrExit);
HANDLERS[F.EXIT_WRMSR] = sensitive(wrmsrExit);
HANDLERS[F.EXIT_GDTR_IDTR] = sensitive(gdtrIdtrExit);
HANDLERS[F.EXIT_LDTR_TR] = sensitive(ldtrTrExit);
HANDLERS[F.EXIT_XSETBV] = sensitive(xsetbvExit);
HANDLERS[F.EXIT_EPT_VIOLATION] = eptProblem(UPCALL_EPT_VIOLATION);
HANDLERS[F.EXIT_EPT_MISCONFIG] = eptProblem(UPCALL_EPT_MISCONFIG);
HANDLERS[F.EXIT_PREEMPTION_TIMER] = (v) => watchdogExit(v);
HANDLERS[F.EXIT_VMFUNC] = (v, _s, reason) => upcall(v, { kind: UPCALL_VMFUNC, reason, detail: v.cpu.lo[RCX] >>> 0 });

/** Handles one VM exit of vCPU `v` (the Vmx host handler), ending in VMRESUME unless the vCPU stops. */
export function handleExit(v: Vcpu, services: HypervisorServices, report: VmExitReport): void {
  if (report.entryFailure) {
    v.counters.count(report.basicReason);
    v.stop("entry-failure", report.basicReason, `VM entry failed with exit reason ${report.basicReason}: ${v.vmx.lastEntryFailure}`);
    return;
  }
  let reason = report.basicReason;
  try {
    reason = v.read(F.EXIT_REASON) & 0xffff;
    v.counters.count(reason);
    if (v.parked) unpark(v);
    try {
      (HANDLERS[reason] ?? unexpected)(v, services, reason);
    } catch (e) {
      if (e instanceof GuestFault) raise(v, e);
      else if (e instanceof GuestEptViolation) {
        upcall(v, {
          kind: UPCALL_EPT_VIOLATION, reason, guestPhysical: e.gpa, guestLinear: e.la,
          qualification: e.write ? F.EPT_QUAL_WRITE : F.EPT_QUAL_READ,
        });
      } else throw e;
    }
  } catch (e) {
    v.stop("hypervisor-error", reason, `${exitName(reason)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return;
  }
  if (v.cpu.shutdown) return; // stopped: it stays in root operation, never resumed
  const r = v.vmx.vmresume();
  // A VM-entry failure that is an exit (VM_ENTRY_FAILED) comes back to handleExit as one.
  if (r !== VM_SUCCEED && r !== VM_ENTRY_FAILED) v.stop("entry-failure", reason, `VMRESUME failed (${r}): ${v.vmx.lastEntryFailure}`);
}

/** The emulated instruction's exception, delivered to the guest on VM entry. A #PF also loads CR2, as the native one would. */
function raise(v: Vcpu, f: GuestFault): void {
  if (f.vector === PF_VEC) {
    v.cpu.cycles += COSTS.cr; // MOV to CR2: VM exits do not switch CR2, the guest's is the processor's
    v.cpu.cr2 = f.address;
  }
  v.inject(f.vector, f.errorCode);
}
