// Upcalls: how the hypervisor hands a problem to the kernel instead of ever stopping
// the machine (reference section 3: a sensitive exit from a domain, a failed crossing
// check, a domain that never gives the CPU back). The kernel registers an entry point and
// a per-vCPU upcall stack (REGISTER_UPCALL); on an upcall the hypervisor
//   1. switches the VMCS EPT pointer back to the vCPU's EPT_K (so the kernel runs with
//      its own memory whatever the domain had switched to),
//   2. writes an upcall frame (below) at the top of the upcall stack, in guest memory,
//      through the guest's page tables (guest CR3) and EPT_K,
//   3. resumes the guest at the entry with RSP = the frame, RFLAGS = 2 (interrupts off),
//      CPL 0 with the kernel's CS and SS (those of launch), no STI/MOV-SS/NMI blocking,
//      no event being injected and the activity state active.
// The general registers are left as the interrupted code had them (untrusted: the
// kernel takes nothing from them). The kernel does not return to the interrupted code
// through the hypervisor; it kills the domain and continues as it chooses.
//
// Without a registered entry, or when the frame cannot be written, the hypervisor
// records an incident and stops the vCPU (incident.ts).

import {
  GUEST_RIP, GUEST_RSP, GUEST_RFLAGS, EPT_POINTER, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_CS_AR, GUEST_SS_AR,
  GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_CR3, EXIT_INSTRUCTION_LENGTH, IDT_VECTORING_INFO, GUEST_INTERRUPTIBILITY,
  GUEST_ACTIVITY_STATE, ENTRY_INTERRUPTION_INFO, ACTIVITY_ACTIVE,
} from "../machine/vmx/fields.ts";
import type { Vcpu } from "./vcpu.ts";
import { GuestMemory, GuestFault, GuestEptViolation, bytesOf } from "./guest-memory.ts";

// ---------------------------------------------------------------- what happened (UPCALL_FRAME_KIND)

/** An EPT violation (exit 48): the guest touched memory its EPT does not give it. */
export const UPCALL_EPT_VIOLATION = 1;
/** An EPT misconfiguration (exit 49): a broken EPT_I. */
export const UPCALL_EPT_MISCONFIG = 2;
/** A sensitive exit (CR, MSR, I/O, descriptor tables, DR, XSETBV, a kernel-only hypercall) while an EPTP other than EPT_K was active: not emulated. */
export const UPCALL_SENSITIVE_EXIT = 3;
/** The watchdog: a non-kernel EPTP was active at two expiries of the preemption timer and the progress counter did not move in between. */
export const UPCALL_WATCHDOG = 4;
/** The ABORT hypercall; UPCALL_FRAME_DETAIL holds its reason code. */
export const UPCALL_ABORT = 5;
/** A VMFUNC that exited (reason 59): an invalid EPTP-list index or entry. */
export const UPCALL_VMFUNC = 6;
/** A triple fault inside a domain (also recorded as an incident). */
export const UPCALL_TRIPLE_FAULT = 7;
/** An exit the hypervisor never asked for. */
export const UPCALL_UNEXPECTED_EXIT = 8;

export const UPCALL_KIND_NAMES: Readonly<Record<number, string>> = {
  [UPCALL_EPT_VIOLATION]: "EPT violation", [UPCALL_EPT_MISCONFIG]: "EPT misconfiguration",
  [UPCALL_SENSITIVE_EXIT]: "sensitive exit outside the kernel", [UPCALL_WATCHDOG]: "watchdog",
  [UPCALL_ABORT]: "abort", [UPCALL_VMFUNC]: "VMFUNC exit", [UPCALL_TRIPLE_FAULT]: "triple fault",
  [UPCALL_UNEXPECTED_EXIT]: "unexpected exit",
};

// ---------------------------------------------------------------- the frame (64-bit fields, offsets from RSP at the entry)

