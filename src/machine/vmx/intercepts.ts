// Which guest instructions cause VM exits (SDM Vol. 3C, 26.1) and how others behave
// differently in VMX non-root operation (26.3): CR0/CR4 guest/host masks and read
// shadows, the CR3-target list, MSR and I/O bitmaps, descriptor-table exiting...
//
// The instruction handlers in cpu/ops call these at the point the SDM gives the exit its
// priority: after #UD and privilege (CPL/IOPL) checks, before anything that depends on
// operand values or touches memory. Each call is guarded by `c.vmx?.nonRoot` at the call
// site, so root operation and bare processors pay one property test. A function that
// exits throws the Interception that performs the exit.

import type { Cpu } from "../cpu/cpu.ts";
import { CpuFault, UD, SS, RSP, RBP, RCX, RDI, RSI, CR0_TS } from "../cpu/arch.ts";
import { NO_REG, REG_RIP, type Insn } from "../cpu/decoder.ts";
import type { Vmx } from "./vmx.ts";
import type { ExitEvent } from "./exit.ts";
import {
  EXIT_HLT, EXIT_INVLPG, EXIT_RDTSC, EXIT_RDTSCP, EXIT_PAUSE, EXIT_RDMSR, EXIT_WRMSR, EXIT_IO, EXIT_CR_ACCESS,
  EXIT_DR_ACCESS, EXIT_GDTR_IDTR, EXIT_LDTR_TR, EXIT_EXCEPTION_OR_NMI, CPU_HLT_EXITING, CPU_INVLPG_EXITING,
  CPU_RDTSC_EXITING, CPU_PAUSE_EXITING, CPU_USE_MSR_BITMAPS, CPU_USE_IO_BITMAPS, CPU_UNCONDITIONAL_IO_EXITING,
  CPU_CR3_LOAD_EXITING, CPU_CR3_STORE_EXITING, CPU_CR8_LOAD_EXITING, CPU_CR8_STORE_EXITING, CPU_MOV_DR_EXITING,
  CPU2_DESCRIPTOR_TABLE_EXITING, CPU2_ENABLE_RDTSCP, MSR_BITMAPS, IO_BITMAP_A, IO_BITMAP_B, CR0_GUEST_HOST_MASK,
  CR4_GUEST_HOST_MASK, CR0_READ_SHADOW, CR4_READ_SHADOW, CR3_TARGET_COUNT, CR3_TARGET_VALUES, INTR_VALID,
  INTR_TYPE_SOFTWARE_EXCEPTION, INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION,
} from "./fields.ts";

function exit(c: Cpu, i: Insn, e: ExitEvent): never {
  e.instructionLength ??= i.len;
  throw c.vmx!.intercept(e);
}

/** An instruction that exits unconditionally in non-root operation (CPUID 10, INVD 13, XSETBV 55...). */
export function exitAlways(c: Cpu, i: Insn, reason: number): never {
  exit(c, i, { reason });
}

/** HLT exiting (primary bit 7). */
export function interceptHlt(c: Cpu, i: Insn): void {
  if ((c.vmx!.primary & CPU_HLT_EXITING) !== 0) exit(c, i, { reason: EXIT_HLT });
}

/** INVLPG exiting (primary bit 9): the qualification is the linear-address operand. */
export function interceptInvlpg(c: Cpu, i: Insn, la: number): void {
  if ((c.vmx!.primary & CPU_INVLPG_EXITING) !== 0) exit(c, i, { reason: EXIT_INVLPG, qualification: la });
}

/** In non-root operation RDTSCP is #UD unless "enable RDTSCP" (secondary bit 3). */
export function requireRdtscp(c: Cpu): void {
  if ((c.vmx!.secondary & CPU2_ENABLE_RDTSCP) === 0) throw new CpuFault(UD);
}

/** RDTSC exiting (primary bit 12), for RDTSC (exit 16) and RDTSCP (exit 51). */
export function interceptRdtsc(c: Cpu, i: Insn, rdtscp: boolean): void {
  if ((c.vmx!.primary & CPU_RDTSC_EXITING) !== 0) exit(c, i, { reason: rdtscp ? EXIT_RDTSCP : EXIT_RDTSC });
}

