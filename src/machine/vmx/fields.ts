// VMCS field encodings, exit reasons, VM-instruction error numbers and control bits, with
// the SDM's numbers (Vol. 3C, Appendix B "Field Encoding in VMCS", Appendix C "VMX Basic
// Exit Reasons", 31.4 "VM Instruction Error Numbers", 25.6-25.8 controls).
//
// A field encoding is 32 bits (SDM 25.11.2): bit 0 access type (1: the high 32 bits of a
// 64-bit field), bits 9:1 index, bits 11:10 type (0 control, 1 VM-exit information,
// 2 guest state, 3 host state), bits 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural
// width); bits 12, 15 and 31:16 are reserved (an encoding that sets them is unsupported).

// ---------------------------------------------------------------- field encodings

// 16-bit control fields
export const VPID = 0x0000;
export const EPTP_INDEX = 0x0004;
// 16-bit guest-state fields
export const GUEST_ES_SELECTOR = 0x0800, GUEST_CS_SELECTOR = 0x0802, GUEST_SS_SELECTOR = 0x0804;
export const GUEST_DS_SELECTOR = 0x0806, GUEST_FS_SELECTOR = 0x0808, GUEST_GS_SELECTOR = 0x080a;
export const GUEST_LDTR_SELECTOR = 0x080c, GUEST_TR_SELECTOR = 0x080e;
// 16-bit host-state fields
export const HOST_ES_SELECTOR = 0x0c00, HOST_CS_SELECTOR = 0x0c02, HOST_SS_SELECTOR = 0x0c04;
export const HOST_DS_SELECTOR = 0x0c06, HOST_FS_SELECTOR = 0x0c08, HOST_GS_SELECTOR = 0x0c0a;
export const HOST_TR_SELECTOR = 0x0c0c;
// 64-bit control fields
export const IO_BITMAP_A = 0x2000, IO_BITMAP_B = 0x2002, MSR_BITMAPS = 0x2004;
export const EXIT_MSR_STORE_ADDR = 0x2006, EXIT_MSR_LOAD_ADDR = 0x2008, ENTRY_MSR_LOAD_ADDR = 0x200a;
export const EXECUTIVE_VMCS_POINTER = 0x200c;
export const TSC_OFFSET = 0x2010;
export const VM_FUNCTION_CONTROLS = 0x2018;
export const EPT_POINTER = 0x201a;
export const EPTP_LIST_ADDR = 0x2024;
export const VE_INFO_ADDR = 0x202a;
// 64-bit read-only data field
export const GUEST_PHYSICAL_ADDRESS = 0x2400;
// 64-bit guest-state fields
export const VMCS_LINK_POINTER = 0x2800;
export const GUEST_IA32_DEBUGCTL = 0x2802, GUEST_IA32_PAT = 0x2804, GUEST_IA32_EFER = 0x2806;
export const GUEST_IA32_PERF_GLOBAL_CTRL = 0x2808;
export const GUEST_PDPTE0 = 0x280a, GUEST_PDPTE1 = 0x280c, GUEST_PDPTE2 = 0x280e, GUEST_PDPTE3 = 0x2810;
// 64-bit host-state fields
export const HOST_IA32_PAT = 0x2c00, HOST_IA32_EFER = 0x2c02, HOST_IA32_PERF_GLOBAL_CTRL = 0x2c04;
// 32-bit control fields
export const PIN_BASED_CONTROLS = 0x4000;
export const PRIMARY_CONTROLS = 0x4002;
export const EXCEPTION_BITMAP = 0x4004;
export const PF_ERROR_CODE_MASK = 0x4006, PF_ERROR_CODE_MATCH = 0x4008;
export const CR3_TARGET_COUNT = 0x400a;
export const EXIT_CONTROLS = 0x400c;
export const EXIT_MSR_STORE_COUNT = 0x400e, EXIT_MSR_LOAD_COUNT = 0x4010;
export const ENTRY_CONTROLS = 0x4012;
export const ENTRY_MSR_LOAD_COUNT = 0x4014;
export const ENTRY_INTERRUPTION_INFO = 0x4016, ENTRY_EXCEPTION_ERROR_CODE = 0x4018, ENTRY_INSTRUCTION_LENGTH = 0x401a;
export const TPR_THRESHOLD = 0x401c;
export const SECONDARY_CONTROLS = 0x401e;
export const PLE_GAP = 0x4020, PLE_WINDOW = 0x4022;
// 32-bit read-only data fields
export const VM_INSTRUCTION_ERROR = 0x4400;
export const EXIT_REASON = 0x4402;
export const EXIT_INTERRUPTION_INFO = 0x4404, EXIT_INTERRUPTION_ERROR_CODE = 0x4406;
export const IDT_VECTORING_INFO = 0x4408, IDT_VECTORING_ERROR_CODE = 0x440a;
export const EXIT_INSTRUCTION_LENGTH = 0x440c, EXIT_INSTRUCTION_INFO = 0x440e;
// 32-bit guest-state fields
export const GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804, GUEST_DS_LIMIT = 0x4806;
export const GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480a, GUEST_LDTR_LIMIT = 0x480c, GUEST_TR_LIMIT = 0x480e;
export const GUEST_GDTR_LIMIT = 0x4810, GUEST_IDTR_LIMIT = 0x4812;
export const GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818, GUEST_DS_AR = 0x481a;
export const GUEST_FS_AR = 0x481c, GUEST_GS_AR = 0x481e, GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822;
export const GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY_STATE = 0x4826, GUEST_SMBASE = 0x4828;
export const GUEST_IA32_SYSENTER_CS = 0x482a;
export const PREEMPTION_TIMER_VALUE = 0x482e;
// 32-bit host-state field
export const HOST_IA32_SYSENTER_CS = 0x4c00;
// Natural-width control fields
export const CR0_GUEST_HOST_MASK = 0x6000, CR4_GUEST_HOST_MASK = 0x6002;
export const CR0_READ_SHADOW = 0x6004, CR4_READ_SHADOW = 0x6006;
export const CR3_TARGET_VALUE0 = 0x6008, CR3_TARGET_VALUE1 = 0x600a, CR3_TARGET_VALUE2 = 0x600c, CR3_TARGET_VALUE3 = 0x600e;
// Natural-width read-only data fields
export const EXIT_QUALIFICATION = 0x6400;
export const IO_RCX = 0x6402, IO_RSI = 0x6404, IO_RDI = 0x6406, IO_RIP = 0x6408;
export const GUEST_LINEAR_ADDRESS = 0x640a;
// Natural-width guest-state fields
export const GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804;
export const GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680a, GUEST_DS_BASE = 0x680c;
export const GUEST_FS_BASE = 0x680e, GUEST_GS_BASE = 0x6810, GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814;
export const GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818;
export const GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c, GUEST_RIP = 0x681e, GUEST_RFLAGS = 0x6820;
export const GUEST_PENDING_DEBUG = 0x6822, GUEST_IA32_SYSENTER_ESP = 0x6824, GUEST_IA32_SYSENTER_EIP = 0x6826;
// Natural-width host-state fields
export const HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04;
export const HOST_FS_BASE = 0x6c06, HOST_GS_BASE = 0x6c08, HOST_TR_BASE = 0x6c0a;
export const HOST_GDTR_BASE = 0x6c0c, HOST_IDTR_BASE = 0x6c0e;
export const HOST_IA32_SYSENTER_ESP = 0x6c10, HOST_IA32_SYSENTER_EIP = 0x6c12;
export const HOST_RSP = 0x6c14, HOST_RIP = 0x6c16;

