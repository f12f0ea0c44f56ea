// VMX instructions (decode-table sub-operations): 0 VMCALL, 1 VMLAUNCH, 2 VMRESUME,
// 3 VMXOFF, 4 VMFUNC, 5 VMPTRLD, 6 VMCLEAR, 7 VMXON, 8 VMPTRST, 9 VMREAD, 10 VMWRITE,
// 11 INVEPT, 12 INVVPID.
//
// VMX is not present yet (CPUID.1:ECX.VMX = 0, see VMX_SUPPORTED in cpuid.ts), and outside
// VMX operation every one of these raises #UD — VMCALL included. The next issue
// implements VMX operation here: VMXON/VMXOFF, the VMCS instructions, VM entry and exit,
// and VMCALL/VMFUNC in VMX non-root operation; the capability MSRs go in
// VMX_CAPABILITIES (msr.ts).

import type { Handler } from "./index.ts";

export const VMCALL = 0, VMLAUNCH = 1, VMRESUME = 2, VMXOFF = 3, VMFUNC = 4, VMPTRLD = 5, VMCLEAR = 6;
export const VMXON = 7, VMPTRST = 8, VMREAD = 9, VMWRITE = 10, INVEPT = 11, INVVPID = 12;

const vmx: Handler = (c, i) => c.undefinedOpcode(`VMX instruction ${i.sub} outside VMX operation`);

export const vmxOps: Record<string, Handler> = { vmx };
