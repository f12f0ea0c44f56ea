// Interrupts between vCPUs and from devices: fixed and NMI IPIs, shorthands, logical and
// lowest-priority destinations, INIT/SIPI startup, MSI.

import { describe, it, expect } from "vitest";
import { smp, DATA, APIC, type Smp } from "../helpers/smp.ts";
import { DM_FIXED, type InterruptMessage, type LocalApic } from "../../src/machine/apic.ts";

const H = 0x110000;
const READY = DATA + 0x40;
/** Per-vCPU interrupt counts at DATA + 4 * id. */
const counts = (s: Smp, n: number) => Array.from({ length: n }, (_, k) => s.read32(DATA + 4 * k));
const EOI = `push rax\nmov rax, ${APIC + 0xb0}\nmov dword ptr [rax], 0\npop rax`;
/** Counts the interrupt on the vCPU that takes it (RDI = its index, set at start). */
const COUNT = `lock inc dword ptr [rdi * 4 + ${DATA}]\n${EOI}\niretq`;

/**
 * Every vCPU enables its APIC (RSI = its page), runs `setup`, says it is ready and
 * (the APs) waits in `sti; hlt`; the BSP waits for all, runs `send`, waits until
 * `expected` interrupts were counted in all, and ends the run through the exit port.
 */
function program(cpus: number, send: string, expected: number, setup = ""): string {
  return `
    mov rsi, ${APIC}
    mov dword ptr [rsi + 0xf0], 0x1ff
    ${setup}
    lock inc dword ptr [${READY}]
    test edi, edi
    jnz 3f
  1:
    pause
    cmp dword ptr [${READY}], ${cpus}
    jne 1b
    ${send}
    sti
  2:
    xor eax, eax
    ${Array.from({ length: cpus }, (_, k) => `add eax, [${DATA + 4 * k}]`).join("\n")}
    cmp eax, ${expected}
    jne 2b
    out 0xf4, eax
  3:
    sti
    hlt
    jmp 3b`;
}

/** ICR high (destination in 31:24) then low (which sends). */
const icr = (dest: number, lo: number) => `mov dword ptr [rsi + 0x310], ${dest << 24}\nmov dword ptr [rsi + 0x300], ${lo}`;

