// VM exits (SDM Vol. 3C, chapter 28): record the exit information, save guest state into
// the VMCS, load host state from it, and leave VMX non-root operation.
//
// The processor models selectors, CPL, FS/GS bases, the descriptor-table registers,
// control registers, EFER and RSP/RIP/RFLAGS; segment limits and access rights are not
// modeled (64-bit mode ignores them), so on exit a segment whose selector the guest did
// not change keeps the VMCS values VM entry loaded, and a changed one gets the flat
// 64-bit values its selector implies.

import type { Cpu } from "../cpu/cpu.ts";
import { CS, SS, DS, ES, FS, GS, RSP, EFER_LMA, EFER_LME, CR0_ET } from "../cpu/arch.ts";
import { readMsr } from "../cpu/ops/msr.ts";
import { COSTS } from "../cost.ts";
import type { Vmx } from "./vmx.ts";
import {
  EXIT_REASON, EXIT_QUALIFICATION, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS, EXIT_INTERRUPTION_INFO,
  EXIT_INTERRUPTION_ERROR_CODE, IDT_VECTORING_INFO, IDT_VECTORING_ERROR_CODE, EXIT_INSTRUCTION_LENGTH,
  EXIT_INSTRUCTION_INFO, ENTRY_INTERRUPTION_INFO, INTR_VALID, EXIT_REASON_ENTRY_FAILURE,
  GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_DR7, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS, GUEST_SELECTOR, GUEST_BASE,
  GUEST_LIMIT, GUEST_AR, SEG_LDTR, SEG_TR, GUEST_GDTR_BASE, GUEST_GDTR_LIMIT, GUEST_IDTR_BASE, GUEST_IDTR_LIMIT,
  GUEST_IA32_SYSENTER_CS, GUEST_IA32_SYSENTER_ESP, GUEST_IA32_SYSENTER_EIP, GUEST_IA32_EFER, GUEST_IA32_PAT,
  GUEST_INTERRUPTIBILITY, GUEST_ACTIVITY_STATE, GUEST_PENDING_DEBUG, PREEMPTION_TIMER_VALUE, ENTRY_CONTROLS,
  EXIT_SAVE_DEBUG_CONTROLS, EXIT_SAVE_EFER, EXIT_SAVE_PAT, EXIT_SAVE_PREEMPTION_TIMER, EXIT_LOAD_EFER,
  EXIT_LOAD_PAT, ENTRY_IA32E_MODE_GUEST, ACTIVITY_ACTIVE, ACTIVITY_HLT, BLOCKING_BY_STI, BLOCKING_BY_MOV_SS,
  BLOCKING_BY_NMI, HOST_CR0, HOST_CR3, HOST_CR4, HOST_SELECTOR, HOST_TR_SELECTOR, HOST_FS_BASE, HOST_GS_BASE,
  HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_IA32_SYSENTER_CS, HOST_IA32_SYSENTER_ESP,
  HOST_IA32_SYSENTER_EIP, HOST_IA32_EFER, HOST_IA32_PAT, HOST_RSP, HOST_RIP, CPU2_ENABLE_VPID, PIN_PREEMPTION_TIMER,
  EXIT_EXCEPTION_OR_NMI, INTR_TYPE_NMI, EXIT_MSR_STORE_COUNT, EXIT_MSR_STORE_ADDR, EXIT_MSR_LOAD_COUNT,
  EXIT_MSR_LOAD_ADDR,
} from "./fields.ts";
import { PREEMPTION_TIMER_RATE } from "./capabilities.ts";
import { storeMsrList, loadMsrList } from "./msr-lists.ts";
import { IF } from "../cpu/flags.ts";
import { IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP, IA32_PAT } from "../cpu/ops/msr.ts";

/** What a VM exit records (SDM 28.2); fields left undefined are not written. */
export interface ExitEvent {
  /** Exit reason: the basic reason, or bit 31 with 33/34 for a VM-entry failure. */
  reason: number;
  qualification?: number;
  instructionLength?: number;
  instructionInfo?: number;
  guestLinear?: number;
  guestPhysical?: number;
  /** VM-exit interruption information (exits due to exceptions, NMIs, external interrupts). */
  interruptionInfo?: number;
  interruptionError?: number;
  /** IDT-vectoring information: the event being delivered when the exit happened. */
  vectoring?: number;
  vectoringError?: number;
}

