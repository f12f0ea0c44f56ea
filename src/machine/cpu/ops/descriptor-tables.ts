// Descriptor-table registers: SGDT/SIDT, LGDT/LIDT, SLDT/STR, LLDT/LTR.
//
// In 64-bit mode the pseudo-descriptor is 10 bytes (16-bit limit, 64-bit base), and
// LDT and TSS descriptors are 16 bytes (the upper 8 hold base 63:32). UMIP is not
// modeled, so the store instructions work at any CPL.

import type { Cpu } from "../cpu.ts";
import { CpuFault, GP, NP } from "../arch.ts";
import { NO_REG } from "../decoder.ts";
import type { Handler } from "./index.ts";
import { interceptDescriptorTable } from "../../vmx/intercepts.ts";
import { linear, loOf, hiOf, checkWriteRange, readSup32, writeSup32 } from "./system-util.ts";

/** SGDT (sub 0) / SIDT (sub 1): limit then base. */
const sdt: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptDescriptorTable(c, i, i.sub, false); // VMX: descriptor-table exiting
  const la = c.ea(i);
  const limit = i.sub === 0 ? c.gdtLimit : c.idtLimit;
  const base = i.sub === 0 ? c.gdtBase : c.idtBase;
  checkWriteRange(c, la, 10);
  c.writeMem(la, 2, limit, 0);
  c.writeMem(la + 2, 8, loOf(base), hiOf(base));
};

/** LGDT (sub 0) / LIDT (sub 1): the base must be canonical. */
const ldt: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptDescriptorTable(c, i, 2 + i.sub, false); // VMX: descriptor-table exiting
  const la = c.ea(i);
  const limit = c.readMem(la, 2);
  const baseLo = c.readMem(la + 2, 8);
  const base = linear(baseLo, c.h);
  if (!c.isCanonical(base)) throw new CpuFault(GP, 0);
  if (i.sub === 0) {
    c.gdtBase = base;
    c.gdtLimit = limit;
  } else {
    c.idtBase = base;
    c.idtLimit = limit;
  }
};

/** SLDT (sub 0) / STR (sub 1): a register destination is zero-extended. */
const sldtStr: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptDescriptorTable(c, i, i.sub, true); // VMX: descriptor-table exiting
  const sel = i.sub === 0 ? c.ldtSel : c.trSel;
  if (i.rm !== NO_REG) c.writeReg(i.rexW ? 8 : 4, i.rm, sel, 0);
  else c.writeMem(c.ea(i), 2, sel, 0);
};

/** A 16-byte system descriptor in the GDT: its two low dwords, base and limit. */
interface SystemDescriptor {
  hi: number;
  base: number;
  limit: number;
}

function readSystemDescriptor(c: Cpu, sel: number, type: number): SystemDescriptor {
  const err = sel & ~3;
  if ((sel & 4) !== 0) throw new CpuFault(GP, err); // must be in the GDT
  const index = sel & ~7;
  if (index + 15 > c.gdtLimit) throw new CpuFault(GP, err);
  const at = c.gdtBase + index;
  const lo = readSup32(c, at), hi = readSup32(c, at + 4);
  const upper = readSup32(c, at + 8), upper2 = readSup32(c, at + 12);
  if (((hi >> 8) & 0x1f) !== type || ((upper2 >> 8) & 0x1f) !== 0) throw new CpuFault(GP, err);
  if ((hi & 0x8000) === 0) throw new CpuFault(NP, err);
  const base = linear(((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0, upper);
  if (!c.isCanonical(base)) throw new CpuFault(GP, err);
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if ((hi & 0x800000) !== 0) limit = limit * 4096 + 0xfff;
  return { hi, base, limit };
}

const LDT_TYPE = 2, TSS_AVAILABLE = 9, TSS_BUSY = 11;

/** LLDT (sub 0) / LTR (sub 1). */
const lldtLtr: Handler = (c, i) => {
  if (c.vmx?.nonRoot) interceptDescriptorTable(c, i, 2 + i.sub, true); // VMX: descriptor-table exiting
  const sel = c.readE(i) & 0xffff;
  if (i.sub === 0) {
    if ((sel & ~3) === 0) {
      // A null selector makes the LDT unusable.
      c.ldtSel = sel;
      c.ldtBase = 0;
      c.ldtLimit = 0;
      return;
    }
    const d = readSystemDescriptor(c, sel, LDT_TYPE);
    c.ldtSel = sel;
    c.ldtBase = d.base;
    c.ldtLimit = d.limit;
    return;
  }
  if ((sel & ~3) === 0) throw new CpuFault(GP, 0);
  const d = readSystemDescriptor(c, sel, TSS_AVAILABLE);
  // Mark the TSS busy in the GDT, then load TR.
  writeSup32(c, c.gdtBase + (sel & ~7) + 4, (d.hi & ~0x1f00) | (TSS_BUSY << 8));
  c.trSel = sel;
  c.trBase = d.base;
  c.trLimit = d.limit;
};

export const descriptorTables: Record<string, Handler> = { sdt, ldt, sldtStr, lldtLtr };
