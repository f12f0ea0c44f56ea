// VM entry (SDM Vol. 3C, chapter 27): checks on the VM-execution, VM-exit and VM-entry
// controls (27.2.1; failure: VMfailValid 7) and on the host-state area (27.2.2-3;
// VMfailValid 8), then checks on the guest-state area (27.3.1; failure: a VM exit with
// reason 33 and bit 31 set, which loads host state), loading of guest state and of the
// VM-entry MSR-load list (failure: reason 34), and event injection (27.6).
//
// The CPU models 64-bit mode only, so the capability MSRs require "IA-32e mode guest"
// and "host address-space size"; the checks below are those that matter for such a
// processor. Each failure records why in vmx.lastEntryFailure.

import { Interception } from "../cpu/cpu.ts";
import {
  CS, SS, DS, ES, FS, GS, RSP, CR0_PG, CR0_ET, CR4_PAE, EFER_LMA, EFER_LME, EFER_SCE, EFER_NXE,
} from "../cpu/arch.ts";
import { deliverEvent, hasErrorCode } from "../cpu/interrupts.ts";
import { COSTS } from "../cost.ts";
import type { Vmx } from "./vmx.ts";
import { VM_SUCCEED, VM_ENTRY_FAILED, type VmResult } from "./fields.ts";
import {
  PIN_BASED_CONTROLS, PRIMARY_CONTROLS, SECONDARY_CONTROLS, EXIT_CONTROLS, ENTRY_CONTROLS, EXCEPTION_BITMAP,
  CR3_TARGET_COUNT, IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAPS, EPT_POINTER, VPID, VM_FUNCTION_CONTROLS, EPTP_LIST_ADDR,
  VE_INFO_ADDR, TSC_OFFSET, ENTRY_INTERRUPTION_INFO, ENTRY_EXCEPTION_ERROR_CODE, ENTRY_INSTRUCTION_LENGTH,
  EXIT_MSR_STORE_COUNT, EXIT_MSR_STORE_ADDR, EXIT_MSR_LOAD_COUNT, EXIT_MSR_LOAD_ADDR, ENTRY_MSR_LOAD_COUNT,
  ENTRY_MSR_LOAD_ADDR, PREEMPTION_TIMER_VALUE,
  HOST_CR0, HOST_CR3, HOST_CR4, HOST_SELECTOR, HOST_TR_SELECTOR, HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE,
  HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP, HOST_IA32_EFER, HOST_IA32_PAT,
  HOST_RIP,
  GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_DR7, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS, GUEST_SELECTOR, GUEST_BASE,
  GUEST_LIMIT, GUEST_AR, SEG_LDTR, SEG_TR, GUEST_GDTR_BASE, GUEST_GDTR_LIMIT, GUEST_IDTR_BASE, GUEST_IDTR_LIMIT,
  GUEST_IA32_SYSENTER_CS, GUEST_IA32_SYSENTER_ESP, GUEST_IA32_SYSENTER_EIP, GUEST_IA32_EFER, GUEST_IA32_PAT,
  GUEST_INTERRUPTIBILITY, GUEST_ACTIVITY_STATE, GUEST_PENDING_DEBUG, VMCS_LINK_POINTER,
  CPU_SECONDARY_CONTROLS, CPU_USE_IO_BITMAPS, CPU_USE_MSR_BITMAPS, CPU_TSC_OFFSETTING, CPU2_ENABLE_EPT,
  CPU2_ENABLE_VPID, CPU2_ENABLE_VM_FUNCTIONS, CPU2_EPT_VIOLATION_VE, PIN_NMI_EXITING, PIN_VIRTUAL_NMIS,
  PIN_PREEMPTION_TIMER, EXIT_SAVE_PREEMPTION_TIMER, EXIT_LOAD_EFER, EXIT_LOAD_PAT, ENTRY_LOAD_DEBUG_CONTROLS,
  ENTRY_IA32E_MODE_GUEST, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, VMFUNC_EPTP_SWITCHING, INTR_VALID,
  INTR_ERROR_CODE_VALID, INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_HARDWARE_EXCEPTION,
  INTR_TYPE_SOFTWARE_INTERRUPT, INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION, INTR_TYPE_SOFTWARE_EXCEPTION,
  INTR_TYPE_OTHER, BLOCKING_BY_STI, BLOCKING_BY_MOV_SS, BLOCKING_BY_NMI, ACTIVITY_ACTIVE, ACTIVITY_HLT,
  EXIT_INVALID_GUEST_STATE, EXIT_MSR_LOADING, EXIT_REASON_ENTRY_FAILURE, ERR_ENTRY_INVALID_CONTROLS,
  ERR_ENTRY_INVALID_HOST_STATE,
} from "./fields.ts";
import {
  TRUE_PIN_CONTROLS, TRUE_PRIMARY_CONTROLS, SECONDARY_CONTROLS_CAP, TRUE_EXIT_CONTROLS, TRUE_ENTRY_CONTROLS,
  CR3_TARGET_COUNT_MAX, VMFUNC_SUPPORTED, PHYS_ADDR_BITS, PREEMPTION_TIMER_RATE, controlsAllowed, cr0Allowed, cr4Allowed,
} from "./capabilities.ts";
import { validEptp, ep4ta } from "./ept.ts";
import { loadMsrList } from "./msr-lists.ts";
import { IF } from "../cpu/flags.ts";
import { IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP, IA32_PAT } from "../cpu/ops/msr.ts";
import type { Vmcs } from "./vmcs.ts";

