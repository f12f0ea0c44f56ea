// Descriptor-table exits (reasons 46 and 47, "descriptor-table exiting"): LGDT, LIDT,
// SGDT, SIDT, LLDT, LTR, SLDT, STR. The hypervisor finds the memory operand from the
// exit qualification (the displacement; with RIP-relative addressing, displacement plus
// next RIP), the instruction information (scale, address size, segment, index and base
// registers, SDM Tables 28-10 and 28-11) and the guest's registers, reads or writes it
// through the guest's page tables and EPT_K (guest-memory.ts), and loads or stores the
// register in the VMCS guest area, with the checks of the native instructions
// (ops/descriptor-tables.ts): a non-canonical base is #GP(0); LLDT/LTR read the 16-byte
// descriptor from the guest's GDT (#GP(selector) for a wrong one, #NP when not present)
// and LTR marks the TSS busy.

import { GP, NP, SS, SS_VEC } from "../machine/cpu/arch.ts";
import {
  EXIT_QUALIFICATION, EXIT_INSTRUCTION_INFO, GUEST_GDTR_BASE, GUEST_GDTR_LIMIT, GUEST_IDTR_BASE, GUEST_IDTR_LIMIT,
  GUEST_CS_SELECTOR, GUEST_BASE, GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR,
  GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR,
} from "../machine/vmx/fields.ts";
import { GuestMemory, GuestFault, canonical, u16, halvesAt, bytesOf } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

// Instruction identities in the information field: 0 SGDT/SLDT, 1 SIDT/STR, 2 LGDT/LLDT, 3 LIDT/LTR.
const SGDT = 0, SIDT = 1, LGDT = 2;
const SLDT = 0, STR = 1, LLDT = 2;
const LDT_TYPE = 2, TSS_AVAILABLE = 9, TSS_BUSY = 11;
const AR_UNUSABLE = 0x10000;

const linear = (lo: number, hi: number) => (hi | 0) * 4294967296 + (lo >>> 0);

/**
 * The linear address of the instruction's memory operand (SDM 28.2.5): displacement +
 * base + index * scale, at the address size, plus the FS/GS base. Exact 64-bit
 * arithmetic, since registers may hold anything; #GP(0) (#SS(0) through SS) when the
 * result is not canonical.
 */
function operandAddress(v: Vcpu, info: number): number {
  const scale = info & 3, addrSize = (info >>> 7) & 7, seg = (info >>> 15) & 7;
  const index = (info >>> 18) & 15, base = (info >>> 23) & 15;
  let ea = BigInt.asIntN(64, BigInt(v.read(EXIT_QUALIFICATION)));
  const reg = (r: number) => {
    const [lo, hi] = v.regHalves(r);
    return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  };
  if ((info & (1 << 27)) === 0) ea += reg(base);
  if ((info & (1 << 22)) === 0) ea += reg(index) << BigInt(scale);
  ea = addrSize === 1 ? BigInt.asUintN(32, ea) : BigInt.asIntN(64, ea);
  let la = Number(ea);
  if (seg === 4 || seg === 5) la = Number(BigInt.asIntN(64, ea + BigInt(v.read(GUEST_BASE[seg]))));
  if (!canonical(la)) throw new GuestFault(seg === SS ? SS_VEC : GP, 0);
  return la;
}

/** Exit 46: LGDT, LIDT, SGDT, SIDT. */
export function gdtrIdtrExit(v: Vcpu): void {
  const info = v.read(EXIT_INSTRUCTION_INFO);
  const identity = (info >>> 28) & 3;
  chargeInstruction(v.cpu, identity >= LGDT ? "ldt" : "sdt");
  const la = operandAddress(v, info);
  const user = (v.read(GUEST_CS_SELECTOR) & 3) === 3;
  const mem = new GuestMemory(v);
  const gdt = identity === SGDT || identity === LGDT;
  const [baseField, limitField] = gdt ? [GUEST_GDTR_BASE, GUEST_GDTR_LIMIT] : [GUEST_IDTR_BASE, GUEST_IDTR_LIMIT];
  if (identity === SGDT || identity === SIDT) {
    mem.write(la, bytesOf([[v.read(limitField), 2], [v.read(baseField), 8]]), { user });
  } else {
    const b = mem.read(la, 10, { user });
    const [lo, hi] = halvesAt(b, 2);
    const base = linear(lo, hi);
    if (!canonical(base)) throw new GuestFault(GP, 0);
    v.write(baseField, base);
    v.write(limitField, u16(b));
  }
  v.skip();
}

