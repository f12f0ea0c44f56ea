// What the VMX instructions do in VMX root operation (and outside VMX operation), per
// their SDM pseudocode (Vol. 3C, 31.3): the #UD and #GP checks, VMsucceed / VMfailInvalid
// / VMfailValid with the error numbers of 31.4, and the effect. Operand decoding, VM
// exits in non-root operation and RFLAGS are the instruction handlers' part (ops/vmx.ts);
// the TypeScript host API (vmx.ts) calls these directly.
//
// Memory operands are passed as readers, called where the pseudocode reads them: after
// the fault checks, before the checks that depend on the value.

import { CpuFault, UD, GP, CR4_VMXE } from "../cpu/arch.ts";
import { readMsr, IA32_FEATURE_CONTROL, FC_LOCK, FC_VMX_OUTSIDE_SMX } from "../cpu/ops/msr.ts";
import type { Vmx } from "./vmx.ts";
import { VM_SUCCEED, VM_FAIL_INVALID, type VmResult } from "./fields.ts";
import { vmcsAt } from "./vmcs.ts";
import { fieldSlot } from "./vmcs.ts";
import { vmEntry } from "./entry.ts";
import { validEptp, ep4ta } from "./ept.ts";
import {
  fieldType, fieldWidth, TYPE_EXIT_INFO, WIDTH_64, ERR_VMCALL_IN_ROOT, ERR_VMCLEAR_INVALID_ADDRESS,
  ERR_VMCLEAR_VMXON_POINTER, ERR_VMLAUNCH_NOT_CLEAR, ERR_VMRESUME_NOT_LAUNCHED, ERR_VMPTRLD_INVALID_ADDRESS,
  ERR_VMPTRLD_VMXON_POINTER, ERR_VMPTRLD_BAD_REVISION, ERR_UNSUPPORTED_FIELD, ERR_VMWRITE_READ_ONLY,
  ERR_VMXON_IN_ROOT, ERR_INVALID_INVEPT_INVVPID_OPERAND,
} from "./fields.ts";
import {
  VMCS_REVISION, PHYS_ADDR_BITS, cr0Allowed, cr4Allowed, INVEPT_SINGLE_CONTEXT, INVEPT_ALL_CONTEXT,
  INVVPID_INDIVIDUAL_ADDRESS, INVVPID_SINGLE_CONTEXT, INVVPID_ALL_CONTEXT, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS,
} from "./capabilities.ts";

/** A 64-bit operand read from memory, as halves. */
export type Operand64 = () => [number, number];

function ud(): never {
  throw new CpuFault(UD);
}
function gp(): never {
  throw new CpuFault(GP, 0);
}

/** A VMXON/VMCS pointer: 4 KB aligned, within the physical-address width. */
function validPointer(lo: number, hi: number): boolean {
  return (lo & 0xfff) === 0 && hi >>> (PHYS_ADDR_BITS - 32) === 0;
}
function pointer(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}

/** The checks every VMX instruction but VMXON makes in root operation: #UD outside VMX operation, #GP(0) at CPL > 0. */
function rootChecks(vmx: Vmx): void {
  if (!vmx.on) ud();
  if (vmx.nonRoot) throw new Error("VMX root operation performed in VMX non-root operation");
  if (vmx.cpu.cpl > 0) gp();
}

/** VMXON (SDM 31.3): enter VMX operation with the VMXON region at the operand's address. */
export function vmxon(vmx: Vmx, operand: Operand64): VmResult {
  const cpu = vmx.cpu;
  if ((cpu.cr4 & CR4_VMXE) === 0) ud();
  if (!vmx.on) {
    // IA32_FEATURE_CONTROL must be locked with VMX outside SMX enabled (SDM 24.7).
    const fc = readMsr(cpu, IA32_FEATURE_CONTROL)[0];
    if (cpu.cpl > 0 || !cr0Allowed(cpu.cr0) || !cr4Allowed(cpu.cr4) || (fc & FC_LOCK) === 0 || (fc & FC_VMX_OUTSIDE_SMX) === 0) gp();
    const [lo, hi] = operand();
    if (!validPointer(lo, hi)) return VM_FAIL_INVALID;
    const pa = pointer(lo, hi);
    const rev = cpu.mem.read32(pa);
    if (rev !== VMCS_REVISION) return VM_FAIL_INVALID; // bits 30:0 the revision, bit 31 clear
    vmx.on = true;
    vmx.vmxonPointer = pa;
    vmx.current = null;
    return VM_SUCCEED;
  }
  if (vmx.nonRoot) throw new Error("VMXON performed in VMX non-root operation");
  if (cpu.cpl > 0) gp();
  return vmx.fail(ERR_VMXON_IN_ROOT);
}