/** Guest segment fields by segment register number (ES, CS, SS, DS, FS, GS), then LDTR (6) and TR (7). */
export const GUEST_SELECTOR = [0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080a, 0x080c, 0x080e];
export const GUEST_BASE = [0x6806, 0x6808, 0x680a, 0x680c, 0x680e, 0x6810, 0x6812, 0x6814];
export const GUEST_LIMIT = [0x4800, 0x4802, 0x4804, 0x4806, 0x4808, 0x480a, 0x480c, 0x480e];
export const GUEST_AR = [0x4814, 0x4816, 0x4818, 0x481a, 0x481c, 0x481e, 0x4820, 0x4822];
export const SEG_LDTR = 6, SEG_TR = 7;
/** Host selector fields by segment register number (ES, CS, SS, DS, FS, GS). */
export const HOST_SELECTOR = [0x0c00, 0x0c02, 0x0c04, 0x0c06, 0x0c08, 0x0c0a];
export const CR3_TARGET_VALUES = [CR3_TARGET_VALUE0, CR3_TARGET_VALUE1, CR3_TARGET_VALUE2, CR3_TARGET_VALUE3];

/** Every field this processor supports, with the SDM's name. */
export const FIELD_NAMES: ReadonlyMap<number, string> = new Map([
  [VPID, "virtual-processor identifier"],
  [EPTP_INDEX, "EPTP index"],
  [GUEST_ES_SELECTOR, "guest ES selector"], [GUEST_CS_SELECTOR, "guest CS selector"],
  [GUEST_SS_SELECTOR, "guest SS selector"], [GUEST_DS_SELECTOR, "guest DS selector"],
  [GUEST_FS_SELECTOR, "guest FS selector"], [GUEST_GS_SELECTOR, "guest GS selector"],
  [GUEST_LDTR_SELECTOR, "guest LDTR selector"], [GUEST_TR_SELECTOR, "guest TR selector"],
  [HOST_ES_SELECTOR, "host ES selector"], [HOST_CS_SELECTOR, "host CS selector"],
  [HOST_SS_SELECTOR, "host SS selector"], [HOST_DS_SELECTOR, "host DS selector"],
  [HOST_FS_SELECTOR, "host FS selector"], [HOST_GS_SELECTOR, "host GS selector"],
  [HOST_TR_SELECTOR, "host TR selector"],
  [IO_BITMAP_A, "address of I/O bitmap A"], [IO_BITMAP_B, "address of I/O bitmap B"],
  [MSR_BITMAPS, "address of MSR bitmaps"],
  [EXIT_MSR_STORE_ADDR, "VM-exit MSR-store address"], [EXIT_MSR_LOAD_ADDR, "VM-exit MSR-load address"],
  [ENTRY_MSR_LOAD_ADDR, "VM-entry MSR-load address"],
  [EXECUTIVE_VMCS_POINTER, "executive-VMCS pointer"],
  [TSC_OFFSET, "TSC offset"],
  [VM_FUNCTION_CONTROLS, "VM-function controls"],
  [EPT_POINTER, "EPT pointer"],
  [EPTP_LIST_ADDR, "EPTP-list address"],
  [VE_INFO_ADDR, "virtualization-exception information address"],
  [GUEST_PHYSICAL_ADDRESS, "guest-physical address"],
  [VMCS_LINK_POINTER, "VMCS link pointer"],
  [GUEST_IA32_DEBUGCTL, "guest IA32_DEBUGCTL"], [GUEST_IA32_PAT, "guest IA32_PAT"],
  [GUEST_IA32_EFER, "guest IA32_EFER"], [GUEST_IA32_PERF_GLOBAL_CTRL, "guest IA32_PERF_GLOBAL_CTRL"],
  [GUEST_PDPTE0, "guest PDPTE0"], [GUEST_PDPTE1, "guest PDPTE1"], [GUEST_PDPTE2, "guest PDPTE2"], [GUEST_PDPTE3, "guest PDPTE3"],
  [HOST_IA32_PAT, "host IA32_PAT"], [HOST_IA32_EFER, "host IA32_EFER"],
  [HOST_IA32_PERF_GLOBAL_CTRL, "host IA32_PERF_GLOBAL_CTRL"],
  [PIN_BASED_CONTROLS, "pin-based VM-execution controls"],
  [PRIMARY_CONTROLS, "primary processor-based VM-execution controls"],
  [EXCEPTION_BITMAP, "exception bitmap"],
  [PF_ERROR_CODE_MASK, "page-fault error-code mask"], [PF_ERROR_CODE_MATCH, "page-fault error-code match"],
  [CR3_TARGET_COUNT, "CR3-target count"],
  [EXIT_CONTROLS, "VM-exit controls"],
  [EXIT_MSR_STORE_COUNT, "VM-exit MSR-store count"], [EXIT_MSR_LOAD_COUNT, "VM-exit MSR-load count"],
  [ENTRY_CONTROLS, "VM-entry controls"], [ENTRY_MSR_LOAD_COUNT, "VM-entry MSR-load count"],
  [ENTRY_INTERRUPTION_INFO, "VM-entry interruption-information field"],
  [ENTRY_EXCEPTION_ERROR_CODE, "VM-entry exception error code"],
  [ENTRY_INSTRUCTION_LENGTH, "VM-entry instruction length"],
  [TPR_THRESHOLD, "TPR threshold"],
  [SECONDARY_CONTROLS, "secondary processor-based VM-execution controls"],
  [PLE_GAP, "PLE_Gap"], [PLE_WINDOW, "PLE_Window"],
  [VM_INSTRUCTION_ERROR, "VM-instruction error"],
  [EXIT_REASON, "exit reason"],
  [EXIT_INTERRUPTION_INFO, "VM-exit interruption information"],
  [EXIT_INTERRUPTION_ERROR_CODE, "VM-exit interruption error code"],
  [IDT_VECTORING_INFO, "IDT-vectoring information field"],
  [IDT_VECTORING_ERROR_CODE, "IDT-vectoring error code"],
  [EXIT_INSTRUCTION_LENGTH, "VM-exit instruction length"],
  [EXIT_INSTRUCTION_INFO, "VM-exit instruction information"],
  [GUEST_ES_LIMIT, "guest ES limit"], [GUEST_CS_LIMIT, "guest CS limit"], [GUEST_SS_LIMIT, "guest SS limit"],
  [GUEST_DS_LIMIT, "guest DS limit"], [GUEST_FS_LIMIT, "guest FS limit"], [GUEST_GS_LIMIT, "guest GS limit"],
  [GUEST_LDTR_LIMIT, "guest LDTR limit"], [GUEST_TR_LIMIT, "guest TR limit"],
  [GUEST_GDTR_LIMIT, "guest GDTR limit"], [GUEST_IDTR_LIMIT, "guest IDTR limit"],
  [GUEST_ES_AR, "guest ES access rights"], [GUEST_CS_AR, "guest CS access rights"],
  [GUEST_SS_AR, "guest SS access rights"], [GUEST_DS_AR, "guest DS access rights"],
  [GUEST_FS_AR, "guest FS access rights"], [GUEST_GS_AR, "guest GS access rights"],
  [GUEST_LDTR_AR, "guest LDTR access rights"], [GUEST_TR_AR, "guest TR access rights"],
  [GUEST_INTERRUPTIBILITY, "guest interruptibility state"],
  [GUEST_ACTIVITY_STATE, "guest activity state"],
  [GUEST_SMBASE, "guest SMBASE"],
  [GUEST_IA32_SYSENTER_CS, "guest IA32_SYSENTER_CS"],
  [PREEMPTION_TIMER_VALUE, "VMX-preemption timer value"],
  [HOST_IA32_SYSENTER_CS, "host IA32_SYSENTER_CS"],
  [CR0_GUEST_HOST_MASK, "CR0 guest/host mask"], [CR4_GUEST_HOST_MASK, "CR4 guest/host mask"],
  [CR0_READ_SHADOW, "CR0 read shadow"], [CR4_READ_SHADOW, "CR4 read shadow"],
  [CR3_TARGET_VALUE0, "CR3-target value 0"], [CR3_TARGET_VALUE1, "CR3-target value 1"],
  [CR3_TARGET_VALUE2, "CR3-target value 2"], [CR3_TARGET_VALUE3, "CR3-target value 3"],
  [EXIT_QUALIFICATION, "exit qualification"],
  [IO_RCX, "I/O RCX"], [IO_RSI, "I/O RSI"], [IO_RDI, "I/O RDI"], [IO_RIP, "I/O RIP"],
  [GUEST_LINEAR_ADDRESS, "guest-linear address"],
  [GUEST_CR0, "guest CR0"], [GUEST_CR3, "guest CR3"], [GUEST_CR4, "guest CR4"],
  [GUEST_ES_BASE, "guest ES base"], [GUEST_CS_BASE, "guest CS base"], [GUEST_SS_BASE, "guest SS base"],
  [GUEST_DS_BASE, "guest DS base"], [GUEST_FS_BASE, "guest FS base"], [GUEST_GS_BASE, "guest GS base"],
  [GUEST_LDTR_BASE, "guest LDTR base"], [GUEST_TR_BASE, "guest TR base"],
  [GUEST_GDTR_BASE, "guest GDTR base"], [GUEST_IDTR_BASE, "guest IDTR base"],
  [GUEST_DR7, "guest DR7"], [GUEST_RSP, "guest RSP"], [GUEST_RIP, "guest RIP"], [GUEST_RFLAGS, "guest RFLAGS"],
  [GUEST_PENDING_DEBUG, "guest pending debug exceptions"],
  [GUEST_IA32_SYSENTER_ESP, "guest IA32_SYSENTER_ESP"], [GUEST_IA32_SYSENTER_EIP, "guest IA32_SYSENTER_EIP"],
  [HOST_CR0, "host CR0"], [HOST_CR3, "host CR3"], [HOST_CR4, "host CR4"],
  [HOST_FS_BASE, "host FS base"], [HOST_GS_BASE, "host GS base"], [HOST_TR_BASE, "host TR base"],
  [HOST_GDTR_BASE, "host GDTR base"], [HOST_IDTR_BASE, "host IDTR base"],
  [HOST_IA32_SYSENTER_ESP, "host IA32_SYSENTER_ESP"], [HOST_IA32_SYSENTER_EIP, "host IA32_SYSENTER_EIP"],
  [HOST_RSP, "host RSP"], [HOST_RIP, "host RIP"],
]);

