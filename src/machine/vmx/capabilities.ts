// The VMX capability MSRs (SDM Appendix A): what this processor's VMX supports. They are
// read-only; ops/msr.ts serves them from VMX_CAPABILITY_MSRS. VM entry checks controls
// against the same values, so software that follows these MSRs never meets a control
// the machine would silently ignore: a control is advertised as allowed-1 only when it
// is implemented.
//
// A leaf module (constants only), so msr.ts can import it without an import cycle.

import {
  CR0_PE, CR0_NE, CR0_PG, CR4_PAE, CR4_PGE, CR4_OSFXSR, CR4_VMXE, CR4_FSGSBASE, CR4_PCIDE, CR4_OSXSAVE, CR4_SMEP, CR4_SMAP,
} from "../cpu/arch.ts";
import { MAXPHYADDR } from "../cpu/paging.ts";
import {
  PIN_EXTERNAL_INTERRUPT_EXITING, PIN_NMI_EXITING, PIN_PREEMPTION_TIMER,
  CPU_TSC_OFFSETTING, CPU_HLT_EXITING, CPU_INVLPG_EXITING, CPU_RDTSC_EXITING, CPU_CR3_LOAD_EXITING,
  CPU_CR3_STORE_EXITING, CPU_CR8_LOAD_EXITING, CPU_CR8_STORE_EXITING, CPU_MOV_DR_EXITING,
  CPU_UNCONDITIONAL_IO_EXITING, CPU_USE_IO_BITMAPS, CPU_USE_MSR_BITMAPS, CPU_PAUSE_EXITING,
  CPU_SECONDARY_CONTROLS, CPU2_ENABLE_EPT, CPU2_DESCRIPTOR_TABLE_EXITING, CPU2_ENABLE_RDTSCP,
  CPU2_ENABLE_VPID, CPU2_ENABLE_VM_FUNCTIONS, CPU2_EPT_VIOLATION_VE,
  EXIT_SAVE_DEBUG_CONTROLS, EXIT_HOST_ADDRESS_SPACE_SIZE, EXIT_ACK_INTERRUPT_ON_EXIT, EXIT_SAVE_PAT,
  EXIT_LOAD_PAT, EXIT_SAVE_EFER, EXIT_LOAD_EFER, EXIT_SAVE_PREEMPTION_TIMER,
  ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_IA32E_MODE_GUEST, ENTRY_LOAD_PAT, ENTRY_LOAD_EFER,
  VMFUNC_EPTP_SWITCHING, MAX_FIELD_INDEX,
} from "./fields.ts";

export const IA32_VMX_BASIC = 0x480;
export const IA32_VMX_PINBASED_CTLS = 0x481, IA32_VMX_PROCBASED_CTLS = 0x482;
export const IA32_VMX_EXIT_CTLS = 0x483, IA32_VMX_ENTRY_CTLS = 0x484;
export const IA32_VMX_MISC = 0x485;
export const IA32_VMX_CR0_FIXED0 = 0x486, IA32_VMX_CR0_FIXED1 = 0x487;
export const IA32_VMX_CR4_FIXED0 = 0x488, IA32_VMX_CR4_FIXED1 = 0x489;
export const IA32_VMX_VMCS_ENUM = 0x48a;
export const IA32_VMX_PROCBASED_CTLS2 = 0x48b;
export const IA32_VMX_EPT_VPID_CAP = 0x48c;
export const IA32_VMX_TRUE_PINBASED_CTLS = 0x48d, IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e;
export const IA32_VMX_TRUE_EXIT_CTLS = 0x48f, IA32_VMX_TRUE_ENTRY_CTLS = 0x490;
export const IA32_VMX_VMFUNC = 0x491;

/** VMCS revision identifier (bits 30:0 of IA32_VMX_BASIC and of every VMCS region). */
export const VMCS_REVISION = 0x4c5644; // "DVL"
/** Bytes software allocates for a VMXON or VMCS region. */
export const VMCS_SIZE = 4096;
/** Memory type of VMCS accesses: write-back. */
const MEMORY_TYPE_WB = 6;

/**
 * IA32_VMX_BASIC: revision id; bits 44:32 region size; 53:50 memory type; bit 54: VM exits
 * due to INS/OUTS report instruction information; bit 55: the TRUE_*_CTLS MSRs exist
 * (and are what VM entry checks).
 */
const BASIC: [number, number] = [VMCS_REVISION, VMCS_SIZE | (MEMORY_TYPE_WB << 18) | (1 << 22) | (1 << 23)];

/** A control MSR: bits 31:0 are the allowed 0-settings (1: must be 1), 63:32 the allowed 1-settings (0: must be 0). */
export interface ControlCapability {
  mustBe1: number;
  mayBe1: number;
}

