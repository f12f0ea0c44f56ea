// Event delivery in long mode: exceptions, software interrupts, external interrupts
// and NMI through the IDT, with IST stack switching, and the double-fault and
// triple-fault rules.
//
// An IDT gate in long mode is 16 bytes. If its IST field is non-zero the CPU loads RSP
// from that slot of the 64-bit TSS unconditionally, even without a privilege change
// (the LVD rogue-stack defence relies on exactly this); otherwise it switches to
// TSS.RSPn only when the privilege level drops. RSP is aligned down to 16 bytes and
// SS, RSP, RFLAGS, CS, RIP and (for some exceptions) an error code are pushed.

import type { Cpu } from "./cpu.ts";
import { CpuFault, CS, SS, RSP, GP, NP, DF_VEC, PF_VEC, TS, EXCEPTION_NAMES } from "./arch.ts";
import { IF, TF, NT, RF, VM } from "./flags.ts";
import { COSTS } from "../cost.ts";

export type EventKind = "fault" | "soft" | "external" | "nmi";

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

/** Reads the two dwords of the GDT/LDT descriptor for `sel` (implicit supervisor access). */
export function readDescriptor(cpu: Cpu, sel: number): [number, number] {
  const index = sel & ~7;
  if ((sel & 4) !== 0) {
    if (index + 7 > cpu.ldtLimit) throw new CpuFault(GP, sel & ~3);
    return [readSup32(cpu, cpu.ldtBase + index), readSup32(cpu, cpu.ldtBase + index + 4)];
  }
  if (index + 7 > cpu.gdtLimit) throw new CpuFault(GP, sel & ~3);
  return [readSup32(cpu, cpu.gdtBase + index), readSup32(cpu, cpu.gdtBase + index + 4)];
}

function readSup32(cpu: Cpu, la: number): number {
  return cpu.mem.read32(cpu.translateAs(la, 1, false));
}
function readSup64(cpu: Cpu, la: number): number {
  return (readSup32(cpu, la) >>> 0) + readSup32(cpu, la + 4) * 4294967296;
}
function pushSup(cpu: Cpu, sp: number, lo: number, hi: number): number {
  sp -= 8;
  const pa = cpu.translateAs(sp, 2, false);
  cpu.mem.write32(pa, lo);
  cpu.mem.write32(pa + 4, hi);
  return sp;
}

/** Sign-extends a 64-bit value given as halves to the canonical-number form. */
function toLinear(lo: number, hi: number): number {
  return (hi | 0) * 4294967296 + (lo >>> 0);
}