// Access rights of the flat segments a 64-bit guest's selectors imply (SDM 25.4.1).
const AR_UNUSABLE = 1 << 16;
const AR_CODE64 = 0xa09b; // execute/read accessed, S, P, L, G
const AR_DATA = 0xc093; // read/write accessed, S, P, D/B, G
const AR_TSS_BUSY = 0x8b;
const AR_LDT = 0x82;

/** The segment registers of the CPU model in VMCS order (ES, CS, SS, DS, FS, GS). */
const SEGMENTS = [ES, CS, SS, DS, FS, GS];

/** Performs a VM exit: record, save guest state, load host state, leave non-root operation. */
export function vmExit(vmx: Vmx, e: ExitEvent): void {
  const cpu = vmx.cpu;
  const vmcs = vmx.vmcs;
  const entryFailure = (e.reason & EXIT_REASON_ENTRY_FAILURE) !== 0;

  // Exit information (SDM 28.2).
  vmcs.set(EXIT_REASON, e.reason >>> 0);
  vmcs.set(EXIT_QUALIFICATION, e.qualification ?? 0);
  if (e.guestLinear !== undefined) vmcs.set(GUEST_LINEAR_ADDRESS, e.guestLinear);
  if (e.guestPhysical !== undefined) vmcs.set(GUEST_PHYSICAL_ADDRESS, e.guestPhysical);
  vmcs.set(EXIT_INTERRUPTION_INFO, e.interruptionInfo ?? 0);
  if (e.interruptionError !== undefined) vmcs.set(EXIT_INTERRUPTION_ERROR_CODE, e.interruptionError);
  vmcs.set(IDT_VECTORING_INFO, e.vectoring ?? 0);
  if (e.vectoringError !== undefined) vmcs.set(IDT_VECTORING_ERROR_CODE, e.vectoringError);
  if (e.instructionLength !== undefined) vmcs.set(EXIT_INSTRUCTION_LENGTH, e.instructionLength);
  if (e.instructionInfo !== undefined) vmcs.set(EXIT_INSTRUCTION_INFO, e.instructionInfo);
  // Every VM exit clears the valid bit of the VM-entry interruption-information field.
  vmcs.set(ENTRY_INTERRUPTION_INFO, vmcs.u32(ENTRY_INTERRUPTION_INFO) & ~INTR_VALID);

  // A VM-entry failure loads host state without saving guest state (SDM 27.8).
  if (!entryFailure) {
    saveGuestState(vmx);
    storeMsrList(cpu, vmcs.get(EXIT_MSR_STORE_ADDR), vmcs.u32(EXIT_MSR_STORE_COUNT));
  }
  const nmiExit = e.reason === EXIT_EXCEPTION_OR_NMI && ((e.interruptionInfo ?? 0) >> 8 & 7) === INTR_TYPE_NMI;
  loadHostState(vmx, nmiExit);
  // Exit MSR loading; a failure here would be a VMX abort (SDM 28.7), which loadMsrList
  // reports by shutting the processor down.
  loadMsrList(cpu, vmcs.get(EXIT_MSR_LOAD_ADDR), vmcs.u32(EXIT_MSR_LOAD_COUNT), true);
  cpu.cycles += COSTS.vmexit;
}

/** The preemption timer's current value (SDM 26.5.1): it counts down each time TSC bit `rate` changes. */
export function preemptionTimerValue(vmx: Vmx): number {
  const cpu = vmx.cpu;
  if (vmx.timerDeadline === Infinity) return 0;
  const unit = 2 ** PREEMPTION_TIMER_RATE;
  const left = Math.floor(vmx.timerDeadline / unit) - Math.floor(cpu.cycles / unit);
  return Math.max(0, Math.min(left, 0xffffffff));
}