export const WIDTH_16 = 0, WIDTH_64 = 1, WIDTH_32 = 2, WIDTH_NATURAL = 3;
export const TYPE_CONTROL = 0, TYPE_EXIT_INFO = 1, TYPE_GUEST = 2, TYPE_HOST = 3;

/** Width of a field (bits 14:13 of its encoding). */
export function fieldWidth(enc: number): number {
  return (enc >>> 13) & 3;
}
/** Type of a field (bits 11:10): control, VM-exit information (read-only), guest or host state. */
export function fieldType(enc: number): number {
  return (enc >>> 10) & 3;
}

/** Highest index (bits 9:1) of any supported encoding: IA32_VMX_VMCS_ENUM reports it. */
export const MAX_FIELD_INDEX = Math.max(...[...FIELD_NAMES.keys()].map((e) => (e >>> 1) & 0x1ff));

// ---------------------------------------------------------------- exit reasons (SDM Appendix C)

export const EXIT_EXCEPTION_OR_NMI = 0, EXIT_EXTERNAL_INTERRUPT = 1, EXIT_TRIPLE_FAULT = 2;
export const EXIT_INIT = 3, EXIT_SIPI = 4, EXIT_INTERRUPT_WINDOW = 7, EXIT_NMI_WINDOW = 8, EXIT_TASK_SWITCH = 9;
export const EXIT_CPUID = 10, EXIT_GETSEC = 11, EXIT_HLT = 12, EXIT_INVD = 13, EXIT_INVLPG = 14;
export const EXIT_RDPMC = 15, EXIT_RDTSC = 16, EXIT_RSM = 17, EXIT_VMCALL = 18;
export const EXIT_VMCLEAR = 19, EXIT_VMLAUNCH = 20, EXIT_VMPTRLD = 21, EXIT_VMPTRST = 22, EXIT_VMREAD = 23;
export const EXIT_VMRESUME = 24, EXIT_VMWRITE = 25, EXIT_VMXOFF = 26, EXIT_VMXON = 27;
export const EXIT_CR_ACCESS = 28, EXIT_DR_ACCESS = 29, EXIT_IO = 30, EXIT_RDMSR = 31, EXIT_WRMSR = 32;
export const EXIT_INVALID_GUEST_STATE = 33, EXIT_MSR_LOADING = 34, EXIT_MWAIT = 36, EXIT_MTF = 37;
export const EXIT_MONITOR = 39, EXIT_PAUSE = 40, EXIT_MACHINE_CHECK = 41, EXIT_TPR_BELOW_THRESHOLD = 43;
export const EXIT_APIC_ACCESS = 44, EXIT_VIRTUALIZED_EOI = 45, EXIT_GDTR_IDTR = 46, EXIT_LDTR_TR = 47;
export const EXIT_EPT_VIOLATION = 48, EXIT_EPT_MISCONFIG = 49, EXIT_INVEPT = 50, EXIT_RDTSCP = 51;
export const EXIT_PREEMPTION_TIMER = 52, EXIT_INVVPID = 53, EXIT_WBINVD = 54, EXIT_XSETBV = 55;
export const EXIT_APIC_WRITE = 56, EXIT_RDRAND = 57, EXIT_INVPCID = 58, EXIT_VMFUNC = 59;
export const EXIT_RDSEED = 61, EXIT_PML_FULL = 62, EXIT_XSAVES = 63, EXIT_XRSTORS = 64;
/** Bit 31 of the exit-reason field: the VM entry failed. */
export const EXIT_REASON_ENTRY_FAILURE = 0x80000000;