/** PAUSE exiting (primary bit 30). */
export function interceptPause(c: Cpu, i: Insn): void {
  if ((c.vmx!.primary & CPU_PAUSE_EXITING) !== 0) exit(c, i, { reason: EXIT_PAUSE });
}

/**
 * RDMSR/WRMSR (SDM 26.1.3): every one exits without "use MSR bitmaps"; with them, ECX
 * in 0-1FFFH or C0000000H-C0001FFFH looks up its bit (read bitmaps at offsets 0 and
 * 1024, write bitmaps at 2048 and 3072), any other ECX exits.
 */
export function interceptMsr(c: Cpu, i: Insn, write: boolean): void {
  const vmx = c.vmx!;
  const reason = write ? EXIT_WRMSR : EXIT_RDMSR;
  if ((vmx.primary & CPU_USE_MSR_BITMAPS) === 0) exit(c, i, { reason });
  const msr = c.lo[RCX] >>> 0;
  let offset: number, bit: number;
  if (msr <= 0x1fff) {
    offset = 0;
    bit = msr;
  } else if (msr >= 0xc0000000 && msr <= 0xc0001fff) {
    offset = 1024;
    bit = msr - 0xc0000000;
  } else exit(c, i, { reason });
  if (write) offset += 2048;
  const byte = c.mem.read8(vmx.vmcs.get(MSR_BITMAPS) + offset + (bit >>> 3));
  if ((byte >> (bit & 7)) & 1) exit(c, i, { reason });
}

/**
 * I/O instructions (SDM 26.1.3): with "use I/O bitmaps" a bit per port (A: 0-7FFFH, B:
 * 8000H-FFFFH), an access that wraps past FFFFH exits; otherwise "unconditional I/O
 * exiting" decides. The qualification (SDM Table 28-5): size - 1, direction (1 = IN),
 * string, REP, operand encoding (1 = immediate), port. String instructions also record
 * the linear address of their memory operand and instruction information (IA32_VMX_BASIC[54]).
 */
export function interceptIo(c: Cpu, i: Insn, port: number, size: number, input: boolean, string: boolean, immediate = false): void {
  const vmx = c.vmx!;
  let exits: boolean;
  if ((vmx.primary & CPU_USE_IO_BITMAPS) !== 0) {
    exits = port + size - 1 > 0xffff;
    for (let p = port; !exits && p < port + size; p++) {
      const bitmap = vmx.vmcs.get(p < 0x8000 ? IO_BITMAP_A : IO_BITMAP_B);
      exits = ((c.mem.read8(bitmap + ((p & 0x7fff) >>> 3)) >> (p & 7)) & 1) === 1;
    }
  } else exits = (vmx.primary & CPU_UNCONDITIONAL_IO_EXITING) !== 0;
  if (!exits) return;
  const qualification = (size - 1) | (input ? 8 : 0) | (string ? 16 : 0) | (string && i.rep !== 0 ? 32 : 0) |
    (immediate ? 64 : 0) | (port << 16);
  const e: ExitEvent = { reason: EXIT_IO, qualification };
  if (string) {
    const a32 = i.addrsize === 4;
    const r = input ? RDI : RSI;
    let la = a32 ? c.lo[r] >>> 0 : c.reg64(r);
    if (!input && i.seg >= 0) la += c.segBase[i.seg];
    e.guestLinear = la;
    e.instructionInfo = ((a32 ? 1 : 2) << 7) | ((input ? 0 : i.seg >= 0 ? i.seg : 3) << 15);
  }
  exit(c, i, e);
}

// ---------------------------------------------------------------- control registers (SDM 26.1.3, 26.3)

/** CR-access qualification (SDM Table 28-3): CR number, access type, register. */
function crQual(cr: number, type: number, reg: number): number {
  return cr | (type << 4) | (reg << 8);
}
const MOV_TO_CR = 0, MOV_FROM_CR = 1, CLTS = 2, LMSW = 3;

