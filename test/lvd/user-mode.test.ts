// Ring 3 beside domains: a user-mode VMFUNC cannot reach a domain's EPT (slot 1 of the
// EPTP list is invalid outside a crossing, so VMFUNC 1 exits and the hypervisor upcalls;
// VMFUNC 0 leaves it where it is), and interrupts from ring 3 run on the kernel stack the
// thread left, never on the user's.

import { describe, it, expect } from "vitest";
import { runLvd, domainFromC } from "../helpers/lvd.ts";
import { KIND, header } from "../../src/kernel/lvd/lvd.ts";
import { USER_VMFUNC } from "../../src/cli/attack.ts";
import { runUser, releaseUser, USER_STACK_TOP } from "../../src/kernel/user-mode.ts";
import { PAGE, phys2virt } from "../../src/kernel/layout.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";
import type { KernelPath } from "../../src/kernel/thread.ts";

const CALLS = "drivers/tests/domain_calls.c";
const { toSlot1: VMFUNC_1, toSlot0: VMFUNC_0 } = USER_VMFUNC;
// mov $N, %ecx; 1: dec %ecx; jnz 1b; ud2  (a spin with interrupts on)
const spinThenUd2 = (n: number) => [0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x0b];

/** Runs `code` in ring 3 in a thread of its own; returns why the kernel stopped it. */
function* inRing3(k: Kernel, code: number[]): KernelPath<string | null> {
  const t = k.spawn("user", () => runUser(k, new Uint8Array(code)), 0);
  yield* k.join(t);
  releaseUser(k);
  return t.killed;
}

describe("ring 3 beside domains", () => {
  it("a user-mode VMFUNC to slot 1 exits (no domain's EPT is there outside a crossing) and stops the thread; VMFUNC 0 changes nothing", () => {
    const why: (string | null)[] = [];
    let sum = 0n;
    const r = runLvd(function* (k, lvd) {
      const d = (yield* lvd.create("calls", domainFromC(CALLS))).domain;
      why.push(yield* inRing3(k, VMFUNC_1));
      why.push(yield* inRing3(k, VMFUNC_0));
      sum = (yield* lvd.call(d, [header(KIND.RPC_PTR, 1, 3), 2n, 3n]))[1]; // add(2, 3): the domain is unharmed
    });
    expect(r.run.stop).toBe("exit");
    expect(why[0]).toMatch(/hypervisor upcall: VMFUNC.*exit reason 59/);
    expect(why[1]).toMatch(/#UD/); // the ud2 after a VMFUNC that stayed in EPT_K
    expect(sum).toBe(5n);
    expect(r.k.stats.oopses).toBe(2);
  });

  it("interrupts from ring 3 run on the kernel stack the thread left: the user's stack is never written", () => {
    let stackUntouched = false;
    let why: string | null = null;
    const r = runLvd(function* (k) {
      const before = k.interrupts.counts.get(0x20) ?? 0;
      const t = k.spawn("user", () => runUser(k, new Uint8Array(spinThenUd2(200_000))), 0);
      yield* k.join(t);
      why = t.killed;
      expect((k.interrupts.counts.get(0x20) ?? 0) - before).toBeGreaterThan(2);
      const stackPage = k.kernelMm.lookup(USER_STACK_TOP - PAGE);
      stackUntouched = k.mem.readBytes(phys2virt(stackPage), PAGE).every((b) => b === 0);
      releaseUser(k);
    });
    expect(r.run.stop).toBe("exit");
    expect(why).toMatch(/#UD/);
    expect(stackUntouched).toBe(true);
  });
});