/** A physical address that fits the physical-address width (and is 4 KB aligned unless `align` says otherwise). */
function physOk(v: number, align = 4096): boolean {
  return v >= 0 && v < 2 ** PHYS_ADDR_BITS && v % align === 0;
}
function canonical(v: number): boolean {
  return v >= -(2 ** 47) && v < 2 ** 47;
}
const PAT_TYPES = new Set([0, 1, 4, 5, 6, 7]);
function validPat(lo: number, hi: number): boolean {
  for (let k = 0; k < 4; k++) {
    if (!PAT_TYPES.has((lo >>> (8 * k)) & 0xff) || !PAT_TYPES.has((hi >>> (8 * k)) & 0xff)) return false;
  }
  return true;
}
/** EFER bits that exist (SCE, LME, LMA, NXE); the others are reserved. */
const EFER_BITS = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

// ---------------------------------------------------------------- checks (SDM 27.2)

/** The VM-execution, VM-exit and VM-entry control checks; a reason string when one fails. */
function checkControls(v: Vmcs): string | null {
  const pin = v.u32(PIN_BASED_CONTROLS), primary = v.u32(PRIMARY_CONTROLS);
  const secondary = (primary & CPU_SECONDARY_CONTROLS) !== 0 ? v.u32(SECONDARY_CONTROLS) : 0;
  const exitCtl = v.u32(EXIT_CONTROLS), entryCtl = v.u32(ENTRY_CONTROLS);
  if (!controlsAllowed(pin, TRUE_PIN_CONTROLS)) return "pin-based controls not allowed by IA32_VMX_TRUE_PINBASED_CTLS";
  if (!controlsAllowed(primary, TRUE_PRIMARY_CONTROLS)) return "primary controls not allowed by IA32_VMX_TRUE_PROCBASED_CTLS";
  if (!controlsAllowed(secondary, SECONDARY_CONTROLS_CAP)) return "secondary controls not allowed by IA32_VMX_PROCBASED_CTLS2";
  if (!controlsAllowed(exitCtl, TRUE_EXIT_CONTROLS)) return "VM-exit controls not allowed by IA32_VMX_TRUE_EXIT_CTLS";
  if (!controlsAllowed(entryCtl, TRUE_ENTRY_CONTROLS)) return "VM-entry controls not allowed by IA32_VMX_TRUE_ENTRY_CTLS";
  if (v.u32(CR3_TARGET_COUNT) > CR3_TARGET_COUNT_MAX) return "CR3-target count above 4";
  if ((primary & CPU_USE_IO_BITMAPS) !== 0 && !(physOk(v.get(IO_BITMAP_A)) && physOk(v.get(IO_BITMAP_B)))) {
    return "I/O bitmap address not 4 KB aligned or beyond the physical-address width";
  }
  if ((primary & CPU_USE_MSR_BITMAPS) !== 0 && !physOk(v.get(MSR_BITMAPS))) return "MSR-bitmap address invalid";
  if ((pin & PIN_NMI_EXITING) === 0 && (pin & PIN_VIRTUAL_NMIS) !== 0) return "virtual NMIs without NMI exiting";
  if ((pin & PIN_PREEMPTION_TIMER) === 0 && (exitCtl & EXIT_SAVE_PREEMPTION_TIMER) !== 0) {
    return "save VMX-preemption timer value without activate VMX-preemption timer";
  }
  if ((secondary & CPU2_ENABLE_EPT) !== 0 && !validEptp(v.lo32(EPT_POINTER), v.hi32(EPT_POINTER))) return "invalid EPT pointer";
  if ((secondary & CPU2_ENABLE_VPID) !== 0 && v.u32(VPID) === 0) return "enable VPID with VPID 0";
  if ((secondary & CPU2_ENABLE_VM_FUNCTIONS) !== 0) {
    const f = v.get(VM_FUNCTION_CONTROLS);
    if (f < 0 || (f & ~VMFUNC_SUPPORTED) !== 0 || f >= 2 ** 32) return "unsupported VM-function controls";
    if ((f & VMFUNC_EPTP_SWITCHING) !== 0) {
      if ((secondary & CPU2_ENABLE_EPT) === 0) return "EPTP switching without enable EPT";
      if (!physOk(v.get(EPTP_LIST_ADDR))) return "EPTP-list address invalid";
    }
  }
  if ((secondary & CPU2_EPT_VIOLATION_VE) !== 0 && !physOk(v.get(VE_INFO_ADDR))) return "#VE information address invalid";
  const lists: [number, number][] = [
    [EXIT_MSR_STORE_COUNT, EXIT_MSR_STORE_ADDR], [EXIT_MSR_LOAD_COUNT, EXIT_MSR_LOAD_ADDR], [ENTRY_MSR_LOAD_COUNT, ENTRY_MSR_LOAD_ADDR],
  ];
  for (const [count, addr] of lists) {
    const n = v.u32(count), a = v.get(addr);
    if (n > 0 && !(physOk(a, 16) && physOk(a + 16 * n - 16, 16))) return "MSR list address invalid";
  }
  return checkInjection(v);
}