export const EXIT_REASON_NAMES: Readonly<Record<number, string>> = {
  0: "exception or NMI", 1: "external interrupt", 2: "triple fault", 3: "INIT signal", 4: "SIPI",
  7: "interrupt window", 8: "NMI window", 9: "task switch", 10: "CPUID", 11: "GETSEC", 12: "HLT",
  13: "INVD", 14: "INVLPG", 15: "RDPMC", 16: "RDTSC", 17: "RSM", 18: "VMCALL", 19: "VMCLEAR",
  20: "VMLAUNCH", 21: "VMPTRLD", 22: "VMPTRST", 23: "VMREAD", 24: "VMRESUME", 25: "VMWRITE",
  26: "VMXOFF", 27: "VMXON", 28: "control-register access", 29: "MOV DR", 30: "I/O instruction",
  31: "RDMSR", 32: "WRMSR", 33: "VM-entry failure due to invalid guest state",
  34: "VM-entry failure due to MSR loading", 36: "MWAIT", 37: "monitor trap flag", 39: "MONITOR",
  40: "PAUSE", 41: "VM-entry failure due to machine-check event", 43: "TPR below threshold",
  44: "APIC access", 45: "virtualized EOI", 46: "access to GDTR or IDTR", 47: "access to LDTR or TR",
  48: "EPT violation", 49: "EPT misconfiguration", 50: "INVEPT", 51: "RDTSCP",
  52: "VMX-preemption timer expired", 53: "INVVPID", 54: "WBINVD", 55: "XSETBV", 56: "APIC write",
  57: "RDRAND", 58: "INVPCID", 59: "VMFUNC", 61: "RDSEED", 62: "page-modification log full",
  63: "XSAVES", 64: "XRSTORS",
};

