// System instructions. This file holds the small ones (CLI, STI, HLT, INVD, INVLPG,
// SWAPGS, CLAC/STAC, RD/WR FS/GS BASE, RDRAND/RDSEED) and gathers the rest, split by idea:
//   traps.ts              INT n, INT3, INT1, IRET, SYSCALL, SYSRET
//   cpuid.ts              CPUID (what the processor advertises)
//   msr.ts                RDMSR, WRMSR and the MSR table; RDTSC, RDTSCP
//   control-regs.ts       MOV CR, MOV DR, CLTS, SMSW, LMSW
//   descriptor-tables.ts  SGDT, SIDT, LGDT, LIDT, SLDT, STR, LLDT, LTR
//   xsave.ts              FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE(OPT), XRSTOR, XGETBV, XSETBV
//   vmx.ts                the VMX instructions
// ops/index.ts imports only `system`.

import type { Cpu } from "../cpu.ts";
import { CpuFault, GP, UD, GS, CR4_FSGSBASE } from "../arch.ts";
import { NO_REG } from "../decoder.ts";
import { AC, CF, IF, IOPL, setArithFlags } from "../flags.ts";
import type { Handler } from "./index.ts";
import { traps } from "./traps.ts";
import { cpuidOps } from "./cpuid.ts";
import { msr } from "./msr.ts";
import { controlRegs } from "./control-regs.ts";
import { descriptorTables } from "./descriptor-tables.ts";
import { xsaveOps } from "./xsave.ts";
import { vmxOps } from "./vmx.ts";
import { linear, loOf, hiOf } from "./system-util.ts";
import { exitAlways, interceptHlt, interceptInvlpg } from "../../vmx/intercepts.ts";
import { EXIT_INVD } from "../../vmx/fields.ts";

/** CLI and STI need CPL <= IOPL (no VME/PVI virtual interrupt flag in 64-bit mode). */
function checkIopl(c: Cpu): void {
  if (c.cpl > (c.rfl & IOPL) >> 12) throw new CpuFault(GP, 0);
}

const cli: Handler = (c) => {
  checkIopl(c);
  c.rfl &= ~IF;
};

/**
 * STI: interrupts are recognised only after the next instruction (the STI shadow);
 * attention makes the event service note where the shadow began (cpu/events.ts).
 */
const sti: Handler = (c) => {
  checkIopl(c);
  if ((c.rfl & IF) === 0) {
    c.rfl |= IF;
    c.interruptShadow = true;
    c.attention = true;
  }
};

/** HLT (CPL 0, checked by the table): the run loop stops until an event wakes the CPU. */
const hlt: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptHlt(c, i); // VMX: HLT exiting
  c.halted = true;
};

/** INVD: there are no caches to drop. */
const invd: Handler = (c, i) => {
  if (c.vmx?.nonRoot) exitAlways(c, i, EXIT_INVD); // VMX: INVD always exits in non-root operation
};

/** INVLPG: a non-canonical address is a no-op, not a fault. */
const invlpg: Handler = (c, i) => {
  const la = c.ea(i);
  if (c.vmx?.nonRoot) interceptInvlpg(c, i, la); // VMX: INVLPG exiting
  if (c.isCanonical(la)) c.invlpg(la);
};

const swapgs: Handler = (c) => {
  const gs = c.segBase[GS];
  c.segBase[GS] = c.kernelGsBase;
  c.kernelGsBase = gs;
};

/** CLAC (sub 0) / STAC (sub 1): RFLAGS.AC, which lifts SMAP for supervisor accesses. */
/** CLAC/STAC: #UD outside ring 0 (not #GP: the SDM lists them as CPL-0 only via #UD). */
const clacStac: Handler = (c, i) => {
  if (c.cpl !== 0) throw new CpuFault(UD);
  c.rflags = i.sub === 0 ? c.rflags & ~AC : c.rflags | AC;
};

function requireFsGsBase(c: Cpu): void {
  if ((c.cr4 & CR4_FSGSBASE) === 0) throw new CpuFault(UD);
}

/** RDFSBASE/RDGSBASE (sub = segment): 32- or 64-bit by REX.W. */
const rdFsGsBase: Handler = (c, i) => {
  requireFsGsBase(c);
  const base = c.segBase[i.sub];
  c.writeReg(i.opsize, i.rm, loOf(base), hiOf(base));
};

/** WRFSBASE/WRGSBASE: a 64-bit base must be canonical; a 32-bit one is zero-extended. */
const wrFsGsBase: Handler = (c, i) => {
  requireFsGsBase(c);
  const base = i.opsize === 8 ? linear(c.lo[i.rm], c.hi[i.rm]) : c.lo[i.rm] >>> 0;
  if (!c.isCanonical(base)) throw new CpuFault(GP, 0);
  c.segBase[i.sub] = base;
};

/**
 * RDRAND/RDSEED: deterministic per processor (a mulberry32 stream seeded from the CPU
 * id), so runs are reproducible. Always succeeds: CF = 1, OF/SF/ZF/AF/PF = 0.
 */
const randomState = new WeakMap<Cpu, number>();
function random32(c: Cpu): number {
  let s = randomState.get(c) ?? (0x9e3779b9 ^ Math.imul(c.id + 1, 0x85ebca6b)) | 0;
  s = (s + 0x6d2b79f5) | 0;
  randomState.set(c, s);
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return (t ^ (t >>> 14)) | 0;
}

const rdrand: Handler = (c, i) => {
  if (i.rm === NO_REG) c.undefinedOpcode();
  const lo = random32(c);
  const hi = i.opsize === 8 ? random32(c) : 0;
  c.writeReg(i.opsize, i.rm, lo, hi);
  setArithFlags(c, CF);
};

export const system: Record<string, Handler> = {
  cli, sti, hlt, invd, invlpg, swapgs, clacStac, rdFsGsBase, wrFsGsBase, rdrand,
  ...traps,
  ...cpuidOps,
  ...msr,
  ...controlRegs,
  ...descriptorTables,
  ...xsaveOps,
  ...vmxOps,
};