function deliverOnce(cpu: Cpu, vector: number, errorCode: number, kind: EventKind, returnRip: number): void {
  const idtErr = vector * 8 + 2 + (kind === "external" || kind === "nmi" ? 1 : 0);
  if (vector * 16 + 15 > cpu.idtLimit) throw new CpuFault(GP, idtErr);
  const g = cpu.idtBase + vector * 16;
  const w0 = readSup32(cpu, g), w1 = readSup32(cpu, g + 4), w2 = readSup32(cpu, g + 8);
  const type = (w1 >> 8) & 0xf;
  if (type !== 0xe && type !== 0xf) throw new CpuFault(GP, idtErr);
  if (kind === "soft" && ((w1 >> 13) & 3) < cpu.cpl) throw new CpuFault(GP, idtErr);
  if ((w1 & 0x8000) === 0) throw new CpuFault(NP, idtErr);
  const selector = w0 >>> 16;
  const target = toLinear((w0 & 0xffff) | (w1 & 0xffff0000), w2);

  const [, dhi] = readDescriptor(cpu, selector);
  if ((selector & ~3) === 0 || (dhi & 0x1800) !== 0x1800) throw new CpuFault(GP, selector & ~3);
  if ((dhi & 0x8000) === 0) throw new CpuFault(NP, selector & ~3);
  const newCpl = (dhi >> 13) & 3;
  if (newCpl > cpu.cpl) throw new CpuFault(GP, selector & ~3);

  const ist = w1 & 7;
  let sp: number;
  if (ist !== 0) sp = readSup64(cpu, cpu.trBase + 0x24 + (ist - 1) * 8);
  else if (newCpl < cpu.cpl) sp = readSup64(cpu, cpu.trBase + 4 + newCpl * 8);
  else sp = cpu.reg64(RSP);
  if ((ist !== 0 || newCpl < cpu.cpl) && cpu.trLimit < 0x67) throw new CpuFault(TS, cpu.trSel & ~3);
  sp -= sp & 15; // align down: & sees the two's-complement low bits

  const oldSs = cpu.segSel[SS];
  const oldRsp = cpu.reg64(RSP);
  const flags = cpu.rflags;
  sp = pushSup(cpu, sp, oldSs, 0);
  sp = pushSup(cpu, sp, oldRsp | 0, Math.floor(oldRsp / 4294967296));
  sp = pushSup(cpu, sp, flags, 0);
  sp = pushSup(cpu, sp, cpu.segSel[CS], 0);
  sp = pushSup(cpu, sp, returnRip | 0, Math.floor(returnRip / 4294967296));
  if (errorCode >= 0) sp = pushSup(cpu, sp, errorCode, 0);

  if (newCpl < cpu.cpl) cpu.segSel[SS] = newCpl; // a null SS with RPL = new CPL
  cpu.segSel[CS] = (selector & ~3) | newCpl;
  cpu.cpl = newCpl;
  cpu.setReg64(RSP, sp);
  cpu.rip = target;
  cpu.nextRip = target;
  let rfl = cpu.rfl & ~(TF | NT | RF | VM);
  if (type === 0xe) rfl &= ~IF;
  cpu.rfl = rfl;
  cpu.interruptShadow = false;
  cpu.refetch(); // the CPL may have changed: execute rights of the fetch page are checked again
}

/** Exceptions that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21 || vector === 29 || vector === 30;
}

interface Origin {
  vector: number;
  errorCode: number;
  rip: number;
  cr2: number;
}

/**
 * Delivers an event. cpu.rip is the instruction it belongs to; the frame returns to
 * `returnRip` (that instruction for faults, the next one for traps and INT n). A fault
 * during delivery is reported at cpu.rip and becomes a double fault when the SDM says
 * so; a fault while delivering a double fault shuts the processor down.
 */
export function deliverEvent(cpu: Cpu, vector: number, errorCode: number, kind: EventKind, returnRip = cpu.rip, first?: Origin): void {
  const origin = first ?? { vector, errorCode, rip: cpu.rip, cr2: cpu.cr2 };
  // The hardware delivery primitive (INT n pays through its instruction class instead).
  if (first === undefined && kind !== "soft") cpu.cycles += COSTS.interrupt;
  cpu.halted = false;
  try {
    deliverOnce(cpu, vector, kind === "fault" && !hasErrorCode(vector) ? -1 : errorCode, kind, returnRip);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    const second = e.vector;
    if (vector === DF_VEC) {
      const name = EXCEPTION_NAMES[origin.vector] ?? `vector ${origin.vector}`;
      cpu.triple({
        ...origin,
        message: `triple fault: ${name} at RIP 0x${hex64(origin.rip)}` + (origin.errorCode >= 0 ? ` error code 0x${origin.errorCode.toString(16)}` : "") +
          (origin.vector === PF_VEC ? ` CR2 0x${hex64(origin.cr2)}` : "") + " could not be delivered",
      });
      return;
    }
    const benignFirst = !CONTRIBUTORY.has(vector) && vector !== PF_VEC;
    const df = !benignFirst && (CONTRIBUTORY.has(second) || (vector === PF_VEC && second === PF_VEC));
    if (df) deliverEvent(cpu, DF_VEC, 0, "fault", cpu.rip, origin);
    else deliverEvent(cpu, second, e.errorCode, "fault", cpu.rip, origin);
  }
}

/** A canonical address (signed number) as 16 hex digits. */
export function hex64(v: number): string {
  const u = v < 0 ? v + 18446744073709551616 : v;
  if (u < 2 ** 53) return u.toString(16).padStart(16, "0");
  const hi = Math.floor(v / 4294967296), lo = v - hi * 4294967296;
  return (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}