// ---------------------------------------------------------------- VM-instruction results (SDM 31.2, 31.4)

/** VMsucceed. */
export const VM_SUCCEED = 0;
/** VMfailInvalid: there is no current VMCS to hold an error number. */
export const VM_FAIL_INVALID = -1;
/** VMLAUNCH/VMRESUME ended in a VM-entry failure (exit reason 33 or 34 with bit 31): host state is loaded. */
export const VM_ENTRY_FAILED = -2;
/** VMsucceed (0), VMfailInvalid (-1), a VM-entry failure (-2), or VMfailValid with the error number (> 0). */
export type VmResult = number;


export const ERR_VMCALL_IN_ROOT = 1;
export const ERR_VMCLEAR_INVALID_ADDRESS = 2;
export const ERR_VMCLEAR_VMXON_POINTER = 3;
export const ERR_VMLAUNCH_NOT_CLEAR = 4;
export const ERR_VMRESUME_NOT_LAUNCHED = 5;
export const ERR_VMRESUME_AFTER_VMXOFF = 6;
export const ERR_ENTRY_INVALID_CONTROLS = 7;
export const ERR_ENTRY_INVALID_HOST_STATE = 8;
export const ERR_VMPTRLD_INVALID_ADDRESS = 9;
export const ERR_VMPTRLD_VMXON_POINTER = 10;
export const ERR_VMPTRLD_BAD_REVISION = 11;
export const ERR_UNSUPPORTED_FIELD = 12;
export const ERR_VMWRITE_READ_ONLY = 13;
export const ERR_VMXON_IN_ROOT = 15;
export const ERR_ENTRY_MOV_SS_BLOCKING = 26;
export const ERR_INVALID_INVEPT_INVVPID_OPERAND = 28;

