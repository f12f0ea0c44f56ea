// Architectural names and numbers of x86-64 (registers, control-register bits, exception
// vectors) and CpuFault. A leaf module: everything imports it, it imports nothing, so no
// import cycle can leave one of these undefined while modules load.

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20;
export const CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
export const CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_OSFXSR = 1 << 9, CR4_VMXE = 1 << 13;
export const CR4_FSGSBASE = 1 << 16, CR4_PCIDE = 1 << 17, CR4_OSXSAVE = 1 << 18, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
export const EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

/** An exception raised while executing an instruction; the run loop delivers it. */
export class CpuFault {
  constructor(
    readonly vector: number,
    /** -1 when the exception pushes no error code. */
    readonly errorCode = -1,
  ) {}
}

export const DE = 0, DB = 1, NMI = 2, BP = 3, OF_VEC = 4, BR = 5, UD = 6, NM = 7, DF_VEC = 8;
export const TS = 10, NP = 11, SS_VEC = 12, GP = 13, PF_VEC = 14, MF = 16, AC_VEC = 17, MC = 18, XM = 19, VE = 20;

export const EXCEPTION_NAMES = [
  "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
];

/** Port I/O as seen by the CPU (devices, or the hypervisor's exit path). */
export interface PortBus {
  in(port: number, size: number): number;
  out(port: number, size: number, value: number): void;
}

/** Why run() returned. */
export const enum Stop {
  Budget = 0,
  Halted = 1,
  Shutdown = 2,
  /** A hook (VM exit, breakpoint...) asked the loop to stop. */
  Requested = 3,
}

/** A record of the fault that ended the processor (a triple fault). */
export interface ShutdownReason {
  vector: number;
  errorCode: number;
  rip: number;
  cr2: number;
  message: string;
}