// Default-1 controls (SDM A.2): reserved bits that the non-TRUE MSRs report as fixed 1.
const PIN_DEFAULT1 = 0x16;
const PROC_DEFAULT1 = 0x0401e172;
const EXIT_DEFAULT1 = 0x00036dff;
const ENTRY_DEFAULT1 = 0x000011ff;

/**
 * Only 64-bit hosts and guests are modeled, so "host address-space size" (exit) and
 * "IA-32e mode guest" (entry) must be 1: the capability MSRs say so, and VM entry fails
 * (VMfailValid 7) if software clears them.
 */
export const PIN_CONTROLS: ControlCapability = {
  mustBe1: PIN_DEFAULT1,
  mayBe1: PIN_DEFAULT1 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
};
export const TRUE_PIN_CONTROLS = PIN_CONTROLS;
export const PRIMARY_CONTROLS_CAP: ControlCapability = {
  mustBe1: PROC_DEFAULT1,
  mayBe1: (PROC_DEFAULT1 | CPU_TSC_OFFSETTING | CPU_HLT_EXITING | CPU_INVLPG_EXITING | CPU_RDTSC_EXITING |
    CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING |
    CPU_MOV_DR_EXITING | CPU_UNCONDITIONAL_IO_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS |
    CPU_PAUSE_EXITING | CPU_SECONDARY_CONTROLS) | 0,
};
/** The TRUE MSR lets CR3-load and CR3-store exiting be 0. */
export const TRUE_PRIMARY_CONTROLS: ControlCapability = {
  mustBe1: PROC_DEFAULT1 & ~(CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING),
  mayBe1: PRIMARY_CONTROLS_CAP.mayBe1,
};
export const SECONDARY_CONTROLS_CAP: ControlCapability = {
  mustBe1: 0,
  mayBe1: CPU2_ENABLE_EPT | CPU2_DESCRIPTOR_TABLE_EXITING | CPU2_ENABLE_RDTSCP | CPU2_ENABLE_VPID |
    CPU2_ENABLE_VM_FUNCTIONS | CPU2_EPT_VIOLATION_VE,
};
export const EXIT_CONTROLS_CAP: ControlCapability = {
  mustBe1: EXIT_DEFAULT1 | EXIT_HOST_ADDRESS_SPACE_SIZE,
  mayBe1: EXIT_DEFAULT1 | EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT | EXIT_SAVE_PAT |
    EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PREEMPTION_TIMER,
};
/** The TRUE MSR lets "save debug controls" be 0. */
export const TRUE_EXIT_CONTROLS: ControlCapability = {
  mustBe1: EXIT_CONTROLS_CAP.mustBe1 & ~EXIT_SAVE_DEBUG_CONTROLS,
  mayBe1: EXIT_CONTROLS_CAP.mayBe1,
};
export const ENTRY_CONTROLS_CAP: ControlCapability = {
  mustBe1: ENTRY_DEFAULT1 | ENTRY_IA32E_MODE_GUEST,
  mayBe1: ENTRY_DEFAULT1 | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER,
};
/** The TRUE MSR lets "load debug controls" be 0. */
export const TRUE_ENTRY_CONTROLS: ControlCapability = {
  mustBe1: ENTRY_CONTROLS_CAP.mustBe1 & ~ENTRY_LOAD_DEBUG_CONTROLS,
  mayBe1: ENTRY_CONTROLS_CAP.mayBe1,
};

/** Whether a control value respects a capability. */
export function controlsAllowed(value: number, cap: ControlCapability): boolean {
  return (value & cap.mustBe1) === cap.mustBe1 && (value & ~cap.mayBe1) === 0;
}

/** log2 of the TSC-to-preemption-timer ratio: the timer counts down every 32 cycles. */
export const PREEMPTION_TIMER_RATE = 5;
/** CR3-target values the processor supports. */
export const CR3_TARGET_COUNT_MAX = 4;
/**
 * IA32_VMX_MISC: bits 4:0 timer rate; bit 5: VM exits store EFER.LMA in the "IA-32e mode
 * guest" entry control; bit 6: the HLT activity state; bits 24:16 CR3-target count;
 * bits 27:25 = 0: 512 MSRs recommended per MSR list. No VMWRITE to exit-information
 * fields (bit 29), no zero-length instruction injection (bit 30).
 */
const MISC: [number, number] = [PREEMPTION_TIMER_RATE | (1 << 5) | (1 << 6) | (CR3_TARGET_COUNT_MAX << 16), 0];