// ---------------------------------------------------------------- controls (SDM 25.6, 25.7, 25.8)

/** Pin-based VM-execution controls. */
export const PIN_EXTERNAL_INTERRUPT_EXITING = 1 << 0;
export const PIN_NMI_EXITING = 1 << 3;
export const PIN_VIRTUAL_NMIS = 1 << 5;
export const PIN_PREEMPTION_TIMER = 1 << 6;
export const PIN_POSTED_INTERRUPTS = 1 << 7;

/** Primary processor-based VM-execution controls. */
export const CPU_INTERRUPT_WINDOW_EXITING = 1 << 2;
export const CPU_TSC_OFFSETTING = 1 << 3;
export const CPU_HLT_EXITING = 1 << 7;
export const CPU_INVLPG_EXITING = 1 << 9;
export const CPU_MWAIT_EXITING = 1 << 10;
export const CPU_RDPMC_EXITING = 1 << 11;
export const CPU_RDTSC_EXITING = 1 << 12;
export const CPU_CR3_LOAD_EXITING = 1 << 15;
export const CPU_CR3_STORE_EXITING = 1 << 16;
export const CPU_CR8_LOAD_EXITING = 1 << 19;
export const CPU_CR8_STORE_EXITING = 1 << 20;
export const CPU_TPR_SHADOW = 1 << 21;
export const CPU_NMI_WINDOW_EXITING = 1 << 22;
export const CPU_MOV_DR_EXITING = 1 << 23;
export const CPU_UNCONDITIONAL_IO_EXITING = 1 << 24;
export const CPU_USE_IO_BITMAPS = 1 << 25;
export const CPU_MONITOR_TRAP_FLAG = 1 << 27;
export const CPU_USE_MSR_BITMAPS = 1 << 28;
export const CPU_MONITOR_EXITING = 1 << 29;
export const CPU_PAUSE_EXITING = 1 << 30;
export const CPU_SECONDARY_CONTROLS = 1 << 31;