function saveGuestState(vmx: Vmx): void {
  const cpu = vmx.cpu;
  const vmcs = vmx.vmcs;
  vmcs.set(GUEST_CR0, cpu.cr0 >>> 0);
  vmcs.set(GUEST_CR3, cpu.cr3);
  vmcs.set(GUEST_CR4, cpu.cr4);
  if ((vmx.exitControls & EXIT_SAVE_DEBUG_CONTROLS) !== 0) vmcs.set(GUEST_DR7, cpu.dr[7]);
  vmcs.set(GUEST_RSP, cpu.reg64(RSP));
  vmcs.set(GUEST_RIP, cpu.rip);
  vmcs.set(GUEST_RFLAGS, cpu.rflags);
  vmcs.set(GUEST_PENDING_DEBUG, 0);

  for (let k = 0; k < 6; k++) {
    const sel = cpu.segSel[SEGMENTS[k]];
    if (sel !== vmcs.u32(GUEST_SELECTOR[k])) {
      vmcs.set(GUEST_SELECTOR[k], sel);
      const dpl = sel & 3;
      const usable = k === 1 || (sel & ~3) !== 0;
      vmcs.set(GUEST_AR[k], !usable ? AR_UNUSABLE : k === 1 ? AR_CODE64 | (dpl << 5) : AR_DATA | (dpl << 5));
      vmcs.set(GUEST_LIMIT[k], 0xffffffff);
    }
    vmcs.set(GUEST_BASE[k], cpu.segBase[SEGMENTS[k]]);
  }
  if (cpu.ldtSel !== vmcs.u32(GUEST_SELECTOR[SEG_LDTR])) {
    vmcs.set(GUEST_SELECTOR[SEG_LDTR], cpu.ldtSel);
    vmcs.set(GUEST_AR[SEG_LDTR], (cpu.ldtSel & ~3) === 0 ? AR_UNUSABLE : AR_LDT);
  }
  vmcs.set(GUEST_BASE[SEG_LDTR], cpu.ldtBase);
  vmcs.set(GUEST_LIMIT[SEG_LDTR], cpu.ldtLimit);
  if (cpu.trSel !== vmcs.u32(GUEST_SELECTOR[SEG_TR])) {
    vmcs.set(GUEST_SELECTOR[SEG_TR], cpu.trSel);
    vmcs.set(GUEST_AR[SEG_TR], AR_TSS_BUSY);
  }
  vmcs.set(GUEST_BASE[SEG_TR], cpu.trBase);
  vmcs.set(GUEST_LIMIT[SEG_TR], cpu.trLimit);
  vmcs.set(GUEST_GDTR_BASE, cpu.gdtBase);
  vmcs.set(GUEST_GDTR_LIMIT, cpu.gdtLimit);
  vmcs.set(GUEST_IDTR_BASE, cpu.idtBase);
  vmcs.set(GUEST_IDTR_LIMIT, cpu.idtLimit);

  vmcs.set(GUEST_IA32_SYSENTER_CS, readMsr(cpu, IA32_SYSENTER_CS)[0]);
  vmcs.setHalves(GUEST_IA32_SYSENTER_ESP, ...readMsr(cpu, IA32_SYSENTER_ESP));
  vmcs.setHalves(GUEST_IA32_SYSENTER_EIP, ...readMsr(cpu, IA32_SYSENTER_EIP));
  if ((vmx.exitControls & EXIT_SAVE_EFER) !== 0) vmcs.set(GUEST_IA32_EFER, cpu.efer);
  if ((vmx.exitControls & EXIT_SAVE_PAT) !== 0) vmcs.setHalves(GUEST_IA32_PAT, ...readMsr(cpu, IA32_PAT));
  // IA32_VMX_MISC[5]: the exit stores EFER.LMA in the "IA-32e mode guest" entry control.
  const entry = vmcs.u32(ENTRY_CONTROLS);
  vmcs.set(ENTRY_CONTROLS, (cpu.efer & EFER_LMA) !== 0 ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~ENTRY_IA32E_MODE_GUEST);

  // Non-register state (SDM 28.3.4).
  vmcs.set(GUEST_ACTIVITY_STATE, cpu.halted ? ACTIVITY_HLT : ACTIVITY_ACTIVE);
  let blocking = 0;
  if (cpu.interruptShadow) blocking |= (cpu.rfl & IF) !== 0 ? BLOCKING_BY_STI : BLOCKING_BY_MOV_SS;
  if (cpu.nmiBlocked) blocking |= BLOCKING_BY_NMI;
  vmcs.set(GUEST_INTERRUPTIBILITY, blocking);
  if ((vmx.pin & PIN_PREEMPTION_TIMER) !== 0 && (vmx.exitControls & EXIT_SAVE_PREEMPTION_TIMER) !== 0) {
    vmcs.set(PREEMPTION_TIMER_VALUE, preemptionTimerValue(vmx));
  }
}