describe("IPIs", () => {
  it("a fixed IPI reaches the addressed vCPU and wakes its HLT", () => {
    const s = smp(program(2, icr(1, 0x44), 1), { cpus: 2 });
    s.handler(0x44, H, COUNT);
    expect(s.run().stop).toBe("exit");
    expect(counts(s, 2)).toEqual([0, 1]);
  });

  it("an NMI IPI reaches a vCPU halted with IF=0", () => {
    const s = smp(`
      mov rsi, ${APIC}
      mov dword ptr [rsi + 0xf0], 0x1ff
      test edi, edi
      jnz 3f
      ${icr(1, 0x400)}
    1:
      cmp dword ptr [${DATA + 4}], 1
      jne 1b
      out 0xf4, eax
    3:
      cli
      hlt
      jmp 3b`, { cpus: 2 });
    s.handler(2, H, `lock inc dword ptr [rdi * 4 + ${DATA}]\niretq`);
    expect(s.run().stop).toBe("exit");
    expect(counts(s, 2)).toEqual([0, 1]);
  });

  it("shorthands: all excluding self, all including self", () => {
    const others = smp(program(4, `mov dword ptr [rsi + 0x300], ${(3 << 18) | 0x44}`, 3), { cpus: 4 });
    others.handler(0x44, H, COUNT);
    expect(others.run().stop).toBe("exit");
    expect(others.run(100_000).stop).toBe("idle"); // nothing else arrives
    expect(counts(others, 4)).toEqual([0, 1, 1, 1]);

    const all = smp(program(4, `mov dword ptr [rsi + 0x300], ${(2 << 18) | 0x44}`, 4), { cpus: 4 });
    all.handler(0x44, H, COUNT);
    expect(all.run().stop).toBe("exit");
    expect(all.run(100_000).stop).toBe("idle"); // nothing else arrives
    expect(counts(all, 4)).toEqual([1, 1, 1, 1]);
  });

  it("logical flat destinations select by LDR bit; lowest priority picks the lowest TPR", () => {
    // Each vCPU's logical ID is 1 << its index; TPRs 0x00, 0x30, 0x10, 0x20.
    const setup = `
      mov ecx, edi
      mov eax, 1
      shl eax, cl
      shl eax, 24
      mov [rsi + 0xd0], eax
      mov eax, edi
      imul eax, eax, 0x10
      cmp edi, 1
      jne 4f
      mov eax, 0x30
    4:
      mov [rsi + 0x80], eax`;
    const logical = smp(program(4, icr(0b0110, 0x800 | 0x44), 2, setup), { cpus: 4 });
    logical.handler(0x44, H, COUNT);
    expect(logical.run().stop).toBe("exit");
    expect(logical.run(100_000).stop).toBe("idle"); // nothing else arrives
    expect(counts(logical, 4)).toEqual([0, 1, 1, 0]);

    const lowest = smp(program(4, icr(0b1110, 0x800 | 0x100 | 0x44), 1, setup), { cpus: 4 });
    lowest.handler(0x44, H, COUNT);
    expect(lowest.run().stop).toBe("exit");
    expect(lowest.run(100_000).stop).toBe("idle"); // nothing else arrives
    expect(counts(lowest, 4)).toEqual([0, 0, 1, 0]); // TPR 0x10 beats 0x20 and 0x30
  });

  it("INIT then SIPI starts an AP in long mode at vector * 4096 (the machine's boot protocol)", () => {
    const s = smp(`
      mov rsi, ${APIC}
      mov dword ptr [rsi + 0xf0], 0x1ff
      ${icr(1, 0x4500)}
      ${icr(1, 0x4610)}
    1:
      cmp dword ptr [${DATA}], 0x600d
      jne 1b
      out 0xf4, eax
      hlt`, { cpus: 2, start: "bsp" });
    s.load(0x10000, `mov dword ptr [${DATA}], 0x600d\nmov [${DATA + 8}], rsp\ncli\nhlt`);
    expect(s.apic(1).waitingForSipi).toBe(true);
    expect(s.run().stop).toBe("exit");
    expect(s.read32(DATA)).toBe(0x600d);
    expect(s.apic(1).waitingForSipi).toBe(false);
    expect(s.cpu(1).cr3).toBe(s.cpu(0).cr3);
  });

  it("a SIPI without INIT does nothing to a running vCPU", () => {
    const s = smp(program(2, icr(1, 0x4610), 0), { cpus: 2 });
    s.load(0x10000, `mov dword ptr [${DATA + 8}], 1\nhlt`);
    expect(s.run().stop).toBe("exit");
    expect(s.read32(DATA + 8)).toBe(0);
  });
});

describe("MSI", () => {
  it("a device's message reaches the vCPU its address names (physical, and logical with the hint)", () => {
    const s = smp(`
      mov rsi, ${APIC}
      mov dword ptr [rsi + 0xf0], 0x1ff
      mov ecx, edi
      mov eax, 1
      shl eax, cl
      shl eax, 24
      mov [rsi + 0xd0], eax
    3:
      sti
      hlt
      jmp 3b`, { cpus: 4 });
    s.handler(0x45, H, COUNT);
    expect(s.run(10_000).stop).toBe("idle");
    s.m.msi(0xfee00000 | (2 << 12), 0x45);
    expect(s.run(10_000).stop).toBe("idle");
    expect(counts(s, 4)).toEqual([0, 0, 1, 0]);
    // Redirection hint + logical: destination is a mask of logical IDs.
    s.m.msi(0xfee00000 | (0b1001 << 12) | 8 | 4, 0x45);
    s.run(10_000);
    expect(counts(s, 4)).toEqual([1, 0, 1, 1]);
    // Not an interrupt address: ignored.
    s.m.msi(0xfed00000, 0x45);
    s.run(10_000);
    expect(counts(s, 4)).toEqual([1, 0, 1, 1]);
  });
});

