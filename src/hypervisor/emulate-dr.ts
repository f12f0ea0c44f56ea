// MOV DR exits (reason 29, "MOV-DR exiting"): debug registers are sensitive state
// (reference section 3), so every access exits and is checked to come from the kernel.
// DR0-DR3 and DR6 are not switched by VM exits and stay in the processor; DR7 lives in
// the VMCS guest area while the hypervisor runs (saved and loaded with the debug
// controls). Native rules (ops/control-regs.ts): DR4/DR5 alias DR6/DR7 (with CR4.DE set
// the processor raised #UD before any exit), DR6/DR7 writes with bits 63:32 set are
// #GP(0), their fixed bits stay fixed.

import { GP } from "../machine/cpu/arch.ts";
import { EXIT_QUALIFICATION, GUEST_DR7 } from "../machine/vmx/fields.ts";
import { GuestFault } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

// The writable and fixed-1 bits of DR6 and DR7 (as ops/control-regs.ts has them).
const DR6_FIXED1 = 0xfffe07f0 | 0, DR6_WRITABLE = 0x0001e80f;
const DR7_FIXED1 = 0x400, DR7_WRITABLE = 0xffff2bff | 0;

/** Exit 29. */
export function movDrExit(v: Vcpu): void {
  const q = v.read(EXIT_QUALIFICATION);
  const dr = q & 7, fromDr = (q & 16) !== 0, reg = (q >>> 8) & 15;
  const n = dr === 4 || dr === 5 ? dr + 2 : dr;
  const c = v.cpu;
  if (fromDr) {
    chargeInstruction(c, "movFromDr");
    const value = n === 7 ? v.read(GUEST_DR7) : c.dr[n];
    v.setRegHalves(reg, value | 0, Math.floor(value / 4294967296) | 0);
  } else {
    chargeInstruction(c, "movToDr");
    const [lo, hi] = v.regHalves(reg);
    if (n < 4) c.dr[n] = (hi | 0) * 4294967296 + (lo >>> 0);
    else {
      if (hi !== 0) throw new GuestFault(GP, 0);
      if (n === 6) c.dr[6] = ((lo & DR6_WRITABLE) | DR6_FIXED1) >>> 0;
      else v.write(GUEST_DR7, ((lo & DR7_WRITABLE) | DR7_FIXED1) >>> 0);
    }
  }
  v.skip();
}