/** Secondary processor-based VM-execution controls. */
export const CPU2_VIRTUALIZE_APIC_ACCESSES = 1 << 0;
export const CPU2_ENABLE_EPT = 1 << 1;
export const CPU2_DESCRIPTOR_TABLE_EXITING = 1 << 2;
export const CPU2_ENABLE_RDTSCP = 1 << 3;
export const CPU2_ENABLE_VPID = 1 << 5;
export const CPU2_WBINVD_EXITING = 1 << 6;
export const CPU2_UNRESTRICTED_GUEST = 1 << 7;
export const CPU2_ENABLE_INVPCID = 1 << 12;
export const CPU2_ENABLE_VM_FUNCTIONS = 1 << 13;
export const CPU2_VMCS_SHADOWING = 1 << 14;
export const CPU2_EPT_VIOLATION_VE = 1 << 18;
export const CPU2_MODE_BASED_EPT_EXECUTE = 1 << 22;

/** VM-exit controls. */
export const EXIT_SAVE_DEBUG_CONTROLS = 1 << 2;
export const EXIT_HOST_ADDRESS_SPACE_SIZE = 1 << 9;
export const EXIT_LOAD_PERF_GLOBAL_CTRL = 1 << 12;
export const EXIT_ACK_INTERRUPT_ON_EXIT = 1 << 15;
export const EXIT_SAVE_PAT = 1 << 18;
export const EXIT_LOAD_PAT = 1 << 19;
export const EXIT_SAVE_EFER = 1 << 20;
export const EXIT_LOAD_EFER = 1 << 21;
export const EXIT_SAVE_PREEMPTION_TIMER = 1 << 22;

