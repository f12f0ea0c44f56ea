// VMX round trips in modeled cycles, measured by running code (a benchmark, not a test):
//   - VMFUNC: a guest goes kernel -> domain -> kernel with two VMFUNCs (EPTP list slots
//     0 and 1, as LVD's trampolines do);
//   - VM exit: a guest CPUID (or VMCALL) through a host that moves RIP past it and
//     resumes, the host being machine code (VMREAD/VMWRITE/VMRESUME) or TypeScript.
// Each loop also runs without the operation measured, and the difference is reported,
// so the loop's own instructions do not count. Primitive costs: src/machine/cost.ts.
// Run: npx tsx bench/vmx.ts [--iterations N]

import { Testbed } from "../test/helpers/vmx.ts";
import { EptBuilder } from "../src/machine/vmx/ept-tables.ts";
import * as F from "../src/machine/vmx/fields.ts";
import { COSTS } from "../src/machine/cost.ts";

const args = process.argv.slice(2);
const k = args.indexOf("--iterations");
const N = k >= 0 ? Number(args[k + 1]) : 10_000;
const RWX = { read: true, write: true, exec: true };

/** Cycles per iteration of a guest loop whose body is `body`, under a host set up by `host`. */
function perIteration(body: string, setup: (t: Testbed) => void, hostAsm?: string): number {
  const guest = `mov r12, ${N}\n1:\n${body}\ndec r12\njnz 1b\nvmcall`;
  const t = hostAsm ? new Testbed(guest, { host: hostAsm, hostRip: 0x100, tsHost: false }) : new Testbed(guest);
  setup(t);
  const start = t.cpu.cycles;
  t.run(100 * N + 1000);
  if (!hostAsm && (t.exits.length === 0 || t.last.reason !== F.EXIT_VMCALL)) throw new Error(`guest did not finish: ${JSON.stringify(t.exits.at(-1))}`);
  return (t.cpu.cycles - start) / N;
}

// ---------------------------------------------------------------- VMFUNC

function vmfuncSetup(t: Testbed): void {
  const domain = new EptBuilder(t.s.mem, () => t.s.allocPage());
  domain.map(0, 0, 32 * 1024 * 1024, RWX, 0x200000);
  const list = t.s.allocPage();
  t.s.mem.writeU64(list, t.ept.eptp());
  t.s.mem.writeU64(list + 8, domain.eptp());
  t.launch({ secondary: F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VPID | F.CPU2_ENABLE_VM_FUNCTIONS },
    [[F.VPID, 1], [F.VM_FUNCTION_CONTROLS, 1], [F.EPTP_LIST_ADDR, list]]);
}
const crossing = "xor eax, eax\nmov ecx, 1\nvmfunc\nxor ecx, ecx\nvmfunc";
const vmfuncLoop = perIteration(crossing, vmfuncSetup);
const vmfuncBase = perIteration("xor eax, eax\nmov ecx, 1\nxor ecx, ecx", vmfuncSetup);

// ---------------------------------------------------------------- VM exits

// The LVD hypervisor runs with VPIDs (reference section 3), so exits and entries keep the
// TLB; without one every exit and entry flushes it and the refills' page walks show up
// (the last row).
const WITH_VPID = { secondary: F.CPU2_ENABLE_VPID };
const launchPlain = (t: Testbed) => void t.launch(WITH_VPID, [[F.VPID, 1]]);
const launchNoVpid = (t: Testbed) => void t.launch();
/** The TypeScript host: every exit but the last VMCALL resumes past the instruction (no other work). */
function tsHost(t: Testbed, launch = launchPlain): void {
  launch(t);
  t.vmx.setHost((exit, vmx) => {
    if (exit.basicReason === F.EXIT_VMCALL && t.cpu.reg64(12) === 0) {
      t.exits.push({ reason: exit.reason } as never);
      return;
    }
    vmx.vmwrite(F.GUEST_RIP, vmx.vmread(F.GUEST_RIP) + vmx.vmread(F.EXIT_INSTRUCTION_LENGTH));
    vmx.vmresume();
  });
}
/** A machine-code host: VMLAUNCH at CODE; at HOST_RIP read the reason, skip the instruction, VMRESUME. */
const ASM_HOST = `
  vmlaunch
  hlt
  .org 0x100
  mov eax, 0x4402
  vmread rbx, rax
  cmp ebx, 18
  jne 1f
  test r12, r12
  jz 2f
1:
  mov eax, 0x440c
  vmread rcx, rax
  mov eax, 0x681e
  vmread rdx, rax
  add rdx, rcx
  vmwrite rax, rdx
  vmresume
2:
  hlt`;
const asmSetup = (t: Testbed) => {
  t.prepare(WITH_VPID);
  t.write(F.VPID, 1);
};

const rows: [string, number, string][] = [];
const base = perIteration("nop", launchPlain);
const cpuidAsm = perIteration("cpuid", asmSetup, ASM_HOST) - perIteration("nop", asmSetup, ASM_HOST);
const vmcallAsm = perIteration("vmcall", asmSetup, ASM_HOST) - perIteration("nop", asmSetup, ASM_HOST);
const cpuidTs = perIteration("cpuid", tsHost) - base;
const vmcallTs = perIteration("vmcall", tsHost) - base;
const noVpidTs = perIteration("cpuid", (t) => tsHost(t, launchNoVpid)) - perIteration("nop", launchNoVpid);
rows.push(
  ["VMFUNC round trip (0 -> 1 -> 0, two VMFUNCs)", vmfuncLoop - vmfuncBase, `reference: 2 x 169 = 338 (Table 1: VMFUNC 169)`],
  ["VM-exit round trip, guest CPUID, assembly host", cpuidAsm, "reference: 1171-1240 per exit (Haswell)"],
  ["VM-exit round trip, guest VMCALL, assembly host", vmcallAsm, ""],
  ["VM-exit round trip, guest CPUID, TypeScript host", cpuidTs, "exit + entry + its 4 VMX instructions (2 VMREAD, VMWRITE, VMRESUME)"],
  ["VM-exit round trip, guest VMCALL, TypeScript host", vmcallTs, ""],
  ["... guest CPUID, TypeScript host, no VPID", noVpidTs, "TLB flushed on exit and entry: refill walks"],
);

console.log(`Modeled cycles (primitives: vmfunc ${COSTS.vmfunc}, vmexit ${COSTS.vmexit}, vmentry ${COSTS.vmentry}, vmx instruction ${COSTS.vmx}); ${N} iterations each\n`);
for (const [name, cycles, note] of rows) console.log(`${name.padEnd(52)} ${cycles.toFixed(1).padStart(8)}   ${note}`);
