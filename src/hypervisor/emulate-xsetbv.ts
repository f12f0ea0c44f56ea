// XSETBV exits (reason 55, unconditional): XCR0 decides which extended state XSAVE
// saves, so it is sensitive state (reference section 3). XCR0 is not switched by VM
// exits; the hypervisor loads it with the native instruction's checks (ops/xsave.ts:
// ECX must be 0, bit 0 stays set, AVX needs SSE, unsupported bits are #GP(0); CR4.OSXSAVE
// was checked by the processor before the exit).

import { GP, RAX, RCX, RDX } from "../machine/cpu/arch.ts";
import { XCR0_SUPPORTED } from "../machine/cpu/ops/cpuid.ts";
import { GuestFault } from "./guest-memory.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

const X87 = 1, SSE = 2, AVX = 4;

/** Exit 55. */
export function xsetbvExit(v: Vcpu): void {
  const c = v.cpu;
  chargeInstruction(c, "xsetbv");
  const lo = c.lo[RAX], hi = c.lo[RDX];
  if (c.lo[RCX] !== 0 || hi !== 0 || (lo & ~XCR0_SUPPORTED) !== 0) throw new GuestFault(GP, 0);
  if ((lo & X87) === 0 || ((lo & AVX) !== 0 && (lo & SSE) === 0)) throw new GuestFault(GP, 0);
  c.xcr0 = lo;
  v.skip();
}