/** VMXOFF: leave VMX operation. */
export function vmxoff(vmx: Vmx): VmResult {
  rootChecks(vmx);
  vmx.on = false;
  vmx.vmxonPointer = -1;
  vmx.current = null;
  return VM_SUCCEED;
}

/** VMCLEAR: the VMCS at the operand's address becomes clear (and not current). */
export function vmclear(vmx: Vmx, operand: Operand64): VmResult {
  rootChecks(vmx);
  const [lo, hi] = operand();
  if (!validPointer(lo, hi)) return vmx.fail(ERR_VMCLEAR_INVALID_ADDRESS);
  const pa = pointer(lo, hi);
  if (pa === vmx.vmxonPointer) return vmx.fail(ERR_VMCLEAR_VMXON_POINTER);
  const vmcs = vmcsAt(vmx.cpu.mem, pa);
  vmcs.launchState = "clear";
  if (vmx.current === vmcs) vmx.current = null;
  return VM_SUCCEED;
}

/** VMPTRLD: the VMCS at the operand's address becomes current. */
export function vmptrld(vmx: Vmx, operand: Operand64): VmResult {
  rootChecks(vmx);
  const [lo, hi] = operand();
  if (!validPointer(lo, hi)) return vmx.fail(ERR_VMPTRLD_INVALID_ADDRESS);
  const pa = pointer(lo, hi);
  if (pa === vmx.vmxonPointer) return vmx.fail(ERR_VMPTRLD_VMXON_POINTER);
  // Bit 31 of the revision dword marks a shadow VMCS, which this processor does not support.
  if (vmx.cpu.mem.read32(pa) !== VMCS_REVISION) return vmx.fail(ERR_VMPTRLD_BAD_REVISION);
  vmx.current = vmcsAt(vmx.cpu.mem, pa);
  return VM_SUCCEED;
}

/** VMPTRST: the current-VMCS pointer (FFFFFFFF_FFFFFFFFH when there is none) as halves. */
export function vmptrst(vmx: Vmx): [number, number] {
  rootChecks(vmx);
  const v = vmx.current;
  return v ? [v.address | 0, Math.floor(v.address / 4294967296)] : [-1, -1];
}

/**
 * The field an encoding (a 64-bit register value as halves) selects, or null when it is
 * unsupported: bits 63:15 and 12 must be 0, and access type 1 (high half) exists only for
 * 64-bit fields.
 */
function fieldOf(lo: number, hi: number): { enc: number; high: boolean } | null {
  if (hi !== 0 || (lo & ~0x6fff) !== 0) return null;
  const high = (lo & 1) !== 0;
  const enc = lo & ~1;
  if (fieldSlot(enc) < 0 || (high && fieldWidth(enc) !== WIDTH_64)) return null;
  return { enc, high };
}

/** VMREAD: a field of the current VMCS, zero-extended to 64 bits. */
export function vmread(vmx: Vmx, encLo: number, encHi = 0): { result: VmResult; lo: number; hi: number } {
  rootChecks(vmx);
  const v = vmx.current;
  if (!v) return { result: VM_FAIL_INVALID, lo: 0, hi: 0 };
  const f = fieldOf(encLo, encHi);
  if (!f) return { result: vmx.fail(ERR_UNSUPPORTED_FIELD), lo: 0, hi: 0 };
  if (f.high) return { result: VM_SUCCEED, lo: v.hi32(f.enc), hi: 0 };
  return { result: VM_SUCCEED, lo: v.lo32(f.enc), hi: v.hi32(f.enc) };
}

