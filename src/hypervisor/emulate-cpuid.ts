// CPUID exits (reason 10, unconditional): the hypervisor answers with the processor's
// own CPUID data (ops/cpuid.ts), minus VMX: CPUID.1:ECX.VMX reads 0, since VMX belongs to
// the hypervisor (the VMX MSRs and CR4.VMXE agree, emulate-msr.ts and emulate-cr.ts).
// CPUID.1:ECX.OSXSAVE follows the guest's CR4, not the hypervisor's. The hypercall leaves
// go to hypercall-handlers.ts.

import { RAX, RBX, RCX, RDX, CR4_OSXSAVE } from "../machine/cpu/arch.ts";
import { cpuidLeaf } from "../machine/cpu/ops/cpuid.ts";
import { GUEST_CR4 } from "../machine/vmx/fields.ts";
import { HYPERCALL_BASE, HYPERCALL_COUNT } from "./hypercalls.ts";
import { hypercall, type HypervisorServices } from "./hypercall-handlers.ts";
import { chargeInstruction } from "./emulated-cost.ts";
import type { Vcpu } from "./vcpu.ts";

const ECX1_VMX = 1 << 5, ECX1_OSXSAVE = 1 << 27;

/** Exit 10. */
export function cpuidExit(v: Vcpu, services: HypervisorServices): void {
  const c = v.cpu;
  const leaf = c.lo[RAX] >>> 0;
  chargeInstruction(c, "cpuid"); // the hypervisor's own CPUID, or the hypercall's
  if (leaf >= HYPERCALL_BASE && leaf < HYPERCALL_BASE + HYPERCALL_COUNT) {
    hypercall(v, services, leaf);
    return;
  }
  const [a, b, cx, d] = cpuidLeaf(c, leaf, c.lo[RCX]);
  let ecx = cx;
  if (leaf === 1) {
    ecx &= ~(ECX1_VMX | ECX1_OSXSAVE);
    if ((v.read(GUEST_CR4) & CR4_OSXSAVE) !== 0) ecx |= ECX1_OSXSAVE;
  }
  c.writeReg(4, RAX, a, 0);
  c.writeReg(4, RBX, b, 0);
  c.writeReg(4, RCX, ecx, 0);
  c.writeReg(4, RDX, d, 0);
  v.skip();
}