function maskAndShadow(vmx: Vmx, cr: number): [number, number] {
  const v = vmx.vmcs;
  return cr === 0 ? [v.u32(CR0_GUEST_HOST_MASK), v.u32(CR0_READ_SHADOW)] : [v.u32(CR4_GUEST_HOST_MASK), v.u32(CR4_READ_SHADOW)];
}

/**
 * MOV to CR0/CR3/CR4/CR8. Returns the low half of the value to load: for CR0 and CR4,
 * host-owned bits (set in the guest/host mask) keep their current value. Exits when a
 * host-owned bit would differ from the read shadow, on a CR3 value not in the CR3-target
 * list (with CR3-load exiting), and on CR8 loads with CR8-load exiting.
 */
export function crWrite(c: Cpu, i: Insn, cr: number, reg: number, lo: number, hi: number): number {
  const vmx = c.vmx!;
  const e = { reason: EXIT_CR_ACCESS, qualification: crQual(cr, MOV_TO_CR, reg) };
  if (cr === 0 || cr === 4) {
    const [mask, shadow] = maskAndShadow(vmx, cr);
    if (((lo ^ shadow) & mask) !== 0) exit(c, i, e);
    const current = cr === 0 ? c.cr0 : c.cr4;
    return (lo & ~mask) | (current & mask);
  }
  if (cr === 3 && (vmx.primary & CPU_CR3_LOAD_EXITING) !== 0) {
    const v = vmx.vmcs;
    const n = v.u32(CR3_TARGET_COUNT);
    let hit = false;
    for (let k = 0; k < n && !hit; k++) hit = v.lo32(CR3_TARGET_VALUES[k]) === lo && v.hi32(CR3_TARGET_VALUES[k]) === hi;
    if (!hit) exit(c, i, e);
  }
  if (cr === 8 && (vmx.primary & CPU_CR8_LOAD_EXITING) !== 0) exit(c, i, e);
  return lo;
}

/** MOV from CR: CR3/CR8-store exiting; CR0/CR4 read host-owned bits from the read shadow. */
export function crRead(c: Cpu, i: Insn, cr: number, reg: number, value: number): number {
  const vmx = c.vmx!;
  const e = { reason: EXIT_CR_ACCESS, qualification: crQual(cr, MOV_FROM_CR, reg) };
  if (cr === 3 && (vmx.primary & CPU_CR3_STORE_EXITING) !== 0) exit(c, i, e);
  if (cr === 8 && (vmx.primary & CPU_CR8_STORE_EXITING) !== 0) exit(c, i, e);
  if (cr === 0 || cr === 4) {
    const [mask, shadow] = maskAndShadow(vmx, cr);
    return ((value & ~mask) | (shadow & mask)) >>> 0;
  }
  return value;
}

/** The guest's view of CR0 (SMSW): host-owned bits from the read shadow. */
export function cr0View(c: Cpu): number {
  const [mask, shadow] = maskAndShadow(c.vmx!, 0);
  return (c.cr0 & ~mask) | (shadow & mask);
}

/** CLTS: exits when TS is host-owned and set in the shadow; returns whether CR0.TS may be cleared. */
export function interceptClts(c: Cpu, i: Insn): boolean {
  const [mask, shadow] = maskAndShadow(c.vmx!, 0);
  if ((mask & shadow & CR0_TS) !== 0) exit(c, i, { reason: EXIT_CR_ACCESS, qualification: crQual(0, CLTS, 0) });
  return (mask & CR0_TS) === 0;
}

/**
 * LMSW with source `src` (bits 3:0 used): exits when it would set a host-owned PE the
 * shadow has clear, or change a host-owned bit of 3:1 relative to the shadow. Returns
 * the mask of bits 3:0 it may change. The qualification carries the source data and,
 * for a memory operand, the guest-linear address is recorded.
 */
