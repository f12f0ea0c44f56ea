// VMFUNC (opcode NP 0F 01 D4; SDM Vol. 3C, 26.5.6 and the VMFUNC reference page), leaf 0:
// EPTP switching, the instruction LVD's domain crossings are made of.
//
// - #UD outside VMX non-root operation, when "enable VM functions" (secondary control
//   13) is 0, or when EAX >= 64; #UD takes priority over any VM exit.
// - VM exit 59 when bit EAX of the VM-function controls is 0; for leaf 0 also when
//   ECX >= 512 or the EPTP-list entry ECX is not a valid EPTP.
// - Otherwise the entry becomes the EPT pointer: the very next access, the next
//   instruction fetch included, is translated through the new EPT (and the TLB context
//   of the new EPTP, so nothing is flushed). With "EPT-violation #VE", ECX[15:0] goes
//   into the EPTP-index field.

import type { Cpu } from "../cpu/cpu.ts";
import { CpuFault, UD, RAX, RCX } from "../cpu/arch.ts";
import type { Insn } from "../cpu/decoder.ts";
import type { Vmx } from "./vmx.ts";
import { validEptp, ep4ta } from "./ept.ts";
import {
  CPU2_ENABLE_VM_FUNCTIONS, CPU2_EPT_VIOLATION_VE, EXIT_VMFUNC, EPTP_LIST_ADDR, EPT_POINTER, EPTP_INDEX,
} from "./fields.ts";

function exit59(vmx: Vmx, i: Insn): never {
  throw vmx.intercept({ reason: EXIT_VMFUNC, instructionLength: i.len });
}

export function vmfunc(c: Cpu, i: Insn): void {
  const vmx = c.vmx;
  if (vmx === null || !vmx.nonRoot || (vmx.secondary & CPU2_ENABLE_VM_FUNCTIONS) === 0) throw new CpuFault(UD);
  const leaf = c.lo[RAX] >>> 0;
  if (leaf >= 64) throw new CpuFault(UD);
  // The VM-function controls are 64 bits; only bit 0 (EPTP switching) can be set.
  if (leaf >= 32 || ((vmx.vmfuncControls >>> leaf) & 1) === 0) exit59(vmx, i);
  const index = c.lo[RCX] >>> 0;
  if (index >= 512) exit59(vmx, i);
  const vmcs = vmx.vmcs;
  // The EPTP list is a host-physical page: read directly, not through any translation.
  const entry = vmcs.get(EPTP_LIST_ADDR) + index * 8;
  const lo = c.mem.read32(entry), hi = c.mem.read32(entry + 4);
  if (!validEptp(lo, hi)) exit59(vmx, i);
  vmcs.setHalves(EPT_POINTER, lo, hi);
  if ((vmx.secondary & CPU2_EPT_VIOLATION_VE) !== 0) vmcs.set(EPTP_INDEX, index & 0xffff);
  vmx.ept.load(lo, hi);
  vmx.tlbs.switchEpt(ep4ta(lo, hi)); // also forgets the fetch page: the next fetch goes through the new EPT
}
