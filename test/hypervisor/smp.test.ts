// Several vCPUs: launched one after the other while all of them run.

import { describe, it, expect } from "vitest";
import { Harness, DATA } from "./harness.ts";
import { readMsr, IA32_TSC_AUX } from "../../src/machine/cpu/ops/msr.ts";
import * as F from "../../src/machine/vmx/fields.ts";

describe("SMP", () => {
  it("four vCPUs launched one after the other while running keep working; each gets its own VPID and EPT_K", () => {
    const N = 1500;
    const h = new Harness(`
      mov r8, ${N}
    1:
      inc qword ptr [${DATA} + rdi * 8]
      lock inc qword ptr [${DATA + 0x100}]
      mov ecx, 0xc0000103
      mov eax, edi
      add eax, 0x100
      xor edx, edx
      wrmsr
      dec r8
      jnz 1b
      hlt`, { cpus: 4 });
    const launchedAt: number[] = [];
    for (let k = 0; k < 4; k++) {
      h.run(2500);
      launchedAt.push(h.u64(DATA + 0x100));
      h.hv.launch(h.cpu(k));
    }
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    // Launches happened while the vCPUs were mid-loop, and no increment was lost.
    expect(launchedAt.every((n, k) => n > 0 && n < 4 * N && (k === 0 || n > launchedAt[k - 1]))).toBe(true);
    expect(h.u64(DATA + 0x100)).toBe(4 * N);
    const vpids = new Set<number>(), eptps = new Set<number>();
    for (let k = 0; k < 4; k++) {
      expect(h.u64(DATA + 8 * k)).toBe(N);
      const cpu = h.cpu(k);
      expect(h.hv.isLaunched(k)).toBe(true);
      expect(cpu.vmx!.nonRoot).toBe(true);
      expect(readMsr(cpu, IA32_TSC_AUX)[0]).toBe(0x100 + k);
      expect(h.hv.exitCounts(k).get("WRMSR")!).toBeGreaterThan(0);
      vpids.add(cpu.vmx!.vmcs.get(F.VPID));
      eptps.add(h.hv.kernelEptp(k));
    }
    expect(vpids.size).toBe(4);
    expect(eptps.size).toBe(4);
    // The totals are the sum of the vCPUs' counts.
    const total = [0, 1, 2, 3].reduce((s, k) => s + h.hv.exitCounts(k).get("WRMSR")!, 0);
    expect(h.hv.exitCounts().get("WRMSR")).toBe(total);
    expect(total).toBeLessThan(4 * N);
  });
});