/** VM-entry controls. */
export const ENTRY_LOAD_DEBUG_CONTROLS = 1 << 2;
export const ENTRY_IA32E_MODE_GUEST = 1 << 9;
export const ENTRY_TO_SMM = 1 << 10;
export const ENTRY_LOAD_PERF_GLOBAL_CTRL = 1 << 13;
export const ENTRY_LOAD_PAT = 1 << 14;
export const ENTRY_LOAD_EFER = 1 << 15;

/** VM-function controls: bit 0 is EPTP switching (VMFUNC leaf 0). */
export const VMFUNC_EPTP_SWITCHING = 1;

// ---------------------------------------------------------------- event information (SDM 25.8.3, 27.2.2)

/** Interruption-information fields (VM-entry injection, VM-exit, IDT-vectoring): bits 7:0 vector, 10:8 type. */
export const INTR_TYPE_EXTERNAL = 0, INTR_TYPE_NMI = 2, INTR_TYPE_HARDWARE_EXCEPTION = 3;
export const INTR_TYPE_SOFTWARE_INTERRUPT = 4, INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION = 5;
export const INTR_TYPE_SOFTWARE_EXCEPTION = 6, INTR_TYPE_OTHER = 7;
export const INTR_ERROR_CODE_VALID = 1 << 11;
export const INTR_NMI_UNBLOCKING = 1 << 12;
export const INTR_VALID = 0x80000000;

/** Guest interruptibility state bits. */
export const BLOCKING_BY_STI = 1, BLOCKING_BY_MOV_SS = 2, BLOCKING_BY_SMI = 4, BLOCKING_BY_NMI = 8;
/** Guest activity states. */
export const ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_FOR_SIPI = 3;

/** EPT-violation exit qualification bits (SDM 28.2.1, Table 28-7; 29.3.3.2). */
export const EPT_QUAL_READ = 1 << 0, EPT_QUAL_WRITE = 1 << 1, EPT_QUAL_FETCH = 1 << 2;
export const EPT_QUAL_READABLE = 1 << 3, EPT_QUAL_WRITABLE = 1 << 4, EPT_QUAL_EXECUTABLE = 1 << 5;
export const EPT_QUAL_LINEAR_VALID = 1 << 7, EPT_QUAL_FINAL = 1 << 8, EPT_QUAL_NMI_UNBLOCKING = 1 << 12;
