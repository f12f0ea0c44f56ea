// RDMSR and WRMSR exits (reasons 31, 32): every MSR access of the guest exits (no MSR
// bitmaps), and the hypervisor performs it on the processor (machine/cpu/ops/msr.ts, the
// same code the native instruction runs, with the same #GP for an MSR that does not exist
// or a value it refuses), except:
//  - MSRs whose guest value lives in the VMCS guest area while the hypervisor runs (VM
//    exits load the host's): FS and GS base, EFER, PAT, SYSENTER_CS/ESP/EIP, DEBUGCTL.
//    Reads come from the VMCS; a write is checked by the machine's own MSR code with
//    the guest's value in place, then stored into the VMCS.
//  - VMX, which is the hypervisor's: IA32_FEATURE_CONTROL reads locked with VMX off (and
//    so refuses writes), and the VMX capability MSRs do not exist (#GP), as on a
//    processor without VMX (CPUID.1:ECX.VMX reads 0 too).
// Each emulated access charges an RDMSR or WRMSR.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { CpuFault, GP, RAX, RCX, RDX, FS, GS, EFER_NXE } from "../machine/cpu/arch.ts";
import {
  MSRS, readMsr, writeMsr, IA32_FEATURE_CONTROL, FC_LOCK, IA32_FS_BASE, IA32_GS_BASE, IA32_EFER, IA32_PAT,
  IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP,
} from "../machine/cpu/ops/msr.ts";
import { IA32_VMX_BASIC, IA32_VMX_VMFUNC } from "../machine/vmx/capabilities.ts";
import { INVVPID_SINGLE_CONTEXT } from "../machine/vmx/capabilities.ts";
import {
  GUEST_FS_BASE, GUEST_GS_BASE, GUEST_IA32_EFER, GUEST_IA32_PAT, GUEST_IA32_SYSENTER_CS, GUEST_IA32_SYSENTER_ESP,
  GUEST_IA32_SYSENTER_EIP, GUEST_IA32_DEBUGCTL,
} from "../machine/vmx/fields.ts";
import { GuestFault } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

export const IA32_DEBUGCTL = 0x1d9;

/** An MSR kept in the VMCS guest area: its field, and how the processor holds it (to check a write on it). */
interface VmcsMsr {
  field: number;
  get(c: Cpu): [number, number];
  set(c: Cpu, lo: number, hi: number): void;
}

const halves = (v: number): [number, number] => [v | 0, Math.floor(v / 4294967296) | 0];
const linear = (lo: number, hi: number) => (hi | 0) * 4294967296 + (lo >>> 0);
const stored = (index: number): Pick<VmcsMsr, "get" | "set"> => ({
  get: (c) => readMsr(c, index),
  set: (c, lo, hi) => void c.msrs.set(index, [lo | 0, hi | 0]),
});

const IN_VMCS = new Map<number, VmcsMsr>([
  [IA32_FS_BASE, { field: GUEST_FS_BASE, get: (c) => halves(c.segBase[FS]), set: (c, lo, hi) => void (c.segBase[FS] = linear(lo, hi)) }],
  [IA32_GS_BASE, { field: GUEST_GS_BASE, get: (c) => halves(c.segBase[GS]), set: (c, lo, hi) => void (c.segBase[GS] = linear(lo, hi)) }],
  [IA32_EFER, { field: GUEST_IA32_EFER, get: (c) => [c.efer, 0], set: (c, lo) => void (c.efer = lo) }],
  [IA32_PAT, { field: GUEST_IA32_PAT, ...stored(IA32_PAT) }],
  [IA32_SYSENTER_CS, { field: GUEST_IA32_SYSENTER_CS, ...stored(IA32_SYSENTER_CS) }],
  [IA32_SYSENTER_ESP, { field: GUEST_IA32_SYSENTER_ESP, ...stored(IA32_SYSENTER_ESP) }],
  [IA32_SYSENTER_EIP, { field: GUEST_IA32_SYSENTER_EIP, ...stored(IA32_SYSENTER_EIP) }],
  [IA32_DEBUGCTL, { field: GUEST_IA32_DEBUGCTL, ...stored(IA32_DEBUGCTL) }],
]);

function isVmxCapability(index: number): boolean {
  return index >= IA32_VMX_BASIC && index <= IA32_VMX_VMFUNC;
}

/** The machine's MSR code, with its #GP turned into the fault the guest gets. */
function onMachine<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CpuFault) throw new GuestFault(e.vector, e.errorCode);
    throw e;
  }
}

/** The value the guest reads from MSR `index`. */
function guestRead(v: Vcpu, index: number): [number, number] {
  if (index === IA32_FEATURE_CONTROL) return [FC_LOCK, 0];
  if (isVmxCapability(index) || !MSRS.has(index)) throw new GuestFault(GP, 0);
  const held = IN_VMCS.get(index);
  if (held) return v.readHalves(held.field);
  return onMachine(() => readMsr(v.cpu, index));
}

function guestWrite(v: Vcpu, index: number, lo: number, hi: number): void {
  if (index === IA32_FEATURE_CONTROL || isVmxCapability(index)) throw new GuestFault(GP, 0);
  const held = IN_VMCS.get(index);
  if (!held) {
    onMachine(() => writeMsr(v.cpu, index, lo, hi));
    return;
  }
  if (!MSRS.has(index)) throw new GuestFault(GP, 0);
  // Check and store with the guest's current value in the processor, then put the host's back.
  const cpu = v.cpu;
  const host = held.get(cpu);
  const [oldLo, oldHi] = v.readHalves(held.field);
  held.set(cpu, oldLo, oldHi);
  try {
    onMachine(() => writeMsr(cpu, index, lo, hi));
    const [newLo, newHi] = held.get(cpu);
    v.writeHalves(held.field, newLo, newHi);
    // EFER.NXE changes what every translation allows: the native write flushes the TLB.
    if (index === IA32_EFER && ((oldLo ^ newLo) & EFER_NXE) !== 0) v.vmx.invvpid(INVVPID_SINGLE_CONTEXT, v.vpid);
  } finally {
    held.set(cpu, host[0], host[1]);
  }
}

/** Exit 31. */
export function rdmsrExit(v: Vcpu): void {
  chargeInstruction(v.cpu, "rdmsr");
  const [lo, hi] = guestRead(v, v.cpu.lo[RCX] >>> 0);
  v.cpu.writeReg(4, RAX, lo, 0);
  v.cpu.writeReg(4, RDX, hi, 0);
  v.skip();
}

/** Exit 32. */
export function wrmsrExit(v: Vcpu): void {
  chargeInstruction(v.cpu, "wrmsr");
  const c = v.cpu;
  guestWrite(v, c.lo[RCX] >>> 0, c.lo[RAX], c.lo[RDX]);
  v.skip();
}
