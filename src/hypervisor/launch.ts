// Late launch on one vCPU (reference section 3): enter VMX operation from the running
// kernel's state and resume it as a guest, without the kernel noticing. The VMCS guest
// area is a copy of the processor as it is at this instruction boundary (registers stay
// where they are: VM entry loads only RSP, RIP and RFLAGS of them); the host area is the
// same processor state (nothing runs at HOST_RIP: exits go to the TypeScript handler).
//
// What the guest could notice, and why it does not:
//  - VMX needs CR4.VMXE and CR0.PE/NE/PG set (IA32_VMX_CR0/CR4_FIXED0): the hypervisor
//    sets them, owns them through the guest/host masks, and the read shadows show the
//    values the kernel had (VMXE reads 0). Bits that must stay 0 are owned too.
//  - VMX needs IA32_FEATURE_CONTROL locked with VMX on; firmware normally does it, here
//    the hypervisor does if nobody has. The guest sees it locked with VMX off (msr.ts).
//  - Controls: see the list below; every one is checked against the capability MSRs, as
//    software on real hardware must.

import type { Cpu } from "../machine/cpu/cpu.ts";
import { CS, SS, DS, ES, FS, GS, CR4_VMXE, RSP } from "../machine/cpu/cpu.ts";
import { vmxOf, type HostHandler } from "../machine/vmx/vmx.ts";
import { readMsr, writeMsr, IA32_FEATURE_CONTROL, FC_LOCK, FC_VMX_OUTSIDE_SMX, IA32_PAT, IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP } from "../machine/cpu/ops/msr.ts";
import { writeCr0, writeCr4 } from "../machine/cpu/ops/control-regs.ts";
import { IF } from "../machine/cpu/flags.ts";
import { COSTS } from "../machine/cost.ts";
import {
  IA32_VMX_BASIC, IA32_VMX_TRUE_PINBASED_CTLS, IA32_VMX_TRUE_PROCBASED_CTLS, IA32_VMX_PROCBASED_CTLS2,
  IA32_VMX_TRUE_EXIT_CTLS, IA32_VMX_TRUE_ENTRY_CTLS, IA32_VMX_MISC, IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1,
  IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1,
} from "../machine/vmx/capabilities.ts";
import * as F from "../machine/vmx/fields.ts";
import type { PagePool } from "./page-pool.ts";
import type { EptK } from "./ept-k.ts";
import { Vcpu, type OwnedBits } from "./vcpu.ts";
import type { Incident } from "./incident.ts";

/** Pin-based: the VMX-preemption timer (the watchdog). External interrupts and NMIs go to the guest's IDT. */
const PIN = F.PIN_PREEMPTION_TIMER;
/**
 * Primary: CR3 loads exit unless the operand is a CR3 target; MOV DR exits; every IN,
 * OUT, INS, OUTS exits (no I/O bitmaps); no MSR bitmaps, so every RDMSR/WRMSR exits.
 * HLT, INVLPG, RDTSC, PAUSE and CR3 stores run without exits.
 */
const PRIMARY = F.CPU_CR3_LOAD_EXITING | F.CPU_MOV_DR_EXITING | F.CPU_UNCONDITIONAL_IO_EXITING | F.CPU_SECONDARY_CONTROLS;
/**
 * Secondary: EPT (EPT_K), a VPID per vCPU (exits keep the TLB), LGDT/LIDT/LLDT/LTR and
 * the stores exit, RDTSCP works as it did natively. "Enable VM functions" waits for the
 * kernel's EPTP list (INSTALL_EPTP_LIST): until then VMFUNC is #UD, as it was natively.
 */
const SECONDARY = F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VPID | F.CPU2_DESCRIPTOR_TABLE_EXITING | F.CPU2_ENABLE_RDTSCP;
/** Exit: 64-bit host; guest EFER, PAT and DR7 saved, the timer's remaining value saved (so exits do not restart the watchdog period). */
const EXIT = F.EXIT_HOST_ADDRESS_SPACE_SIZE | F.EXIT_SAVE_DEBUG_CONTROLS | F.EXIT_SAVE_PAT | F.EXIT_LOAD_PAT |
  F.EXIT_SAVE_EFER | F.EXIT_LOAD_EFER | F.EXIT_SAVE_PREEMPTION_TIMER;
