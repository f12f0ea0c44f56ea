// Loading segment registers in 64-bit mode. Only FS and GS keep a base that matters
// (and their 64-bit bases come from MSRs or WRFSBASE); the others are checked and their
// selectors kept, because interrupt frames, IRETQ and SYSRET carry them.

import type { Cpu } from "../cpu.ts";
import { CpuFault, GP, NP, SS_VEC, SS, FS, GS } from "../arch.ts";
import { readDescriptor } from "../interrupts.ts";

/** Loads a data segment register (DS, ES, SS, FS, GS) with `sel`, as MOV Sreg / POP Sreg do. */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  const rpl = sel & 3;
  if ((sel & ~3) === 0) {
    // A null selector: fine for data segments; SS only below CPL 3 with RPL = CPL.
    if (seg === SS && (c.cpl === 3 || rpl !== c.cpl)) throw new CpuFault(GP, 0);
    c.segSel[seg] = sel;
    if (seg === FS || seg === GS) c.segBase[seg] = 0;
    return;
  }
  const [lo, hi] = readDescriptor(c, sel);
  const type = (hi >> 8) & 0x1f; // S bit and type
  const dpl = (hi >> 13) & 3;
  const isData = (type & 0x18) === 0x10;
  const readableCode = (type & 0x1a) === 0x1a;
  if (seg === SS) {
    if (!isData || (type & 2) === 0 || rpl !== c.cpl || dpl !== c.cpl) throw new CpuFault(GP, sel & ~3);
    if ((hi & 0x8000) === 0) throw new CpuFault(SS_VEC, sel & ~3);
  } else {
    if (!isData && !readableCode) throw new CpuFault(GP, sel & ~3);
    if ((hi & 0x8000) === 0) throw new CpuFault(NP, sel & ~3);
  }
  c.segSel[seg] = sel;
  if (seg === FS || seg === GS) c.segBase[seg] = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}