/** Loads host state (SDM 28.5) and leaves non-root operation. Also used by VM-entry failures. */
export function loadHostState(vmx: Vmx, nmiExit = false): void {
  const cpu = vmx.cpu;
  const vmcs = vmx.vmcs;
  const wasNonRoot = vmx.nonRoot;
  // The TLB context being left remembers the control registers its entries were made
  // with (after a VM-entry failure that is root operation's own context).
  vmx.tlbs.leave();

  cpu.cr0 = vmcs.u32(HOST_CR0) | CR0_ET;
  cpu.cr3 = vmcs.get(HOST_CR3);
  cpu.cr4 = vmcs.u32(HOST_CR4);
  cpu.dr[7] = 0x400;
  writeStoredMsr(cpu, IA32_SYSENTER_CS, vmcs.u32(HOST_IA32_SYSENTER_CS), 0);
  writeStoredMsr(cpu, IA32_SYSENTER_ESP, vmcs.lo32(HOST_IA32_SYSENTER_ESP), vmcs.hi32(HOST_IA32_SYSENTER_ESP));
  writeStoredMsr(cpu, IA32_SYSENTER_EIP, vmcs.lo32(HOST_IA32_SYSENTER_EIP), vmcs.hi32(HOST_IA32_SYSENTER_EIP));
  // EFER: loaded with "load IA32_EFER", else only LMA and LME follow the host address-space size (1).
  if ((vmx.exitControls & EXIT_LOAD_EFER) !== 0) cpu.efer = vmcs.u32(HOST_IA32_EFER);
  else cpu.efer |= EFER_LMA | EFER_LME;
  if ((vmx.exitControls & EXIT_LOAD_PAT) !== 0) writeStoredMsr(cpu, IA32_PAT, vmcs.lo32(HOST_IA32_PAT), vmcs.hi32(HOST_IA32_PAT));

  for (let k = 0; k < 6; k++) cpu.segSel[SEGMENTS[k]] = vmcs.u32(HOST_SELECTOR[k]);
  for (const seg of [ES, CS, SS, DS]) cpu.segBase[seg] = 0;
  cpu.segBase[FS] = vmcs.get(HOST_FS_BASE);
  cpu.segBase[GS] = vmcs.get(HOST_GS_BASE);
  cpu.trSel = vmcs.u32(HOST_TR_SELECTOR);
  cpu.trBase = vmcs.get(HOST_TR_BASE);
  cpu.trLimit = 0x67;
  cpu.gdtBase = vmcs.get(HOST_GDTR_BASE);
  cpu.gdtLimit = 0xffff;
  cpu.idtBase = vmcs.get(HOST_IDTR_BASE);
  cpu.idtLimit = 0xffff;
  cpu.ldtSel = 0;
  cpu.ldtBase = 0;
  cpu.ldtLimit = 0;
  cpu.cpl = 0;
  cpu.setReg64(RSP, vmcs.get(HOST_RSP));
  cpu.rip = vmcs.get(HOST_RIP);
  cpu.nextRip = cpu.rip;
  cpu.rflags = 2;
  cpu.interruptShadow = false;
  cpu.halted = false;
  if (nmiExit) cpu.nmiBlocked = true; // an NMI that caused a VM exit leaves NMIs blocked (SDM 28.5.5)

  // Leave non-root operation: translation and interception hooks off, the root TLB.
  vmx.nonRoot = false;
  vmx.vectoring = 0;
  vmx.tscOffset = 0;
  if (vmx.timerDeadline !== Infinity) {
    vmx.timerDeadline = Infinity;
    cpu.setDeadline("vmx-preemption-timer", Infinity);
  }
  cpu.guestPhys = null;
  cpu.interceptFault = null;
  // Without VPIDs, host and guest share VPID 0 and every VM exit flushes it (SDM 29.4.3.3).
  if (wasNonRoot && (vmx.secondary & CPU2_ENABLE_VPID) === 0) vmx.tlbs.invalidateVpid(0);
  vmx.tlbs.enter(0, -1, true);
}

/** Writes an MSR kept as plain storage (no checks: VM exits load validated host state). */
function writeStoredMsr(cpu: Cpu, index: number, lo: number, hi: number): void {
  cpu.msrs.set(index, [lo | 0, hi | 0]);
}
