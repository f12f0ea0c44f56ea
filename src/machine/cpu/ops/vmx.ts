// The VMX instructions (decode-table sub-operations): 0 VMCALL, 1 VMLAUNCH, 2 VMRESUME,
// 3 VMXOFF, 4 VMFUNC, 5 VMPTRLD, 6 VMCLEAR, 7 VMXON, 8 VMPTRST, 9 VMREAD, 10 VMWRITE,
// 11 INVEPT, 12 INVVPID.
//
// This handler decodes operands and applies the SDM's order (Vol. 3C, 31.3): #UD outside
// VMX operation; in VMX non-root operation a VM exit (reasons 18-27, 50, 53; VMFUNC has
// its own rules, vmx/vmfunc.ts); #GP(0) at CPL > 0; the memory operand; then what the
// instruction does (vmx/instructions.ts), reported in RFLAGS: VMsucceed clears CF, PF,
// AF, ZF, SF and OF; VMfailInvalid sets CF; VMfailValid sets ZF.

import type { Cpu } from "../cpu.ts";
import { CpuFault, UD, GP, CR4_VMXE } from "../arch.ts";
import { NO_REG, type Insn } from "../decoder.ts";
import { setArithFlags, CF, ZF } from "../flags.ts";
import type { Handler } from "./index.ts";
import { vmxOf, VM_SUCCEED, VM_FAIL_INVALID, VM_ENTRY_FAILED, type Vmx, type VmResult } from "../../vmx/vmx.ts";
import * as ins from "../../vmx/instructions.ts";
import { vmfunc } from "../../vmx/vmfunc.ts";
import { memoryOperandInfo } from "../../vmx/intercepts.ts";
import {
  EXIT_VMCALL, EXIT_VMLAUNCH, EXIT_VMRESUME, EXIT_VMXOFF, EXIT_VMPTRLD, EXIT_VMCLEAR, EXIT_VMXON, EXIT_VMPTRST,
  EXIT_VMREAD, EXIT_VMWRITE, EXIT_INVEPT, EXIT_INVVPID,
} from "../../vmx/fields.ts";

export const VMCALL = 0, VMLAUNCH = 1, VMRESUME = 2, VMXOFF = 3, VMFUNC = 4, VMPTRLD = 5, VMCLEAR = 6;
export const VMXON = 7, VMPTRST = 8, VMREAD = 9, VMWRITE = 10, INVEPT = 11, INVVPID = 12;

/** Exit reason of each sub-operation in VMX non-root operation. */
const EXIT_REASONS = [
  EXIT_VMCALL, EXIT_VMLAUNCH, EXIT_VMRESUME, EXIT_VMXOFF, -1, EXIT_VMPTRLD, EXIT_VMCLEAR, EXIT_VMXON,
  EXIT_VMPTRST, EXIT_VMREAD, EXIT_VMWRITE, EXIT_INVEPT, EXIT_INVVPID,
];

function setResult(c: Cpu, r: VmResult): void {
  setArithFlags(c, r === VM_SUCCEED ? 0 : r === VM_FAIL_INVALID ? CF : ZF);
}

/** VM exit for a VMX instruction in non-root operation, with instruction information (SDM 28.2.5). */
function exitFromNonRoot(i: Insn, vmx: Vmx): never {
  const sub = i.sub;
  let info = 0, qualification = 0;
  const hasOperand = sub >= VMPTRLD;
  if (hasOperand) {
    if (i.rm !== NO_REG) info = (1 << 10) | (i.rm << 3);
    else {
      info = memoryOperandInfo(i);
      qualification = i.disp; // the displacement of the memory operand
    }
    if (sub === VMREAD || sub === VMWRITE || sub === INVEPT || sub === INVVPID) info |= i.reg << 28;
  }
  throw vmx.intercept({
    reason: EXIT_REASONS[sub], qualification, instructionLength: i.len,
    instructionInfo: hasOperand ? info : undefined,
  });
}

/** A qword memory operand, read where the pseudocode reads it. */
function readQword(c: Cpu, la: number): [number, number] {
  const lo = c.readMem(la, 8);
  return [lo, c.h];
}

const vmx: Handler = (c, i) => {
  const sub = i.sub;
  if (sub === VMFUNC) return vmfunc(c, i);
  const v = sub === VMXON ? vmxOf(c) : c.vmx;
  // Outside VMX operation every VMX instruction is #UD; VMXON needs CR4.VMXE.
  if (sub === VMXON ? (c.cr4 & CR4_VMXE) === 0 : v === null || !v.on) throw new CpuFault(UD);
  if (v!.nonRoot) exitFromNonRoot(i, v!);
  const vm = v!;
  if (c.cpl > 0) throw new CpuFault(GP, 0);
  switch (sub) {
    case VMCALL: return setResult(c, ins.vmcall(vm));
    case VMLAUNCH:
    case VMRESUME: {
      const r = ins.enter(vm, sub === VMLAUNCH);
      // On success the CPU runs the guest (or, after a VM-entry failure, the host at
      // HOST_RIP): the VM entry or exit has set RIP and RFLAGS.
      if (r !== VM_SUCCEED && r !== VM_ENTRY_FAILED) setResult(c, r);
      return;
    }
    case VMXOFF: return setResult(c, ins.vmxoff(vm));
    case VMXON: return setResult(c, ins.vmxon(vm, () => readQword(c, c.ea(i))));
    case VMCLEAR: return setResult(c, ins.vmclear(vm, () => readQword(c, c.ea(i))));
    case VMPTRLD: return setResult(c, ins.vmptrld(vm, () => readQword(c, c.ea(i))));
    case VMPTRST: {
      const [lo, hi] = ins.vmptrst(vm);
      c.writeMem(c.ea(i), 8, lo, hi);
      return setResult(c, VM_SUCCEED);
    }
    case VMREAD: {
      const r = ins.vmread(vm, c.lo[i.reg], c.hi[i.reg]);
      if (r.result === VM_SUCCEED) {
        if (i.rm !== NO_REG) c.writeReg(8, i.rm, r.lo, r.hi);
        else c.writeMem(c.ea(i), 8, r.lo, r.hi);
      }
      return setResult(c, r.result);
    }
    case VMWRITE: {
      const lo = c.readE(i), hi = c.h;
      return setResult(c, ins.vmwrite(vm, c.lo[i.reg], c.hi[i.reg], lo, hi));
    }
    case INVEPT:
      return setResult(c, ins.invept(vm, c.lo[i.reg], c.hi[i.reg], () => readQword(c, c.ea(i))));
    case INVVPID:
      return setResult(c, ins.invvpid(vm, c.lo[i.reg], c.hi[i.reg], () => {
        const la = c.ea(i);
        const [low, high] = readQword(c, la);
        const [alo, ahi] = readQword(c, la + 8);
        return [low, high, ahi * 4294967296 + (alo >>> 0)];
      }));
  }
};

export const vmxOps: Record<string, Handler> = { vmx };