/** Exit 47: LLDT, LTR, SLDT, STR. */
export function ldtrTrExit(v: Vcpu): void {
  const info = v.read(EXIT_INSTRUCTION_INFO);
  const identity = (info >>> 28) & 3;
  chargeInstruction(v.cpu, identity >= LLDT ? "lldtLtr" : "sldtStr");
  const register = (info & (1 << 10)) !== 0 ? (info >>> 3) & 15 : -1;
  const user = (v.read(GUEST_CS_SELECTOR) & 3) === 3;
  const mem = new GuestMemory(v);
  if (identity === SLDT || identity === STR) {
    const sel = v.read(identity === SLDT ? GUEST_LDTR_SELECTOR : GUEST_TR_SELECTOR);
    if (register >= 0) v.setRegHalves(register, sel, 0); // zero-extended
    else mem.write(operandAddress(v, info), bytesOf([[sel, 2]]), { user });
    v.skip();
    return;
  }
  const sel = register >= 0 ? v.regHalves(register)[0] & 0xffff : u16(mem.read(operandAddress(v, info), 2, { user }));
  if (identity === LLDT) {
    if ((sel & ~3) === 0) {
      // A null selector makes the LDT unusable.
      v.write(GUEST_LDTR_SELECTOR, sel);
      v.write(GUEST_LDTR_BASE, 0);
      v.write(GUEST_LDTR_LIMIT, 0);
      v.write(GUEST_LDTR_AR, AR_UNUSABLE);
    } else {
      const d = systemDescriptor(v, mem, sel, LDT_TYPE);
      v.write(GUEST_LDTR_SELECTOR, sel);
      v.write(GUEST_LDTR_BASE, d.base);
      v.write(GUEST_LDTR_LIMIT, d.limit);
      v.write(GUEST_LDTR_AR, d.ar);
    }
  } else {
    if ((sel & ~3) === 0) throw new GuestFault(GP, 0);
    const d = systemDescriptor(v, mem, sel, TSS_AVAILABLE);
    // Mark the TSS busy in the GDT, then load TR.
    const at = v.read(GUEST_GDTR_BASE) + (sel & ~7) + 4;
    mem.write(at, bytesOf([[((d.hi & ~0x1f00) | (TSS_BUSY << 8)) >>> 0, 4]]), { user: false, implicit: true });
    v.write(GUEST_TR_SELECTOR, sel);
    v.write(GUEST_TR_BASE, d.base);
    v.write(GUEST_TR_LIMIT, d.limit);
    v.write(GUEST_TR_AR, (d.ar & ~0xf) | TSS_BUSY);
  }
  v.skip();
}

/** The 16-byte LDT or TSS descriptor `sel` selects in the guest's GDT, checked like LLDT/LTR check it. */
function systemDescriptor(v: Vcpu, mem: GuestMemory, sel: number, type: number): { hi: number; base: number; limit: number; ar: number } {
  const err = sel & ~3;
  if ((sel & 4) !== 0) throw new GuestFault(GP, err); // must be in the GDT
  const index = sel & ~7;
  if (index + 15 > v.read(GUEST_GDTR_LIMIT)) throw new GuestFault(GP, err);
  const b = mem.read(v.read(GUEST_GDTR_BASE) + index, 16, { user: false, implicit: true });
  const [lo, hi] = halvesAt(b, 0);
  const [upper, upper2] = halvesAt(b, 8);
  if (((hi >> 8) & 0x1f) !== type || ((upper2 >> 8) & 0x1f) !== 0) throw new GuestFault(GP, err);
  if ((hi & 0x8000) === 0) throw new GuestFault(NP, err);
  const base = linear(((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0, upper);
  if (!canonical(base)) throw new GuestFault(GP, err);
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  const g = (hi & 0x800000) !== 0;
  if (g) limit = limit * 4096 + 0xfff;
  // Access rights (SDM 25.4.1): type, S, DPL, P from bits 15:8, G from bit 23.
  const ar = ((hi >>> 8) & 0xff) | (g ? 0x8000 : 0);
  return { hi, base, limit, ar };
}
