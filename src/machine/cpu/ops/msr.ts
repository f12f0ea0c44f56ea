// Model-specific registers: RDMSR, WRMSR, and the time-stamp counter (RDTSC, RDTSCP).
// All MSR knowledge lives in the MSRS table below: each entry reads and (unless it is
// read-only) writes one MSR, checking reserved bits (#GP(0)). MSRs with architectural
// meaning live in Cpu fields (EFER, FS/GS bases, TSC); the others are plain storage in
// cpu.msrs. Any index not in the table raises #GP(0).

import type { Cpu } from "../cpu.ts";
import { RAX, RCX, RDX, FS, GS, GP, CpuFault, EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE } from "../arch.ts";
import { MAXPHYADDR } from "../paging.ts";
import type { Handler } from "./index.ts";
import { linear, loOf, hiOf, unsigned64 } from "./system-util.ts";
import { X2APIC_MSR_FIRST, X2APIC_MSR_LAST } from "../../apic.ts";
import { VMX_CAPABILITY_MSRS } from "../../vmx/capabilities.ts";
import { interceptMsr, interceptRdtsc, requireRdtscp } from "../../vmx/intercepts.ts";
import type { Insn } from "../decoder.ts";

export const IA32_TSC = 0x10;
export const IA32_APIC_BASE = 0x1b;
export const IA32_FEATURE_CONTROL = 0x3a;
export const IA32_SPEC_CTRL = 0x48;
export const IA32_MTRRCAP = 0xfe;
export const IA32_SYSENTER_CS = 0x174, IA32_SYSENTER_ESP = 0x175, IA32_SYSENTER_EIP = 0x176;
export const IA32_MISC_ENABLE = 0x1a0;
export const IA32_PAT = 0x277;
export const IA32_MTRR_DEF_TYPE = 0x2ff;
export const IA32_TSC_DEADLINE = 0x6e0;
export const IA32_VMX_BASIC = 0x480;
export const IA32_EFER = 0xc0000080;
export const IA32_STAR = 0xc0000081, IA32_LSTAR = 0xc0000082, IA32_CSTAR = 0xc0000083, IA32_FMASK = 0xc0000084;
export const IA32_FS_BASE = 0xc0000100, IA32_GS_BASE = 0xc0000101, IA32_KERNEL_GS_BASE = 0xc0000102;
export const IA32_TSC_AUX = 0xc0000103;

/** IA32_FEATURE_CONTROL bits. */
export const FC_LOCK = 1, FC_VMX_IN_SMX = 2, FC_VMX_OUTSIDE_SMX = 4;

/**
 * The VMX capability MSRs (IA32_VMX_BASIC 0x480 .. IA32_VMX_VMFUNC 0x491): read-only,
 * index -> [lo, hi], from vmx/capabilities.ts. An index without a value reads #GP.
 */
export const VMX_CAPABILITIES = new Map<number, [number, number]>(VMX_CAPABILITY_MSRS);

interface MsrDef {
  /** The value as halves [lo, hi]. */
  read(c: Cpu): [number, number];
  /** Stores a value (checks it first; throws #GP(0) for reserved bits). Absent: read-only. */
  write?(c: Cpu, lo: number, hi: number): void;
}

function gp(): never {
  throw new CpuFault(GP, 0);
}

/** Plain storage in cpu.msrs, with a reset value and a reserved-bit check. */
function stored(index: number, reset: [number, number], check?: (lo: number, hi: number, c: Cpu) => boolean): MsrDef {
  return {
    read: (c) => c.msrs.get(index) ?? reset,
    write: (c, lo, hi) => {
      if (check && !check(lo, hi, c)) gp();
      c.msrs.set(index, [lo | 0, hi | 0]);
    },
  };
}

/** A stored MSR holding a linear address, which must be canonical. */
function storedAddress(index: number): MsrDef {
  return stored(index, [0, 0], (lo, hi, c) => c.isCanonical(linear(lo, hi)));
}

/** A linear address kept in a Cpu field. */
function addressField(get: (c: Cpu) => number, set: (c: Cpu, v: number) => void): MsrDef {
  return {
    read: (c) => [loOf(get(c)), hiOf(get(c))],
    write: (c, lo, hi) => {
      const v = linear(lo, hi);
      if (!c.isCanonical(v)) gp();
      set(c, v);
    },
  };
}