/** CR0 bits that must be 1 in VMX operation (no unrestricted guest): PE, NE, PG. */
export const CR0_FIXED0 = (CR0_PE | CR0_NE | CR0_PG) | 0;
/** CR0 bits that may be 1 in VMX operation: all of 31:0. */
export const CR0_FIXED1 = 0xffffffff | 0;
export const CR4_FIXED0 = CR4_VMXE;
/**
 * CR4 bits that may be 1: those this processor supports (ops/control-regs.ts's
 * CR4_SUPPORTED, spelled out here to keep this module a leaf: TSD, DE, PSE, OSXMMEXCPT
 * are bits 2, 3, 4, 10; a test checks the two agree).
 */
export const CR4_FIXED1 = (1 << 2) | (1 << 3) | (1 << 4) | CR4_PAE | CR4_PGE | CR4_OSFXSR | (1 << 10) | CR4_VMXE |
  CR4_FSGSBASE | CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP;

/**
 * IA32_VMX_EPT_VPID_CAP: no execute-only translations (bit 0); page-walk length 4 (6);
 * UC (8) and WB (14) EPT structures; 2 MB (16) and 1 GB (17) pages; INVEPT (20); EPT
 * accessed/dirty flags (21); INVEPT single-context (25) and all-context (26); INVVPID
 * (32) with individual-address (40), single-context (41), all-context (42) and
 * single-context-retaining-globals (43) types.
 */
export const EPT_CAP_AD = 1 << 21;
const EPT_VPID_CAP: [number, number] = [
  (1 << 6) | (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 20) | EPT_CAP_AD | (1 << 25) | (1 << 26),
  1 | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11),
];
export const INVEPT_SINGLE_CONTEXT = 1, INVEPT_ALL_CONTEXT = 2;
export const INVVPID_INDIVIDUAL_ADDRESS = 0, INVVPID_SINGLE_CONTEXT = 1, INVVPID_ALL_CONTEXT = 2;
export const INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 3;

/** VM functions: EPTP switching only. */
export const VMFUNC_SUPPORTED = VMFUNC_EPTP_SWITCHING;

/** Physical-address width VMX checks addresses against (IA32_VMX_BASIC[48] = 0: no 32-bit limit). */
export const PHYS_ADDR_BITS = MAXPHYADDR;

const pair = (c: ControlCapability): [number, number] => [c.mustBe1, c.mayBe1];

/** The capability MSRs by index, as [low, high] halves. */
export const VMX_CAPABILITY_MSRS: ReadonlyMap<number, [number, number]> = new Map([
  [IA32_VMX_BASIC, BASIC],
  [IA32_VMX_PINBASED_CTLS, pair(PIN_CONTROLS)],
  [IA32_VMX_PROCBASED_CTLS, pair(PRIMARY_CONTROLS_CAP)],
  [IA32_VMX_EXIT_CTLS, pair(EXIT_CONTROLS_CAP)],
  [IA32_VMX_ENTRY_CTLS, pair(ENTRY_CONTROLS_CAP)],
  [IA32_VMX_MISC, MISC],
  [IA32_VMX_CR0_FIXED0, [CR0_FIXED0, 0]],
  [IA32_VMX_CR0_FIXED1, [CR0_FIXED1, 0]],
  [IA32_VMX_CR4_FIXED0, [CR4_FIXED0, 0]],
  [IA32_VMX_CR4_FIXED1, [CR4_FIXED1, 0]],
  [IA32_VMX_VMCS_ENUM, [MAX_FIELD_INDEX << 1, 0]],
  [IA32_VMX_PROCBASED_CTLS2, pair(SECONDARY_CONTROLS_CAP)],
  [IA32_VMX_EPT_VPID_CAP, EPT_VPID_CAP],
  [IA32_VMX_TRUE_PINBASED_CTLS, pair(TRUE_PIN_CONTROLS)],
  [IA32_VMX_TRUE_PROCBASED_CTLS, pair(TRUE_PRIMARY_CONTROLS)],
  [IA32_VMX_TRUE_EXIT_CTLS, pair(TRUE_EXIT_CONTROLS)],
  [IA32_VMX_TRUE_ENTRY_CTLS, pair(TRUE_ENTRY_CONTROLS)],
  [IA32_VMX_VMFUNC, [VMFUNC_SUPPORTED, 0]],
]);

/** CR0 and CR4 values allowed in VMX operation (SDM 24.8, A.7, A.8). */
export function cr0Allowed(cr0: number): boolean {
  return (cr0 & CR0_FIXED0) === CR0_FIXED0 && (cr0 & ~CR0_FIXED1) === 0;
}
export function cr4Allowed(cr4: number): boolean {
  return (cr4 & CR4_FIXED0) === CR4_FIXED0 && (cr4 & ~CR4_FIXED1) === 0;
}