/** Entry: a 64-bit guest; its EFER, PAT and DR7 loaded from the VMCS. */
const ENTRY = F.ENTRY_IA32E_MODE_GUEST | F.ENTRY_LOAD_DEBUG_CONTROLS | F.ENTRY_LOAD_PAT | F.ENTRY_LOAD_EFER;

// Segment access rights (SDM 25.4.1) of what a 64-bit processor's selectors imply.
const AR_CODE64 = 0xa09b, AR_DATA = 0xc093, AR_UNUSABLE = 0x10000, AR_TSS_BUSY = 0x8b, AR_LDT = 0x82, AR_G = 0x8000;

export interface LaunchSetup {
  pool: PagePool;
  ept: EptK;
  watchdogCycles: number;
  report: (i: Incident) => void;
  /** The VM-exit handler for this vCPU (installed before VMLAUNCH). */
  handler: (v: Vcpu) => HostHandler;
}

/** The hypervisor's RDMSR in root operation (charged like the instruction). */
function rdmsr(cpu: Cpu, index: number): [number, number] {
  cpu.cycles += COSTS.msr;
  return readMsr(cpu, index);
}

/** A control value with the bits we want, checked against its capability MSR (allowed 0- and 1-settings). */
function control(cpu: Cpu, msr: number, want: number, what: string): number {
  const [mustBe1, mayBe1] = rdmsr(cpu, msr);
  const missing = want & ~mayBe1;
  if (missing !== 0) throw new Error(`LVD hypervisor: this processor's VMX lacks ${what} controls 0x${(missing >>> 0).toString(16)}`);
  return (want | mustBe1) >>> 0;
}

function ok(r: number, what: string, cpu: Cpu): void {
  if (r !== F.VM_SUCCEED) throw new Error(`LVD hypervisor: ${what} failed on vCPU ${cpu.id} (${r}${cpu.vmx?.lastEntryFailure ? `: ${cpu.vmx.lastEntryFailure}` : ""})`);
}