export const UPCALL_FRAME_KIND = 0;
/** The VM-exit reason field (basic reason in bits 15:0). */
export const UPCALL_FRAME_EXIT_REASON = 8;
export const UPCALL_FRAME_QUALIFICATION = 16;
/** Guest-linear address of an EPT violation (else 0). */
export const UPCALL_FRAME_GUEST_LINEAR = 24;
/** Guest-physical address of an EPT violation or misconfiguration (else 0). */
export const UPCALL_FRAME_GUEST_PHYSICAL = 32;
/** RIP of the interrupted instruction (the exiting one: not executed). */
export const UPCALL_FRAME_RIP = 40;
export const UPCALL_FRAME_RSP = 48;
export const UPCALL_FRAME_RFLAGS = 56;
/** The EPTP that was active (a domain's EPT_I, or EPT_K). */
export const UPCALL_FRAME_EPTP = 64;
/** Kind-specific: the ABORT code; the progress counter for the watchdog; the CPUID leaf of a refused hypercall. */
export const UPCALL_FRAME_DETAIL = 72;
export const UPCALL_FRAME_INSTRUCTION_LENGTH = 80;
export const UPCALL_FRAME_CS = 88;
export const UPCALL_FRAME_SS = 96;
export const UPCALL_FRAME_CR3 = 104;
export const UPCALL_FRAME_VCPU = 112;
/** IDT-vectoring information: an event that was being delivered and is dropped. */
export const UPCALL_FRAME_IDT_VECTORING = 120;
/** Size of the frame; it is placed at (stack top - size) rounded down to 16 bytes. */
export const UPCALL_FRAME_SIZE = 128;

/** What the exit handler knows of the problem (the rest is read from the VMCS). */
export interface UpcallCause {
  kind: number;
  /** The exit-reason field. */
  reason: number;
  qualification?: number;
  guestLinear?: number;
  guestPhysical?: number;
  detail?: number;
}

const AR_CODE64 = 0xa09b, AR_DATA = 0xc093, AR_UNUSABLE = 0x10000;

/**
 * Delivers an upcall for `cause` on vCPU `v`, whose VMCS is current after an exit.
 * Returns false when there was none to deliver to (the vCPU is then stopped).
 */
export function upcall(v: Vcpu, cause: UpcallCause): boolean {
  const name = UPCALL_KIND_NAMES[cause.kind] ?? `kind ${cause.kind}`;
  const reg = v.upcall;
  if (!reg) {
    v.stop("no-upcall", cause.reason & 0xffff, `${name} with no upcall entry registered`);
    return false;
  }
  const frame = {
    rip: v.read(GUEST_RIP), rsp: v.read(GUEST_RSP), rflags: v.read(GUEST_RFLAGS), eptp: v.read(EPT_POINTER),
    cs: v.read(GUEST_CS_SELECTOR), ss: v.read(GUEST_SS_SELECTOR), cr3: v.read(GUEST_CR3),
    length: v.read(EXIT_INSTRUCTION_LENGTH), vectoring: v.read(IDT_VECTORING_INFO),
  };
  v.write(EPT_POINTER, v.eptp);
  const at = Math.floor((reg.stackTop - UPCALL_FRAME_SIZE) / 16) * 16;
  const q = (n: number): [number, number] => [n, 8];
  const bytes = bytesOf([
    q(cause.kind), q(cause.reason >>> 0), q(cause.qualification ?? 0), q(cause.guestLinear ?? 0), q(cause.guestPhysical ?? 0),
    q(frame.rip), q(frame.rsp), q(frame.rflags), q(frame.eptp), q(cause.detail ?? 0), q(frame.length), q(frame.cs),
    q(frame.ss), q(frame.cr3), q(v.id), q(frame.vectoring),
  ]);
  try {
    new GuestMemory(v).write(at, bytes, { user: false, implicit: true });
  } catch (e) {
    if (!(e instanceof GuestFault) && !(e instanceof GuestEptViolation)) throw e;
    v.stop("upcall-failed", cause.reason & 0xffff, `${name}: the upcall frame at 0x${at.toString(16)} cannot be written`);
    return false;
  }
  const { cs, ss } = v.kernel;
  v.write(GUEST_RSP, at);
  v.write(GUEST_RIP, reg.entry);
  v.write(GUEST_RFLAGS, 2);
  v.write(GUEST_CS_SELECTOR, cs);
  v.write(GUEST_CS_AR, AR_CODE64);
  v.write(GUEST_CS_LIMIT, 0xffffffff);
  v.write(GUEST_SS_SELECTOR, ss);
  v.write(GUEST_SS_AR, (ss & ~3) !== 0 ? AR_DATA : AR_UNUSABLE);
  v.write(GUEST_SS_LIMIT, 0xffffffff);
  v.write(GUEST_INTERRUPTIBILITY, 0);
  v.write(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
  v.write(ENTRY_INTERRUPTION_INFO, 0);
  return true;
}