const PAT_TYPES = new Set([0, 1, 4, 5, 6, 7]);
function validPat(lo: number, hi: number): boolean {
  for (let k = 0; k < 4; k++) {
    if (!PAT_TYPES.has((lo >>> (8 * k)) & 0xff) || !PAT_TYPES.has((hi >>> (8 * k)) & 0xff)) return false;
  }
  return true;
}

/** Bits 63:MAXPHYADDR of a physical address held in an MSR's high half. */
function physHiReserved(): number {
  return ~((1 << (MAXPHYADDR - 32)) - 1);
}

/** The time-stamp counter: modeled cycles plus the offset a TSC write set, modulo 2^64. */
export function readTsc(c: Cpu): number {
  const t = c.cycles + c.tscOffset + (c.vmx !== null ? c.vmx.tscOffset : 0); // VMX: "use TSC offsetting" in a guest
  return t < 0 ? t + 18446744073709551616 : t;
}

/** EFER bits software can write (LMA is read-only: it follows LME and CR0.PG). */
export const EFER_WRITABLE = EFER_SCE | EFER_LME | EFER_NXE;

export const MSRS = new Map<number, MsrDef>([
  [IA32_TSC, {
    read: (c) => { const t = readTsc(c); return [loOf(t), hiOf(t)]; },
    write: (c, lo, hi) => { c.tscOffset = unsigned64(lo, hi) - c.cycles; },
  }],
  // APIC base: the vCPU's local APIC (apic.ts) owns it; a processor without one stores
  // it. Bit 8 (BSP) is read-only; bits 7:0, 9 and those above MAXPHYADDR are reserved.
  [IA32_APIC_BASE, {
    read: (c) => c.apic?.readBase() ?? c.msrs.get(IA32_APIC_BASE) ?? [0xfee00800 | (c.id === 0 ? 0x100 : 0), 0],
    write: (c, lo, hi) => {
      if ((lo & 0x2ff) !== 0 || (hi & physHiReserved()) !== 0) gp();
      if (c.apic) c.apic.writeBase(lo, hi);
      else c.msrs.set(IA32_APIC_BASE, [(lo & ~0x100) | (c.id === 0 ? 0x100 : 0), hi]);
    },
  }],
  // Once the lock bit is set, the MSR is read-only (writes #GP) until reset.
  [IA32_FEATURE_CONTROL, stored(IA32_FEATURE_CONTROL, [0, 0], (lo, hi, c) => {
    const cur = c.msrs.get(IA32_FEATURE_CONTROL)?.[0] ?? 0;
    return (cur & FC_LOCK) === 0 && hi === 0 && (lo & ~(FC_LOCK | FC_VMX_IN_SMX | FC_VMX_OUTSIDE_SMX)) === 0;
  })],
  [IA32_SPEC_CTRL, stored(IA32_SPEC_CTRL, [0, 0], (lo, hi) => hi === 0 && (lo & ~7) === 0)], // IBRS, STIBP, SSBD
  // MTRRs: no variable or fixed ranges, no write-combining; the default type is stored.
  [IA32_MTRRCAP, { read: () => [0, 0] }],
  [IA32_MTRR_DEF_TYPE, stored(IA32_MTRR_DEF_TYPE, [0, 0], (lo, hi) => hi === 0 && (lo & ~0xcff) === 0 && PAT_TYPES.has(lo & 0xff) && (lo & 0xff) !== 1 && (lo & 0xff) !== 7)],
  [IA32_SYSENTER_CS, stored(IA32_SYSENTER_CS, [0, 0])],
  [IA32_SYSENTER_ESP, storedAddress(IA32_SYSENTER_ESP)],
  [IA32_SYSENTER_EIP, storedAddress(IA32_SYSENTER_EIP)],
  // Fast strings (0) on; branch-trace storage (11) and PEBS (12) unavailable.
  [IA32_MISC_ENABLE, stored(IA32_MISC_ENABLE, [0x1801, 0])],
  [IA32_PAT, stored(IA32_PAT, [0x00070406, 0x00070406], validPat)],
  // TSC deadline: the local APIC timer's (stored on a processor without an APIC).
  [IA32_TSC_DEADLINE, {
    read: (c) => c.apic?.readTscDeadline() ?? c.msrs.get(IA32_TSC_DEADLINE) ?? [0, 0],
    write: (c, lo, hi) => {
      if (c.apic) c.apic.writeTscDeadline(lo, hi);
      else c.msrs.set(IA32_TSC_DEADLINE, [lo | 0, hi | 0]);
    },
  }],
  // EFER: LMA is read-only (always 1: only long mode is modeled), so LME cannot be
  // cleared either (#GP with paging on). A change of NXE changes what the TLB holds.
  [IA32_EFER, {
    read: (c) => [c.efer, 0],
    write: (c, lo, hi) => {
      if (hi !== 0 || (lo & ~(EFER_WRITABLE | EFER_LMA)) !== 0 || (lo & EFER_LME) === 0) gp();
      const v = (lo & EFER_WRITABLE) | (c.efer & EFER_LMA);
      const changed = v ^ c.efer;
      c.efer = v;
      if (changed & EFER_NXE) c.flushTlb(true);
    },
  }],
  [IA32_STAR, stored(IA32_STAR, [0, 0])],
  [IA32_LSTAR, storedAddress(IA32_LSTAR)],
  [IA32_CSTAR, storedAddress(IA32_CSTAR)],
  [IA32_FMASK, stored(IA32_FMASK, [0, 0], (_lo, hi) => hi === 0)],
  [IA32_FS_BASE, addressField((c) => c.segBase[FS], (c, v) => { c.segBase[FS] = v; })],
  [IA32_GS_BASE, addressField((c) => c.segBase[GS], (c, v) => { c.segBase[GS] = v; })],
  [IA32_KERNEL_GS_BASE, addressField((c) => c.kernelGsBase, (c, v) => { c.kernelGsBase = v; })],
  [IA32_TSC_AUX, stored(IA32_TSC_AUX, [0, 0], (_lo, hi) => hi === 0)],
]);
// The x2APIC registers (the APIC raises #GP outside x2APIC mode and for misuse).
for (let index = X2APIC_MSR_FIRST; index <= X2APIC_MSR_LAST; index++) {
  MSRS.set(index, {
    read: (c) => (c.apic ? c.apic.readMsr(index) : gp()),
    write: (c, lo, hi) => (c.apic ? c.apic.writeMsr(index, lo, hi) : gp()),
  });
}
for (let index = IA32_VMX_BASIC; index <= 0x491; index++) {
  MSRS.set(index, { read: (c) => VMX_CAPABILITIES.get(index) ?? gp() });
}