/** Checks on the VM-entry interruption-information field (SDM 27.2.1.3). */
function checkInjection(v: Vmcs): string | null {
  const info = v.u32(ENTRY_INTERRUPTION_INFO);
  if ((info & INTR_VALID) === 0) return null;
  const vector = info & 0xff, type = (info >>> 8) & 7;
  if (type === 1 || type === INTR_TYPE_OTHER) return "injection of a reserved or unsupported event type";
  if (type === INTR_TYPE_NMI && vector !== 2) return "NMI injection with a vector other than 2";
  if (type === INTR_TYPE_HARDWARE_EXCEPTION && vector > 31) return "hardware exception injection with a vector above 31";
  const wantsCode = type === INTR_TYPE_HARDWARE_EXCEPTION && hasErrorCode(vector) && vector !== 21 && vector < 29;
  if (((info & INTR_ERROR_CODE_VALID) !== 0) !== wantsCode) return "deliver-error-code bit does not match the exception";
  if ((info & 0x7ffff000) !== 0) return "reserved bits of the VM-entry interruption-information field";
  if ((info & INTR_ERROR_CODE_VALID) !== 0 && (v.u32(ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000) !== 0) {
    return "reserved bits of the VM-entry exception error code";
  }
  if (type >= INTR_TYPE_SOFTWARE_INTERRUPT && type <= INTR_TYPE_SOFTWARE_EXCEPTION) {
    const len = v.u32(ENTRY_INSTRUCTION_LENGTH);
    if (len < 1 || len > 15) return "VM-entry instruction length outside 1-15";
  }
  return null;
}

/** Checks on the host-state area (SDM 27.2.2, 27.2.3). */
function checkHostState(v: Vmcs, exitCtl: number): string | null {
  if (!cr0Allowed(v.u32(HOST_CR0)) || v.hi32(HOST_CR0) !== 0) return "host CR0 not allowed in VMX operation";
  if (!cr4Allowed(v.u32(HOST_CR4)) || v.hi32(HOST_CR4) !== 0) return "host CR4 not allowed in VMX operation";
  if ((v.u32(HOST_CR4) & CR4_PAE) === 0) return "host CR4.PAE is 0 with a 64-bit host";
  const cr3 = v.get(HOST_CR3);
  if (cr3 < 0 || cr3 >= 2 ** PHYS_ADDR_BITS) return "host CR3 beyond the physical-address width";
  if (!canonical(v.get(HOST_IA32_SYSENTER_ESP)) || !canonical(v.get(HOST_IA32_SYSENTER_EIP))) return "host SYSENTER_ESP/EIP not canonical";
  if ((exitCtl & EXIT_LOAD_PAT) !== 0 && !validPat(v.lo32(HOST_IA32_PAT), v.hi32(HOST_IA32_PAT))) return "host IA32_PAT invalid";
  if ((exitCtl & EXIT_LOAD_EFER) !== 0) {
    const efer = v.get(HOST_IA32_EFER);
    if (efer < 0 || efer >= 2 ** 32 || (efer & ~EFER_BITS) !== 0) return "host IA32_EFER reserved bits";
    if ((efer & EFER_LMA) === 0 || (efer & EFER_LME) === 0) return "host IA32_EFER.LMA/LME differ from the host address-space size";
  }
  for (const f of [...HOST_SELECTOR, HOST_TR_SELECTOR]) if ((v.u32(f) & 7) !== 0) return "host selector with RPL or TI set";
  if (v.u32(HOST_SELECTOR[CS]) === 0) return "host CS selector is 0";
  if (v.u32(HOST_TR_SELECTOR) === 0) return "host TR selector is 0";
  for (const f of [HOST_FS_BASE, HOST_GS_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_TR_BASE]) {
    if (!canonical(v.get(f))) return "host FS/GS/GDTR/IDTR/TR base not canonical";
  }
  if (!canonical(v.get(HOST_RIP))) return "host RIP not canonical";
  return null;
}

// Access-rights fields (SDM 25.4.1): 3:0 type, 4 S, 6:5 DPL, 7 P, 13 L, 14 D/B, 15 G, 16 unusable.
const arType = (ar: number) => ar & 0xf;
const arS = (ar: number) => (ar >> 4) & 1;
const arDpl = (ar: number) => (ar >> 5) & 3;
const arP = (ar: number) => (ar >> 7) & 1;
const unusable = (ar: number) => (ar & (1 << 16)) !== 0;
const AR_RESERVED = 0xfffe0f00 | 0;

/** Limit and granularity agree: limit bits 11:0 all 1 unless G = 0, bits 31:20 all 0 unless G = 1. */
function limitMatchesG(limit: number, ar: number): boolean {
  const g = (ar >> 15) & 1;
  if ((limit & 0xfff) !== 0xfff && g === 1) return false;
  if ((limit >>> 20) !== 0 && g === 0) return false;
  return true;
}

/** Checks on the guest-state area (SDM 27.3.1); a reason string when one fails. */
function checkGuestState(v: Vmcs, entryCtl: number, vmcsLinkOk: { ok: boolean }): string | null {
  const cr0 = v.u32(GUEST_CR0), cr4 = v.u32(GUEST_CR4);
  if (!cr0Allowed(cr0) || v.hi32(GUEST_CR0) !== 0) return "guest CR0 not allowed in VMX operation";
  if (!cr4Allowed(cr4) || v.hi32(GUEST_CR4) !== 0) return "guest CR4 not allowed in VMX operation";
  const ia32e = (entryCtl & ENTRY_IA32E_MODE_GUEST) !== 0;
  if (ia32e && ((cr0 & CR0_PG) === 0 || (cr4 & CR4_PAE) === 0)) return "IA-32e mode guest without CR0.PG and CR4.PAE";
  const cr3 = v.get(GUEST_CR3);
  if (cr3 < 0 || cr3 >= 2 ** PHYS_ADDR_BITS) return "guest CR3 beyond the physical-address width";
  if ((entryCtl & ENTRY_LOAD_DEBUG_CONTROLS) !== 0 && v.hi32(GUEST_DR7) !== 0) return "guest DR7 bits 63:32 set";
  if (!canonical(v.get(GUEST_IA32_SYSENTER_ESP)) || !canonical(v.get(GUEST_IA32_SYSENTER_EIP))) return "guest SYSENTER_ESP/EIP not canonical";
  if ((entryCtl & ENTRY_LOAD_PAT) !== 0 && !validPat(v.lo32(GUEST_IA32_PAT), v.hi32(GUEST_IA32_PAT))) return "guest IA32_PAT invalid";
  if ((entryCtl & ENTRY_LOAD_EFER) !== 0) {
    const efer = v.get(GUEST_IA32_EFER);
    if (efer < 0 || efer >= 2 ** 32 || (efer & ~EFER_BITS) !== 0) return "guest IA32_EFER reserved bits";
    if (((efer & EFER_LMA) !== 0) !== ia32e) return "guest IA32_EFER.LMA differs from IA-32e mode guest";
    if ((cr0 & CR0_PG) !== 0 && ((efer & EFER_LMA) !== 0) !== ((efer & EFER_LME) !== 0)) return "guest IA32_EFER.LMA differs from LME";
  }

  // Segment registers (SDM 27.3.1.2), for a 64-bit guest.
  const sel: number[] = [], ar: number[] = [], lim: number[] = [];
  for (let k = 0; k < 8; k++) {
    sel.push(v.u32(GUEST_SELECTOR[k]));
    ar.push(v.u32(GUEST_AR[k]));
    lim.push(v.u32(GUEST_LIMIT[k]));
  }
  const trAr = ar[SEG_TR];
  if ((sel[SEG_TR] & 4) !== 0) return "guest TR selector TI flag set";
  if (unusable(trAr) || arType(trAr) !== 11 || arS(trAr) !== 0 || arP(trAr) !== 1 || (trAr & AR_RESERVED) !== 0 || !limitMatchesG(lim[SEG_TR], trAr)) {
    return "guest TR access rights: not a usable, present busy 64-bit TSS";
  }
  if (!canonical(v.get(GUEST_BASE[SEG_TR]))) return "guest TR base not canonical";
  const ldtAr = ar[SEG_LDTR];
  if (!unusable(ldtAr)) {
    if ((sel[SEG_LDTR] & 4) !== 0 || arType(ldtAr) !== 2 || arS(ldtAr) !== 0 || arP(ldtAr) !== 1 || (ldtAr & AR_RESERVED) !== 0 || !limitMatchesG(lim[SEG_LDTR], ldtAr)) {
      return "guest LDTR access rights invalid";
    }
    if (!canonical(v.get(GUEST_BASE[SEG_LDTR]))) return "guest LDTR base not canonical";
  }
  const csAr = ar[CS], ssAr = ar[SS];
  if ((sel[SS] & 3) !== (sel[CS] & 3)) return "guest SS.RPL differs from CS.RPL";
  if (unusable(csAr) || ![9, 11, 13, 15].includes(arType(csAr)) || arS(csAr) !== 1 || arP(csAr) !== 1 || (csAr & AR_RESERVED) !== 0 || !limitMatchesG(lim[CS], csAr)) {
    return "guest CS access rights: not a usable, present, accessed code segment";
  }
  if (arType(csAr) <= 11 ? arDpl(csAr) !== arDpl(ssAr) : arDpl(csAr) > arDpl(ssAr)) return "guest CS.DPL does not fit SS.DPL";
  if (ia32e && (csAr & (1 << 13)) !== 0 && (csAr & (1 << 14)) !== 0) return "guest CS with L = 1 and D = 1";
  if (ia32e && (csAr & (1 << 13)) === 0) return "guest CS is not a 64-bit code segment (only 64-bit mode is modeled)";
  if (!unusable(ssAr)) {
    if ((arType(ssAr) !== 3 && arType(ssAr) !== 7) || arS(ssAr) !== 1 || arP(ssAr) !== 1 || (ssAr & AR_RESERVED) !== 0 || !limitMatchesG(lim[SS], ssAr)) {
      return "guest SS access rights: not a present writable data segment";
    }
    if (arDpl(ssAr) !== (sel[SS] & 3)) return "guest SS.DPL differs from its RPL";
  }
  for (const k of [DS, ES, FS, GS]) {
    const a = ar[k];
    if (unusable(a)) continue;
    if ((a & 1) === 0 || ((a & 8) !== 0 && (a & 2) === 0) || arS(a) !== 1 || arP(a) !== 1 || (a & AR_RESERVED) !== 0 || !limitMatchesG(lim[k], a)) {
      return "guest DS/ES/FS/GS access rights invalid";
    }
    if (arType(a) <= 11 && arDpl(a) < (sel[k] & 3)) return "guest DS/ES/FS/GS DPL below RPL";
  }
  if (!canonical(v.get(GUEST_BASE[FS])) || !canonical(v.get(GUEST_BASE[GS]))) return "guest FS/GS base not canonical";
  // Descriptor-table registers (27.3.1.3).
  if (!canonical(v.get(GUEST_GDTR_BASE)) || !canonical(v.get(GUEST_IDTR_BASE))) return "guest GDTR/IDTR base not canonical";
  if ((v.u32(GUEST_GDTR_LIMIT) >>> 16) !== 0 || (v.u32(GUEST_IDTR_LIMIT) >>> 16) !== 0) return "guest GDTR/IDTR limit above 0xFFFF";
  // RIP and RFLAGS (27.3.1.4).
  if (!canonical(v.get(GUEST_RIP))) return "guest RIP not canonical";
  const rflags = v.get(GUEST_RFLAGS);
  if (rflags < 0 || rflags >= 2 ** 22 || (rflags & 0x8028) !== 0 || (rflags & 2) === 0) return "guest RFLAGS reserved bits";
  if (ia32e && (rflags & (1 << 17)) !== 0) return "guest RFLAGS.VM set in IA-32e mode";
  const inj = v.u32(ENTRY_INTERRUPTION_INFO);
  const injType = (inj & INTR_VALID) !== 0 ? (inj >>> 8) & 7 : -1;
  if (injType === INTR_TYPE_EXTERNAL && (rflags & IF) === 0) return "external-interrupt injection with RFLAGS.IF = 0";
  // Non-register state (27.3.1.5).
  const activity = v.u32(GUEST_ACTIVITY_STATE);
  if (activity !== ACTIVITY_ACTIVE && activity !== ACTIVITY_HLT) return "unsupported guest activity state";
  if (activity === ACTIVITY_HLT && arDpl(ssAr) !== 0) return "HLT activity state with SS.DPL != 0";
  const blocking = v.u32(GUEST_INTERRUPTIBILITY);
  if ((blocking & ~0xf) !== 0) return "guest interruptibility-state reserved bits";
  if ((blocking & BLOCKING_BY_STI) !== 0 && (blocking & BLOCKING_BY_MOV_SS) !== 0) return "blocking by both STI and MOV SS";
  if ((blocking & BLOCKING_BY_STI) !== 0 && (rflags & IF) === 0) return "blocking by STI with RFLAGS.IF = 0";
  if ((blocking & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0 && activity !== ACTIVITY_ACTIVE) return "STI/MOV SS blocking outside the active state";
  if (injType === INTR_TYPE_EXTERNAL && (blocking & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0) return "external-interrupt injection under STI/MOV SS blocking";
  if (injType === INTR_TYPE_NMI && (blocking & BLOCKING_BY_MOV_SS) !== 0) return "NMI injection under MOV SS blocking";
  const pending = v.get(GUEST_PENDING_DEBUG);
  if (pending < 0 || pending >= 2 ** 15 || (pending & 0x2ff0) !== 0) return "guest pending-debug-exceptions reserved bits";
  if (v.get(VMCS_LINK_POINTER) !== -1) {
    vmcsLinkOk.ok = false; // no VMCS shadowing: the link pointer must be FFFFFFFF_FFFFFFFFH
    return "VMCS link pointer is not FFFFFFFF_FFFFFFFFH";
  }
  return null;
}

// ---------------------------------------------------------------- loading guest state (SDM 27.3.2)

const SEGMENTS = [ES, CS, SS, DS, FS, GS];

function loadGuestState(vmx: Vmx): void {
  const cpu = vmx.cpu, v = vmx.vmcs;
  const entryCtl = vmx.entryControls;
  cpu.cr0 = v.u32(GUEST_CR0) | CR0_ET;
  cpu.cr3 = v.get(GUEST_CR3);
  cpu.cr4 = v.u32(GUEST_CR4);
  if ((entryCtl & ENTRY_LOAD_DEBUG_CONTROLS) !== 0) cpu.dr[7] = (v.u32(GUEST_DR7) & 0xffff2bff) | 0x400;
  cpu.msrs.set(IA32_SYSENTER_CS, [v.lo32(GUEST_IA32_SYSENTER_CS), 0]);
  cpu.msrs.set(IA32_SYSENTER_ESP, [v.lo32(GUEST_IA32_SYSENTER_ESP), v.hi32(GUEST_IA32_SYSENTER_ESP)]);
  cpu.msrs.set(IA32_SYSENTER_EIP, [v.lo32(GUEST_IA32_SYSENTER_EIP), v.hi32(GUEST_IA32_SYSENTER_EIP)]);
  if ((entryCtl & ENTRY_LOAD_EFER) !== 0) cpu.efer = v.u32(GUEST_IA32_EFER);
  else cpu.efer |= EFER_LMA | EFER_LME; // LMA = LME = "IA-32e mode guest" (always 1 here)
  if ((entryCtl & ENTRY_LOAD_PAT) !== 0) cpu.msrs.set(IA32_PAT, [v.lo32(GUEST_IA32_PAT), v.hi32(GUEST_IA32_PAT)]);

  for (let k = 0; k < 6; k++) {
    const seg = SEGMENTS[k];
    cpu.segSel[seg] = v.u32(GUEST_SELECTOR[k]);
    cpu.segBase[seg] = unusable(v.u32(GUEST_AR[k])) && seg !== FS && seg !== GS ? 0 : v.get(GUEST_BASE[k]);
  }
  cpu.cpl = arDpl(v.u32(GUEST_AR[SS]));
  cpu.ldtSel = v.u32(GUEST_SELECTOR[SEG_LDTR]);
  cpu.ldtBase = unusable(v.u32(GUEST_AR[SEG_LDTR])) ? 0 : v.get(GUEST_BASE[SEG_LDTR]);
  cpu.ldtLimit = unusable(v.u32(GUEST_AR[SEG_LDTR])) ? 0 : v.u32(GUEST_LIMIT[SEG_LDTR]);
  cpu.trSel = v.u32(GUEST_SELECTOR[SEG_TR]);
  cpu.trBase = v.get(GUEST_BASE[SEG_TR]);
  cpu.trLimit = v.u32(GUEST_LIMIT[SEG_TR]);
  cpu.gdtBase = v.get(GUEST_GDTR_BASE);
  cpu.gdtLimit = v.u32(GUEST_GDTR_LIMIT);
  cpu.idtBase = v.get(GUEST_IDTR_BASE);
  cpu.idtLimit = v.u32(GUEST_IDTR_LIMIT);

  cpu.setReg64(RSP, v.get(GUEST_RSP));
  cpu.rip = v.get(GUEST_RIP);
  cpu.nextRip = cpu.rip;
  cpu.rflags = v.u32(GUEST_RFLAGS);
  const blocking = v.u32(GUEST_INTERRUPTIBILITY);
  cpu.interruptShadow = (blocking & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0;
  cpu.nmiBlocked = (blocking & BLOCKING_BY_NMI) !== 0;
  cpu.halted = v.u32(GUEST_ACTIVITY_STATE) === ACTIVITY_HLT;
  cpu.attention = true; // events pending for the guest are looked at before its first instruction
}

/** Caches the controls of the current VMCS in vmx (they cannot change until the next VM exit). */
function cacheControls(vmx: Vmx): void {
  const v = vmx.vmcs;
  vmx.pin = v.u32(PIN_BASED_CONTROLS);
  vmx.primary = v.u32(PRIMARY_CONTROLS);
  vmx.secondary = (vmx.primary & CPU_SECONDARY_CONTROLS) !== 0 ? v.u32(SECONDARY_CONTROLS) : 0;
  vmx.exitControls = v.u32(EXIT_CONTROLS);
  vmx.entryControls = v.u32(ENTRY_CONTROLS);
  vmx.exceptionBitmap = v.u32(EXCEPTION_BITMAP);
  vmx.vmfuncControls = (vmx.secondary & CPU2_ENABLE_VM_FUNCTIONS) !== 0 ? v.u32(VM_FUNCTION_CONTROLS) : 0;
  vmx.vpid = (vmx.secondary & CPU2_ENABLE_VPID) !== 0 ? v.u32(VPID) : 0;
  vmx.tscOffset = (vmx.primary & CPU_TSC_OFFSETTING) !== 0 ? v.get(TSC_OFFSET) : 0;
}

// ---------------------------------------------------------------- VM entry

/**
 * VMLAUNCH/VMRESUME after the instruction's own checks (VMX root, CPL 0, a current VMCS
 * in the right launch state). Returns VMsucceed (the CPU is in non-root operation at the
 * guest's RIP, or already back at the host after an exit during event injection),
 * VMfailValid(7/8), or VM_ENTRY_FAILED (an exit with reason 33/34 loaded host state).
 */
export function vmEntry(vmx: Vmx, launch: boolean): VmResult {
  const cpu = vmx.cpu, v = vmx.vmcs;
  const bad = checkControls(v);
  if (bad) {
    vmx.lastEntryFailure = bad;
    return vmx.fail(ERR_ENTRY_INVALID_CONTROLS);
  }
  const badHost = checkHostState(v, v.u32(EXIT_CONTROLS));
  if (badHost) {
    vmx.lastEntryFailure = badHost;
    return vmx.fail(ERR_ENTRY_INVALID_HOST_STATE);
  }
  cacheControls(vmx);
  const link = { ok: true };
  const badGuest = checkGuestState(v, vmx.entryControls, link);
  if (badGuest) {
    vmx.lastEntryFailure = badGuest;
    failEntry(vmx, EXIT_INVALID_GUEST_STATE, link.ok ? 0 : 4);
    return VM_ENTRY_FAILED;
  }

  // Load guest state, switch translation context and hooks.
  vmx.tlbs.leave();
  loadGuestState(vmx);
  vmx.nonRoot = true;
  const ept = (vmx.secondary & CPU2_ENABLE_EPT) !== 0;
  let context = -1;
  if (ept) {
    vmx.ept.load(v.lo32(EPT_POINTER), v.hi32(EPT_POINTER));
    context = ep4ta(v.lo32(EPT_POINTER), v.hi32(EPT_POINTER));
    cpu.guestPhys = vmx.ept;
  } else cpu.guestPhys = null;
  // Without VPIDs, host and guest share VPID 0 and every VM entry flushes it (SDM 29.4.3.3).
  if ((vmx.secondary & CPU2_ENABLE_VPID) === 0) vmx.tlbs.invalidateVpid(0);
  vmx.tlbs.enter(vmx.vpid, context);
  cpu.interceptFault = vmx.events.interceptFault;
  cpu.cycles += COSTS.vmentry;

  // The VM-entry MSR-load list (SDM 27.4); a failure is a VM exit with reason 34.
  const failed = loadMsrList(cpu, v.get(ENTRY_MSR_LOAD_ADDR), v.u32(ENTRY_MSR_LOAD_COUNT));
  if (failed !== 0) {
    vmx.lastEntryFailure = `VM-entry MSR-load entry ${failed}`;
    vmx.nonRoot = false;
    failEntry(vmx, EXIT_MSR_LOADING, failed);
    return VM_ENTRY_FAILED;
  }
  if (launch) v.launchState = "launched";
  vmx.lastEntryFailure = "";

  if ((vmx.pin & PIN_PREEMPTION_TIMER) !== 0) {
    // The timer counts down by one each time bit 5 of the TSC changes (SDM 26.5.1): it
    // reaches 0 at the `value`-th such change after VM entry.
    const unit = 2 ** PREEMPTION_TIMER_RATE;
    vmx.timerDeadline = (Math.floor(cpu.cycles / unit) + v.u32(PREEMPTION_TIMER_VALUE)) * unit;
    cpu.setDeadline("vmx-preemption-timer", vmx.timerDeadline);
  }
  injectEvent(vmx);
  return VM_SUCCEED;
}

/** A VM-entry failure after the control and host-state checks: an exit that loads host state (SDM 27.8). */
function failEntry(vmx: Vmx, reason: number, qualification: number): void {
  vmx.exit({ reason: reason | EXIT_REASON_ENTRY_FAILURE, qualification });
}

/**
 * Event injection (SDM 27.6): the event in the VM-entry interruption-information field
 * is delivered through the guest IDT as if it had happened right after VM entry. A VM
 * exit while delivering it (an EPT violation on the IDT, a triple fault) reports it as
 * IDT-vectoring information.
 */
function injectEvent(vmx: Vmx): void {
  const cpu = vmx.cpu, v = vmx.vmcs;
  const info = v.u32(ENTRY_INTERRUPTION_INFO);
  if ((info & INTR_VALID) === 0) return;
  const vector = info & 0xff, type = (info >>> 8) & 7;
  const code = (info & INTR_ERROR_CODE_VALID) !== 0 ? v.u32(ENTRY_EXCEPTION_ERROR_CODE) : -1;
  const soft = type === INTR_TYPE_SOFTWARE_INTERRUPT || type === INTR_TYPE_SOFTWARE_EXCEPTION || type === INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION;
  const returnRip = soft ? cpu.rip + v.u32(ENTRY_INSTRUCTION_LENGTH) : cpu.rip;
  const kind = type === INTR_TYPE_EXTERNAL ? "external" : type === INTR_TYPE_NMI ? "nmi" :
    type === INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION || type === INTR_TYPE_HARDWARE_EXCEPTION ? "fault" : "soft";
  vmx.vectoring = info & ~0x1000; // bits 31, 11, 10:8, 7:0
  vmx.vectoringError = code;
  cpu.halted = false;
  try {
    deliverEvent(cpu, vector, code, kind, returnRip);
    if (type === INTR_TYPE_NMI) cpu.nmiBlocked = true;
  } catch (e) {
    if (!(e instanceof Interception)) throw e;
    e.action(cpu);
  } finally {
    vmx.vectoring = 0;
  }
}