/** VMWRITE: a field of the current VMCS; VM-exit information fields are read-only (IA32_VMX_MISC[29] = 0). */
export function vmwrite(vmx: Vmx, encLo: number, encHi: number, lo: number, hi: number): VmResult {
  rootChecks(vmx);
  const v = vmx.current;
  if (!v) return VM_FAIL_INVALID;
  const f = fieldOf(encLo, encHi);
  if (!f) return vmx.fail(ERR_UNSUPPORTED_FIELD);
  if (fieldType(f.enc) === TYPE_EXIT_INFO) return vmx.fail(ERR_VMWRITE_READ_ONLY);
  if (f.high) v.setHigh(f.enc, lo);
  else v.setHalves(f.enc, lo, hi);
  return VM_SUCCEED;
}

/** VMLAUNCH (launch) or VMRESUME: the launch-state checks, then VM entry. */
export function enter(vmx: Vmx, launch: boolean): VmResult {
  rootChecks(vmx);
  const v = vmx.current;
  if (!v) return VM_FAIL_INVALID;
  if (launch && v.launchState !== "clear") return vmx.fail(ERR_VMLAUNCH_NOT_CLEAR);
  if (!launch && v.launchState !== "launched") return vmx.fail(ERR_VMRESUME_NOT_LAUNCHED);
  return vmEntry(vmx, launch);
}

/** VMCALL in root operation: without the dual-monitor treatment of SMIs, VMfail(1). */
export function vmcall(vmx: Vmx): VmResult {
  rootChecks(vmx);
  return vmx.fail(ERR_VMCALL_IN_ROOT);
}

/**
 * INVEPT: invalidates combined (and guest-physical) mappings of one EPTP's EP4TA
 * (single-context, type 1) or of all (all-context, type 2). `type` is the 64-bit
 * register operand as halves; the descriptor's low quadword is the EPTP.
 */
export function invept(vmx: Vmx, type: number, typeHi: number, descriptor: () => [number, number]): VmResult {
  rootChecks(vmx);
  if (typeHi !== 0 || (type !== INVEPT_SINGLE_CONTEXT && type !== INVEPT_ALL_CONTEXT)) {
    return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
  }
  const [lo, hi] = descriptor();
  if (type === INVEPT_SINGLE_CONTEXT) {
    if (!validEptp(lo, hi)) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
    vmx.tlbs.invalidateEp4ta(ep4ta(lo, hi));
  } else vmx.tlbs.invalidateAllEpt();
  return VM_SUCCEED;
}

/**
 * INVVPID: invalidates linear and combined mappings by VPID. The descriptor holds the
 * VPID in bits 15:0 (63:16 reserved) and a linear address in bits 127:64.
 */
export function invvpid(vmx: Vmx, type: number, typeHi: number, descriptor: () => [number, number, number]): VmResult {
  rootChecks(vmx);
  const types = [INVVPID_INDIVIDUAL_ADDRESS, INVVPID_SINGLE_CONTEXT, INVVPID_ALL_CONTEXT, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS];
  if (typeHi !== 0 || !types.includes(type)) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
  const [low, high, la] = descriptor();
  if ((low & ~0xffff) !== 0 || high !== 0) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
  const vpid = low & 0xffff;
  switch (type) {
    case INVVPID_INDIVIDUAL_ADDRESS:
      if (vpid === 0 || !vmx.cpu.isCanonical(la)) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
      vmx.tlbs.invalidateAddress(vpid, la);
      break;
    case INVVPID_SINGLE_CONTEXT:
      if (vpid === 0) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
      vmx.tlbs.invalidateVpid(vpid);
      break;
    case INVVPID_ALL_CONTEXT:
      vmx.tlbs.invalidateAllVpids();
      break;
    default:
      if (vpid === 0) return vmx.fail(ERR_INVALID_INVEPT_INVVPID_OPERAND);
      vmx.tlbs.invalidateVpid(vpid, true);
  }
  return VM_SUCCEED;
}