/** Puts `cpu` in VMX non-root operation with the state it has now; returns its hypervisor view. */
export function launchVcpu(cpu: Cpu, s: LaunchSetup): Vcpu {
  if (cpu.cpl !== 0) throw new Error(`LVD hypervisor: launch on vCPU ${cpu.id} at CPL ${cpu.cpl} (VMX needs ring 0)`);
  if (cpu.vmx?.on) throw new Error(`LVD hypervisor: vCPU ${cpu.id} is already in VMX operation`);
  if ((cpu.trSel & ~7) === 0) throw new Error(`LVD hypervisor: vCPU ${cpu.id} has no TSS loaded (a VMX guest needs TR)`);
  // A launch from inside an instruction (a native gate) must let it finish where it would have.
  const nextRip = cpu.nextRip;

  // Firmware's part, if firmware did not: lock IA32_FEATURE_CONTROL with VMX on.
  const fc = rdmsr(cpu, IA32_FEATURE_CONTROL)[0];
  if ((fc & FC_LOCK) === 0) {
    cpu.cycles += COSTS.msr;
    writeMsr(cpu, IA32_FEATURE_CONTROL, FC_LOCK | FC_VMX_OUTSIDE_SMX, 0);
  } else if ((fc & FC_VMX_OUTSIDE_SMX) === 0) {
    throw new Error(`LVD hypervisor: VMX is disabled (IA32_FEATURE_CONTROL locked without VMX) on vCPU ${cpu.id}`);
  }

  // The bits VMX fixes, and what the kernel had in them (the read shadows).
  const cr0MustBe1 = rdmsr(cpu, IA32_VMX_CR0_FIXED0)[0], cr0MayBe1 = rdmsr(cpu, IA32_VMX_CR0_FIXED1)[0];
  const cr4MustBe1 = rdmsr(cpu, IA32_VMX_CR4_FIXED0)[0], cr4MayBe1 = rdmsr(cpu, IA32_VMX_CR4_FIXED1)[0];
  const owned: OwnedBits = {
    cr0Mask: (cr0MustBe1 | ~cr0MayBe1) >>> 0,
    cr4Mask: (cr4MustBe1 | ~cr4MayBe1) >>> 0,
    cr0MustBe1: cr0MustBe1 >>> 0,
    cr4MustBe1: cr4MustBe1 >>> 0,
  };
  const cr0Shadow = (cpu.cr0 & owned.cr0Mask) >>> 0;
  const cr4Shadow = (cpu.cr4 & owned.cr4Mask & ~CR4_VMXE) >>> 0; // VMX is the hypervisor's: VMXE reads 0
  if ((cpu.cr0 & cr0MustBe1) !== cr0MustBe1) {
    cpu.cycles += COSTS.cr;
    writeCr0(cpu, cpu.cr0 | cr0MustBe1, 0);
  }
  cpu.cycles += COSTS.cr;
  writeCr4(cpu, cpu.cr4 | cr4MustBe1 | CR4_VMXE, 0);

  const vmx = vmxOf(cpu);
  const revision = rdmsr(cpu, IA32_VMX_BASIC)[0] & 0x7fffffff;
  const vmxon = s.pool.alloc(), vmcs = s.pool.alloc();
  cpu.mem.write32(vmxon, revision);
  cpu.mem.write32(vmcs, revision);
  ok(vmx.vmxon(vmxon), "VMXON", cpu);
  ok(vmx.vmclear(vmcs), "VMCLEAR", cpu);
  ok(vmx.vmptrld(vmcs), "VMPTRLD", cpu);
  const w = (field: number, value: number | bigint) => ok(vmx.vmwrite(field, value), `VMWRITE 0x${field.toString(16)}`, cpu);

  // Controls.
  const misc = rdmsr(cpu, IA32_VMX_MISC)[0];
  const rate = misc & 0x1f; // the timer ticks every 2^rate TSC cycles
  const cr3Targets = Math.min(4, (misc >>> 16) & 0x1ff);
  const watchdogTicks = Math.max(1, Math.min(0xffffffff, Math.round(s.watchdogCycles / 2 ** rate)));
  w(F.PIN_BASED_CONTROLS, control(cpu, IA32_VMX_TRUE_PINBASED_CTLS, PIN, "pin-based"));
  w(F.PRIMARY_CONTROLS, control(cpu, IA32_VMX_TRUE_PROCBASED_CTLS, PRIMARY, "primary processor-based"));
  w(F.SECONDARY_CONTROLS, control(cpu, IA32_VMX_PROCBASED_CTLS2, SECONDARY, "secondary processor-based"));
  w(F.EXIT_CONTROLS, control(cpu, IA32_VMX_TRUE_EXIT_CTLS, EXIT, "VM-exit"));
  w(F.ENTRY_CONTROLS, control(cpu, IA32_VMX_TRUE_ENTRY_CTLS, ENTRY, "VM-entry"));
  w(F.EXCEPTION_BITMAP, 0);
  const vpid = cpu.id + 1;
  w(F.VPID, vpid);
  const eptp = s.ept.eptp(cpu.id);
  w(F.EPT_POINTER, eptp);
  w(F.PREEMPTION_TIMER_VALUE, watchdogTicks);
  w(F.CR0_GUEST_HOST_MASK, owned.cr0Mask);
  w(F.CR0_READ_SHADOW, cr0Shadow);
  w(F.CR4_GUEST_HOST_MASK, owned.cr4Mask);
  w(F.CR4_READ_SHADOW, cr4Shadow);
  const cr3 = cpu.cr3;
  w(F.CR3_TARGET_VALUE0, cr3);
  w(F.CR3_TARGET_COUNT, 1);
  w(F.VMCS_LINK_POINTER, -1);

  // Host state: this processor as it is now.
  const sel = (seg: number) => cpu.segSel[seg] & ~7;
  w(F.HOST_CR0, cpu.cr0 >>> 0);
  w(F.HOST_CR3, cr3);
  w(F.HOST_CR4, cpu.cr4 >>> 0);
  [ES, CS, SS, DS, FS, GS].forEach((seg, k) => w(F.HOST_SELECTOR[k], sel(seg)));
  w(F.HOST_TR_SELECTOR, cpu.trSel & ~7);
  w(F.HOST_FS_BASE, cpu.segBase[FS]);
  w(F.HOST_GS_BASE, cpu.segBase[GS]);
  w(F.HOST_TR_BASE, cpu.trBase);
  w(F.HOST_GDTR_BASE, cpu.gdtBase);
  w(F.HOST_IDTR_BASE, cpu.idtBase);
  const sysenterCs = rdmsr(cpu, IA32_SYSENTER_CS), sysenterEsp = rdmsr(cpu, IA32_SYSENTER_ESP), sysenterEip = rdmsr(cpu, IA32_SYSENTER_EIP);
  const pat = rdmsr(cpu, IA32_PAT);
  const big = ([lo, hi]: [number, number]) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  w(F.HOST_IA32_SYSENTER_CS, sysenterCs[0]);
  w(F.HOST_IA32_SYSENTER_ESP, big(sysenterEsp));
  w(F.HOST_IA32_SYSENTER_EIP, big(sysenterEip));
  w(F.HOST_IA32_EFER, cpu.efer);
  w(F.HOST_IA32_PAT, big(pat));
  w(F.HOST_RSP, cpu.reg64(RSP));
  w(F.HOST_RIP, cpu.rip);

  // Guest state: the same processor, continuing where it is.
  w(F.GUEST_CR0, cpu.cr0 >>> 0);
  w(F.GUEST_CR3, cr3);
  w(F.GUEST_CR4, cpu.cr4 >>> 0);
  w(F.GUEST_DR7, cpu.dr[7]);
  w(F.GUEST_RSP, cpu.reg64(RSP));
  w(F.GUEST_RIP, cpu.rip);
  w(F.GUEST_RFLAGS, cpu.rflags);
  const cpl = cpu.cpl;
  [ES, CS, SS, DS, FS, GS].forEach((seg, k) => {
    const selector = cpu.segSel[seg];
    let ar: number;
    if (seg === CS) ar = AR_CODE64 | (cpl << 5);
    else if ((selector & ~3) === 0) ar = AR_UNUSABLE | (seg === SS ? cpl << 5 : 0);
    else ar = AR_DATA | ((selector & 3) << 5);
    w(F.GUEST_SELECTOR[k], selector);
    w(F.GUEST_AR[k], ar);
    w(F.GUEST_LIMIT[k], 0xffffffff);
    w(F.GUEST_BASE[k], cpu.segBase[seg]);
  });
  const big20 = (limit: number) => (limit > 0xfffff ? AR_G : 0);
  w(F.GUEST_LDTR_SELECTOR, cpu.ldtSel);
  w(F.GUEST_LDTR_AR, (cpu.ldtSel & ~3) === 0 ? AR_UNUSABLE : AR_LDT | big20(cpu.ldtLimit));
  w(F.GUEST_LDTR_BASE, cpu.ldtBase);
  w(F.GUEST_LDTR_LIMIT, cpu.ldtLimit);
  w(F.GUEST_TR_SELECTOR, cpu.trSel);
  w(F.GUEST_TR_AR, AR_TSS_BUSY | big20(cpu.trLimit));
  w(F.GUEST_TR_BASE, cpu.trBase);
  w(F.GUEST_TR_LIMIT, cpu.trLimit);
  w(F.GUEST_GDTR_BASE, cpu.gdtBase);
  w(F.GUEST_GDTR_LIMIT, cpu.gdtLimit);
  w(F.GUEST_IDTR_BASE, cpu.idtBase);
  w(F.GUEST_IDTR_LIMIT, cpu.idtLimit);
  w(F.GUEST_IA32_SYSENTER_CS, sysenterCs[0]);
  w(F.GUEST_IA32_SYSENTER_ESP, big(sysenterEsp));
  w(F.GUEST_IA32_SYSENTER_EIP, big(sysenterEip));
  w(F.GUEST_IA32_EFER, cpu.efer);
  w(F.GUEST_IA32_PAT, big(pat));
  w(F.GUEST_IA32_DEBUGCTL, 0);
  let blocking = cpu.nmiBlocked ? F.BLOCKING_BY_NMI : 0;
  if (cpu.interruptShadow) blocking |= (cpu.rflags & IF) !== 0 ? F.BLOCKING_BY_STI : F.BLOCKING_BY_MOV_SS;
  w(F.GUEST_INTERRUPTIBILITY, blocking);
  w(F.GUEST_ACTIVITY_STATE, cpu.halted ? F.ACTIVITY_HLT : F.ACTIVITY_ACTIVE);
  w(F.GUEST_PENDING_DEBUG, 0);

  const v = new Vcpu(cpu, s.ept, { cs: cpu.segSel[CS] & ~3, ss: cpu.segSel[SS] & ~3 }, owned, {
    vpid, cr3Lo: cr3 | 0, cr3Hi: Math.floor(cr3 / 4294967296), watchdogTicks, cr3Targets,
  }, s.report);
  vmx.setHost(s.handler(v));
  ok(vmx.vmlaunch(), "VMLAUNCH", cpu);
  cpu.nextRip = nextRip;
  return v;
}