/** The value of an MSR as [lo, hi] (for SYSCALL, VM entry...); #GP(0) if it does not exist. */
export function readMsr(c: Cpu, index: number): [number, number] {
  const def = MSRS.get(index >>> 0);
  if (!def) gp();
  return def.read(c);
}

/** Writes an MSR with WRMSR's checks (#GP(0) for unknown, read-only or reserved bits). */
export function writeMsr(c: Cpu, index: number, lo: number, hi: number): void {
  const def = MSRS.get(index >>> 0);
  if (!def?.write) gp();
  def.write(c, lo | 0, hi | 0);
}

const rdmsr: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptMsr(c, i, false); // VMX: MSR bitmaps
  const [lo, hi] = readMsr(c, c.lo[RCX]);
  c.writeReg(4, RAX, lo, 0);
  c.writeReg(4, RDX, hi, 0);
};

const wrmsr: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptMsr(c, i, true); // VMX: MSR bitmaps
  writeMsr(c, c.lo[RCX], c.lo[RAX], c.lo[RDX]);
};

/** CR4.TSD: RDTSC/RDTSCP only at CPL 0. */
const CR4_TSD = 1 << 2;

/** RDTSC/RDTSCP: #UD (RDTSCP not enabled in a guest), then CR4.TSD's #GP, then VMX's RDTSC exiting. */
function timeStamp(c: Cpu, i: Insn, rdtscp: boolean): void {
  if (rdtscp && c.vmx?.nonRoot) requireRdtscp(c);
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw new CpuFault(GP, 0);
  if (c.vmx?.nonRoot) interceptRdtsc(c, i, rdtscp);
  const t = readTsc(c);
  c.writeReg(4, RAX, loOf(t), 0);
  c.writeReg(4, RDX, hiOf(t), 0);
}

const rdtsc: Handler = (c, i) => timeStamp(c, i, false);

const rdtscp: Handler = (c, i) => {
  timeStamp(c, i, true);
  c.writeReg(4, RCX, readMsr(c, IA32_TSC_AUX)[0], 0);
};

export const msr: Record<string, Handler> = { rdmsr, wrmsr, rdtsc, rdtscp };
