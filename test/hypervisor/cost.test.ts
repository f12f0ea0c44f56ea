// What virtualization costs emerges from the primitives: a VM exit, a VM entry, and the
// VMX instructions the exit path executes (charged by the Vmx API), on top of the
// emulated instruction's own cost. Nothing is typed in.

import { describe, it, expect } from "vitest";
import { Harness, LAUNCH_SELF } from "./harness.ts";
import { COSTS } from "../../src/machine/cost.ts";

/** Cycles per iteration of a loop of `body`, natively or after the launch (difference of two loop lengths). */
function perIteration(body: string, launched: boolean, exits?: Map<string, number>): number {
  const cycles = (n: number) => {
    const h = new Harness(`
      ${launched ? LAUNCH_SELF : ""}
      mov r12, ${n}
    1:
      ${body}
      dec r12
      jnz 1b
      out 0xf4, al`, { watchdogCycles: 2 ** 36 });
    expect(h.run().stop).toBe("exit");
    expect(h.hv.incidents).toEqual([]);
    for (const [name, count] of h.hv.exitCounts()) exits?.set(name, (exits.get(name) ?? 0) + count);
    return h.cpu().cycles;
  };
  return (cycles(400) - cycles(200)) / 200;
}

const WRMSR = "mov ecx, 0xc0000103\nxor eax, eax\nxor edx, edx\nwrmsr";
const OUT = "mov al, 1\nout 0x70, al";

describe("exit costs", () => {
  it("an emulated WRMSR costs one exit round trip more than the native one: exit + entry + 7 VMX instructions", () => {
    const native = perIteration(WRMSR, false), virtualized = perIteration(WRMSR, true);
    // VMREAD reason, VMREAD EPT pointer (from the kernel?), VMREAD length, VMREAD RIP,
    // VMREAD interruptibility, VMWRITE RIP, VMRESUME.
    expect(virtualized - native).toBe(COSTS.vmexit + COSTS.vmentry + 7 * COSTS.vmx);
  });

  it("an emulated OUT also reads its qualification: one VMREAD more", () => {
    const native = perIteration(OUT, false), virtualized = perIteration(OUT, true);
    expect(virtualized - native).toBe(COSTS.vmexit + COSTS.vmentry + 8 * COSTS.vmx);
  });

  it("a MOV to CR3 of a target value does not exit: what it costs more is the 2-D page walks that refill the TLB", () => {
    const body = "mov rax, cr3\nmov cr3, rax";
    const exits = new Map<string, number>();
    const native = perIteration(body, false), virtualized = perIteration(body, true, exits);
    expect(exits.get("CR_ACCESS")).toBeUndefined();
    expect(virtualized).toBeGreaterThan(native);
    expect(virtualized - native).toBeLessThan(COSTS.vmexit);
  });
});
