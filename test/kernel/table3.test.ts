import { describe, it, expect } from "vitest";
import { runKernel } from "../helpers/kernel.ts";
import { domainFromC } from "../helpers/lvd.ts";
import { table3, type Table3Row } from "../../src/kernel/tables/table3.ts";
import { COSTS } from "../../src/machine/cost.ts";

const SPIN = "drivers/bench/interrupt_spin.c";

function measure(exitless: boolean): Table3Row[] {
  let rows: Table3Row[] = [];
  const r = runKernel(function* (k) {
    rows = yield* table3(k, domainFromC(SPIN));
  }, { exitless, budget: 400_000_000 });
  expect(r.run.stop).toBe("exit");
  expect(r.k.stats.oopses).toBe(0);
  return rows;
}

describe("Table 3: interrupt delivery measured by running the entry code", () => {
  it("orders the configurations as the paper does: vanilla < exitless entry < inside a domain; virtualization costs little", () => {
    const [vanilla, vanillaVirt] = measure(false);
    const [lvd, lvdVirt, domain] = measure(true);
    for (const r of [vanilla, vanillaVirt, lvd, lvdVirt, domain]) {
      expect(r.interrupts).toBeGreaterThan(100); // a figure over many interrupts, not one
      expect(r.ours).toBeGreaterThan(100); // delivery, the entry code, EOI and IRETQ: not free
    }
    // The IST entry does more than the vanilla one (it checks where the interrupt came from, copies the frame).
    expect(lvd.ours).toBeGreaterThan(vanilla.ours);
    expect(lvd.ours - vanilla.ours).toBeLessThan(200);
    // Virtualization adds no exit, only dearer page walks under EPT: a few percent at most.
    expect(vanillaVirt.ours).toBeGreaterThanOrEqual(vanilla.ours);
    expect(vanillaVirt.ours).toBeLessThan(vanilla.ours * 1.15);
    expect(lvdVirt.ours).toBeGreaterThanOrEqual(lvd.ours);
    expect(lvdVirt.ours).toBeLessThan(lvd.ours * 1.15);
    // Inside a domain: two VMFUNCs (the model's input) and the frame copies on top of the same
    // kernel entry; more than the VMFUNCs alone, far less than a VM exit and entry would add.
    expect(domain.ours - lvdVirt.ours).toBeGreaterThan(2 * COSTS.vmfunc);
    expect(domain.ours - lvdVirt.ours).toBeLessThan(2 * COSTS.vmfunc + 200);
    expect(domain.ours - lvdVirt.ours).toBeLessThan(COSTS.vmexit + COSTS.vmentry);
  }, 60_000);
});