describe("destination decoding", () => {
  const msg = (o: Partial<InterruptMessage>): InterruptMessage => ({
    vector: 0x50, mode: DM_FIXED, logical: false, dest: 0, x2apic: false, shorthand: 0, levelTriggered: false, assert: true, ...o,
  });
  const requested = (s: Smp) => s.m.apics.map((a) => (a.irr[2] >>> 16) & 1);
  function machine(cpus: number): Smp {
    const s = smp(`hlt`, { cpus });
    for (const a of s.m.apics) apicOn(a);
    return s;
  }
  const apicOn = (a: LocalApic) => a.cpu.writePhys(APIC + 0xf0, 4, 0x1ff, 0);

  it("xAPIC physical (0xFF broadcasts) and cluster model logical", () => {
    const s = machine(4);
    s.m.router.send(null, msg({ dest: 3 }));
    expect(requested(s)).toEqual([0, 0, 0, 1]);
    s.m.router.send(null, msg({ dest: 0xff, vector: 0x51 }));
    expect(s.m.apics.map((a) => (a.irr[2] >>> 17) & 1)).toEqual([1, 1, 1, 1]);

    const c = machine(4);
    // Cluster model: cluster 1 holds vCPUs 0 and 1 (bits 0, 1), cluster 2 holds 2 and 3.
    c.m.apics.forEach((a, k) => {
      a.cpu.writePhys(APIC + 0xe0, 4, 0x0fffffff, 0);
      a.cpu.writePhys(APIC + 0xd0, 4, (((k < 2 ? 1 : 2) << 4) | (1 << (k & 1))) << 24, 0);
    });
    c.m.router.send(null, msg({ logical: true, dest: 0x22 })); // cluster 2, member bit 1
    expect(requested(c)).toEqual([0, 0, 0, 1]);
  });

  it("x2APIC: 32-bit physical IDs, 0xFFFFFFFF broadcasts, logical by cluster and 16-bit mask", () => {
    const s = machine(20);
    s.m.router.send(null, msg({ x2apic: true, dest: 17 }));
    expect(requested(s).indexOf(1)).toBe(17);
    const t = machine(20);
    t.m.router.send(null, msg({ x2apic: true, logical: true, dest: (1 << 16) | 0b101 })); // cluster 1: IDs 16..31
    expect(requested(t).flatMap((v, k) => (v ? [k] : []))).toEqual([16, 18]);
    const u = machine(3);
    u.m.router.send(null, msg({ x2apic: true, dest: 0xffffffff }));
    expect(requested(u)).toEqual([1, 1, 1]);
  });

  it("illegal vectors (below 16) are errors in ESR, latched by an ESR write; the error LVT fires", () => {
    const s = machine(2);
    const c0 = s.cpu(0), c1 = s.cpu(1);
    c1.writePhys(APIC + 0x370, 4, 0x4e, 0); // error LVT: vector 0x4E
    c0.writePhys(APIC + 0x310, 4, 1 << 24, 0);
    c0.writePhys(APIC + 0x300, 4, 0x05, 0); // fixed IPI of vector 5 to vCPU 1
    c0.writePhys(APIC + 0x280, 4, 0, 0);
    expect(c0.readPhys(APIC + 0x280, 4)).toBe(0x20); // send illegal vector
    s.m.router.send(null, msg({ dest: 1, vector: 7 }));
    c1.writePhys(APIC + 0x280, 4, 0, 0);
    expect(c1.readPhys(APIC + 0x280, 4)).toBe(0x40); // receive illegal vector
    expect(s.apic(1).deliverableVector()).toBe(0x4e);
    expect(s.apic(1).irr[0]).toBe(0);
  });
});
