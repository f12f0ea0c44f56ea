// CR3 loads: the CR3-target list as an LRU cache, and the TLB effects of a load.

import { describe, it, expect } from "vitest";
import { Harness, DATA, LAUNCH_SELF } from "./harness.ts";
import { HC_READ_COUNTER } from "../../src/hypervisor/hypercalls.ts";
import { EXIT_CR_ACCESS } from "../../src/machine/vmx/fields.ts";
import { Cr3Cache } from "../../src/hypervisor/cr3-cache.ts";

/** A copy of the root page table at a new page: another CR3 value with the same mappings. */
function rootCopy(h: Harness): number {
  const pa = h.allocPage();
  h.m.mem.load(pa, h.m.mem.bytes.slice(h.pt.root, h.pt.root + 4096));
  return pa;
}

/** The physical address of the 4 KB leaf entry that maps `va` in the harness's tables. */
function pteOf(h: Harness, va: number): number {
  let table = h.pt.root;
  for (const shift of [39, 30, 21]) {
    const e = table + (Math.floor(va / 2 ** shift) & 511) * 8;
    table = h.m.mem.readU64(e) & 0xfffff000;
  }
  return table + (Math.floor(va / 4096) & 511) * 8;
}

describe("CR3-target list as an LRU cache", () => {
  it("loads of a target do not exit; a fifth distinct value exits and evicts the least recently used one", () => {
    const h = new Harness("");
    const R = h.pt.root, B = rootCopy(h), C = rootCopy(h), D = rootCopy(h), E = rootCopy(h);
    const sequence = [B, C, D, C, B, R, D, E, B, R, C];
    const load = (cr3: number) => `
      mov rax, ${cr3}
      mov cr3, rax
      mov ebx, ${EXIT_CR_ACCESS}
      mov eax, ${HC_READ_COUNTER}
      cpuid
      mov [r12], rax
      add r12, 8`;
    h.load(0x100000, `${LAUNCH_SELF}\nmov r12, ${DATA}\n${sequence.map(load).join("\n")}\nhlt`);
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    const counts = sequence.map((_, k) => h.u64(DATA + 8 * k));
    // B, C, D fill the four slots (with the launch CR3); C, B, R, D hit; E evicts R (least
    // recently used: the kernel left it first); B hits; R comes back by evicting C; C misses.
    expect(counts).toEqual([1, 2, 3, 3, 3, 3, 3, 4, 4, 5, 6]);
    expect(h.cpu().cr3).toBe(C);
  });

  it("an exiting load flushes the non-global translations of the VPID, like a native load; global ones stay", () => {
    const X = DATA + 0x5000, Y = DATA + 0x6000;
    const h = new Harness("");
    h.pt.map(0x40000000, X, 4096, { write: true });
    h.pt.map(0x40001000, X, 4096, { write: true, global: true });
    const R = h.pt.root, B = rootCopy(h);
    const pte = pteOf(h, 0x40000000), gpte = pteOf(h, 0x40001000);
    h.m.mem.writeU64(X, 0x1111);
    h.m.mem.writeU64(Y, 0x2222);
    h.load(0x100000, `
      mov rax, cr4
      or rax, 0x80
      mov cr4, rax
      ${LAUNCH_SELF}
      mov rax, [0x40000000]
      mov [${DATA}], rax
      mov rax, [0x40001000]
      mov [${DATA + 8}], rax
      mov rax, [${pte}]
      add rax, ${Y - X}
      mov [${pte}], rax
      mov rax, [${gpte}]
      add rax, ${Y - X}
      mov [${gpte}], rax
      mov rax, [0x40000000]
      mov [${DATA + 16}], rax
      mov rax, ${B}
      mov cr3, rax
      mov rax, [0x40000000]
      mov [${DATA + 24}], rax
      mov rax, [0x40001000]
      mov [${DATA + 32}], rax
      mov rax, [${pte}]
      sub rax, ${Y - X}
      mov [${pte}], rax
      mov rax, ${R}
      mov cr3, rax
      mov rax, [0x40000000]
      mov [${DATA + 40}], rax
      hlt`);
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    const seen = [0, 8, 16, 24, 32, 40].map((o) => h.u64(DATA + o));
    // Stale until the load; B (a miss, emulated) flushes the non-global entry only; R (a
    // target, no exit) flushes natively.
    expect(seen).toEqual([0x1111, 0x1111, 0x1111, 0x2222, 0x1111, 0x1111]);
    expect(h.hv.exitCounts(0).get("CR_ACCESS")).toBe(1);
  });

  it("the cache keeps at most its capacity and evicts by last use (unit)", () => {
    const c = new Cr3Cache(2, { lo: 1, hi: 0 });
    expect(c.insert(2, 0)).toEqual({ slot: 1, evicted: null });
    c.touch(1, 0);
    expect(c.insert(3, 0)).toEqual({ slot: 1, evicted: { lo: 2, hi: 0 } });
    expect(c.find(1, 0)).toBe(0);
    expect(c.count).toBe(2);
  });
});