export function interceptLmsw(c: Cpu, i: Insn, src: number, la: number | null): number {
  const [mask, shadow] = maskAndShadow(c.vmx!, 0);
  const peExit = (mask & src & ~shadow & 1) !== 0;
  const otherExit = ((src ^ shadow) & mask & 0xe) !== 0;
  if (peExit || otherExit) {
    const qualification = crQual(0, LMSW, 0) | (la !== null ? 64 : 0) | ((src & 0xffff) << 16);
    exit(c, i, la !== null ? { reason: EXIT_CR_ACCESS, qualification, guestLinear: la } : { reason: EXIT_CR_ACCESS, qualification });
  }
  return ~mask & 0xf;
}

/** MOV DR exiting (primary bit 23): qualification DR number, direction (1 = from DR), register. */
export function interceptMovDr(c: Cpu, i: Insn, dr: number, fromDr: boolean, reg: number): void {
  if ((c.vmx!.primary & CPU_MOV_DR_EXITING) === 0) return;
  exit(c, i, { reason: EXIT_DR_ACCESS, qualification: dr | (fromDr ? 16 : 0) | (reg << 8) });
}

// ---------------------------------------------------------------- descriptor tables (SDM 26.1.3, Tables 28-10, 28-11)

/** Instruction-information bits for a memory operand: scaling, address size, segment, index, base. */
export function memoryOperandInfo(i: Insn): number {
  const scaling = Math.log2(i.scale) & 3;
  const addrSize = i.addrsize === 4 ? 1 : 2;
  const seg = i.seg >= 0 ? i.seg : i.base === RSP || i.base === RBP ? SS : 3;
  const index = i.index === NO_REG ? 1 << 22 : i.index << 18;
  const base = i.base === NO_REG || i.base === REG_RIP ? 1 << 27 : i.base << 23;
  return scaling | (addrSize << 7) | (seg << 15) | index | base;
}

/**
 * The exit qualification of an instruction with a memory operand (SDM 28.2.1): its
 * displacement, sign-extended; with RIP-relative addressing (base invalid in the
 * instruction information) the displacement plus the RIP of the next instruction, so a
 * hypervisor can still find the operand. 0 for a register operand.
 */
export function displacementQualification(c: Cpu, i: Insn): number {
  if (i.rm !== NO_REG) return 0;
  return i.base === REG_RIP ? c.nextRip + i.disp : i.disp;
}

/**
 * Descriptor-table exiting (secondary bit 2): SGDT/SIDT/LGDT/LIDT exit with reason 46,
 * SLDT/STR/LLDT/LTR with 47. `identity` is the instruction's number in the information
 * field (0 SGDT/SLDT, 1 SIDT/STR, 2 LGDT/LLDT, 3 LIDT/LTR); the qualification is the
 * memory operand's displacement (displacementQualification).
 */
export function interceptDescriptorTable(c: Cpu, i: Insn, identity: number, ldtrTr: boolean): void {
  if ((c.vmx!.secondary & CPU2_DESCRIPTOR_TABLE_EXITING) === 0) return;
  let info = identity << 28;
  if (i.rm !== NO_REG) info |= (1 << 10) | (i.rm << 3);
  else info |= memoryOperandInfo(i);
  if (!ldtrTr) info |= (i.opsize === 8 || i.opsize === 4 ? 1 : 0) << 11;
  exit(c, i, { reason: ldtrTr ? EXIT_LDTR_TR : EXIT_GDTR_IDTR, qualification: displacementQualification(c, i), instructionInfo: info });
}

/** INT3 (#BP, a software exception) and INT1 (#DB, a privileged software exception) against the exception bitmap. */
export function interceptSoftwareException(c: Cpu, i: Insn, vector: number): void {
  const vmx = c.vmx!;
  if (((vmx.exceptionBitmap >>> vector) & 1) === 0) return;
  const type = vector === 3 ? INTR_TYPE_SOFTWARE_EXCEPTION : INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION;
  exit(c, i, { reason: EXIT_EXCEPTION_OR_NMI, interruptionInfo: INTR_VALID | (type << 8) | vector });
}
