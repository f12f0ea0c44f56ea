// The local APIC: timer modes, priorities (TPR, PPR, ISR nesting, EOI), self-IPIs,
// the xAPIC page and the x2APIC MSRs.

import { describe, it, expect } from "vitest";
import { smp, CODE, DATA, APIC, type Smp } from "../helpers/smp.ts";
import { COSTS } from "../../src/machine/cost.ts";
import { CpuFault, GP, RBX, type Cpu } from "../../src/machine/cpu/cpu.ts";
import { readMsr, writeMsr, IA32_APIC_BASE, IA32_TSC_DEADLINE } from "../../src/machine/cpu/ops/msr.ts";
import {
  APIC_SVR, APIC_TIMER_DIVIDE, APIC_LVT_TIMER, APIC_TIMER_INITIAL, APIC_TIMER_CURRENT, APIC_TPR, APIC_PPR,
  APIC_VERSION, APIC_ID, APIC_ISR, APIC_IRR, LVT_MASKED, APIC_BASE_EN, APIC_BASE_EXTD,
} from "../../src/machine/apic.ts";

const H = 0x110000;
const COUNT = DATA + 0x100, STAMPS = DATA;
const EOI = `push rax\nmov rax, ${APIC + 0xb0}\nmov dword ptr [rax], 0\npop rax`;
/** A timer handler: stores the TSC of each interrupt at STAMPS[count], counts, EOIs. */
const STAMP = `
  rdtsc
  mov ecx, [${COUNT}]
  mov [${STAMPS} + rcx * 4], eax
  inc dword ptr [${COUNT}]
  ${EOI}
  iretq`;

const apicWrite = (c: Cpu, reg: number, v: number) => c.writePhys(APIC + reg, 4, v, 0);
const apicRead = (c: Cpu, reg: number) => c.readPhys(APIC + reg, 4) >>> 0;
const stamps = (s: Smp) => Array.from({ length: s.read32(COUNT) }, (_, k) => s.read32(STAMPS + 4 * k));

/** One vCPU spinning with IF=1 (1 cycle per instruction) and the APIC software-enabled. */
function spinning(): Smp {
  const s = smp(`sti\n1: jmp 1b`);
  s.handler(0x40, H, STAMP);
  apicWrite(s.cpu(0), APIC_SVR, 0x1ff);
  s.warm(0, 0x40, [DATA, APIC]);
  return s;
}

function gpOf(f: () => unknown): boolean {
  try {
    f();
  } catch (e) {
    return e instanceof CpuFault && e.vector === GP;
  }
  return false;
}

describe("APIC timer", () => {
  it("one-shot fires once, at initial count x divisor core cycles after the load", () => {
    const s = spinning();
    const c = s.cpu(0);
    apicWrite(c, APIC_TIMER_DIVIDE, 0x3); // divide by 16
    apicWrite(c, APIC_LVT_TIMER, 0x40);
    apicWrite(c, APIC_TIMER_INITIAL, 100);
    const start = c.cycles;
    s.run(500);
    expect(s.read32(COUNT)).toBe(0);
    expect(apicRead(c, APIC_TIMER_CURRENT)).toBe(100 - Math.floor((c.cycles - start) / 16));
    s.run(20000);
    expect(stamps(s)).toEqual([start + 1600 + COSTS.interrupt]);
    expect(apicRead(c, APIC_TIMER_CURRENT)).toBe(0);
  });

  it("periodic fires every period", () => {
    const s = spinning();
    const c = s.cpu(0);
    apicWrite(c, APIC_TIMER_DIVIDE, 0xb); // divide by 1
    apicWrite(c, APIC_LVT_TIMER, 0x40 | (1 << 17));
    apicWrite(c, APIC_TIMER_INITIAL, 700);
    const start = c.cycles;
    s.run(3000);
    const t = stamps(s);
    expect(t.length).toBeGreaterThanOrEqual(3);
    t.forEach((v, k) => expect(v).toBe(start + 700 * (k + 1) + COSTS.interrupt));
  });

  it("TSC-deadline fires at the deadline and disarms; writing 0 disarms; other modes ignore the MSR", () => {
    const s = spinning();
    const c = s.cpu(0);
    writeMsr(c, IA32_TSC_DEADLINE, c.cycles + 100, 0); // one-shot mode: ignored
    expect(readMsr(c, IA32_TSC_DEADLINE)).toEqual([0, 0]);
    apicWrite(c, APIC_LVT_TIMER, 0x40 | (2 << 17));
    const deadline = c.cycles + 2500;
    writeMsr(c, IA32_TSC_DEADLINE, deadline, 0);
    expect(readMsr(c, IA32_TSC_DEADLINE)).toEqual([deadline, 0]);
    s.run(10000);
    expect(stamps(s)).toEqual([deadline + COSTS.interrupt]);
    expect(readMsr(c, IA32_TSC_DEADLINE)).toEqual([0, 0]);

    writeMsr(c, IA32_TSC_DEADLINE, c.cycles + 500, 0);
    writeMsr(c, IA32_TSC_DEADLINE, 0, 0);
    s.run(10000);
    expect(s.read32(COUNT)).toBe(1);
  });

  it("a masked LVT timer raises nothing", () => {
    const s = spinning();
    const c = s.cpu(0);
    apicWrite(c, APIC_LVT_TIMER, 0x40 | LVT_MASKED);
    apicWrite(c, APIC_TIMER_INITIAL, 50);
    s.run(2000);
    expect(s.read32(COUNT)).toBe(0);
    expect(apicRead(c, APIC_IRR + 0x20) & 1).toBe(0);
    expect(apicRead(c, APIC_LVT_TIMER)).toBe(0x40 | LVT_MASKED);
  });

  it("wakes a HLT; an idle machine skips time to the deadline", () => {
    const s = smp(`sti\nhlt\ncli\nhlt`);
    s.handler(0x40, H, STAMP);
    const c = s.cpu(0);
    apicWrite(c, APIC_SVR, 0x1ff);
    apicWrite(c, APIC_TIMER_DIVIDE, 0xb);
    apicWrite(c, APIC_LVT_TIMER, 0x40);
    s.warm(0, 0x40, [DATA, CODE]);
    apicWrite(c, APIC_TIMER_INITIAL, 5_000_000);
    const start = c.cycles;
    expect(s.run().stop).toBe("idle");
    expect(stamps(s)).toEqual([start + 5_000_000 + COSTS.interrupt]);
    expect(c.instructions).toBeLessThan(20);
  });

  it("a software-disabled APIC keeps its LVTs masked", () => {
    const s = smp(`hlt`);
    const c = s.cpu(0);
    apicWrite(c, APIC_LVT_TIMER, 0x40);
    expect(apicRead(c, APIC_LVT_TIMER)).toBe(0x40 | LVT_MASKED);
    apicWrite(c, APIC_SVR, 0x1ff);
    apicWrite(c, APIC_LVT_TIMER, 0x40);
    expect(apicRead(c, APIC_LVT_TIMER)).toBe(0x40);
  });
});

describe("priorities", () => {
  const LOG = DATA + 0x200, IDX = DATA + 0x1f0;
  const log = (v: number) => `push rax\nmov eax, [${IDX}]\nmov byte ptr [rax + ${LOG}], ${v}\ninc dword ptr [${IDX}]\npop rax`;
  const selfIpi = (v: number) => `mov dword ptr [rsi + 0x300], ${0x40000 | v}`;
  const logged = (s: Smp) => Array.from({ length: s.read32(IDX) }, (_, k) => s.m.mem.read8(LOG + k));
  const simple = (s: Smp, v: number) => s.handler(v, H + v * 0x100, `${log(v)}\n${EOI}\niretq`);

  it("the highest class goes first; a higher class nests, the same class waits for EOI", () => {
    const s = smp(`
      mov rsi, ${APIC}
      mov dword ptr [rsi + 0xf0], 0x1ff
      ${selfIpi(0x50)}
      ${selfIpi(0x60)}
      ${selfIpi(0x41)}
      sti
      nop
      cli
      hlt`);
    for (const v of [0x50, 0x41, 0x65]) simple(s, v);
    s.handler(0x60, H + 0x6000, `
      ${log(0x60)}
      sti
      ${selfIpi(0x70)}
      ${selfIpi(0x65)}
      nop
      ${log(0xe0)}
      cli
      ${EOI}
      iretq`);
    s.handler(0x70, H + 0x7000, `
      ${log(0x70)}
      mov eax, [rsi + 0x130]
      mov [${DATA + 0x1e0}], eax
      mov eax, [rsi + 0xa0]
      mov [${DATA + 0x1e4}], eax
      ${EOI}
      iretq`);
    expect(s.run().stop).toBe("idle");
    expect(logged(s)).toEqual([0x60, 0x70, 0xe0, 0x65, 0x50, 0x41]);
    expect(s.read32(DATA + 0x1e0)).toBe(0x10001); // ISR: 0x60 and 0x70 in service
    expect(s.read32(DATA + 0x1e4)).toBe(0x70); // PPR
  });

  it("TPR (and CR8, its top bits) holds back lower classes until lowered", () => {
    const s = smp(`
      mov rsi, ${APIC}
      mov dword ptr [rsi + 0xf0], 0x1ff
      mov dword ptr [rsi + 0x80], 0x50
      mov rax, cr8
      mov [${DATA + 0x1e0}], eax
      sti
      ${selfIpi(0x45)}
      nop
      nop
      mov ebx, [${IDX}]
      ${selfIpi(0x65)}
      nop
      mov eax, 6
      mov cr8, rax
      mov eax, [rsi + 0x80]
      mov [${DATA + 0x1e4}], eax
      ${selfIpi(0x66)}
      nop
      xor eax, eax
      mov cr8, rax
      nop
      cli
      hlt`);
    for (const v of [0x45, 0x65, 0x66]) simple(s, v);
    s.run();
    expect(s.read32(DATA + 0x1e0)).toBe(5); // CR8 = TPR[7:4]
    expect(s.cpu(0).lo[RBX]).toBe(0); // 0x45 held by TPR 0x50
    expect(s.read32(DATA + 0x1e4)).toBe(0x60); // TPR follows CR8
    expect(logged(s)).toEqual([0x65, 0x66, 0x45]);
  });

  it("PPR is TPR or the in-service class, whichever is higher", () => {
    const s = smp(`hlt`);
    const c = s.cpu(0), a = s.apic(0);
    apicWrite(c, APIC_SVR, 0x1ff);
    apicWrite(c, APIC_TPR, 0x35);
    expect(apicRead(c, APIC_PPR)).toBe(0x35);
    a.request(0x81);
    expect(a.acknowledge()).toBe(0x81);
    expect(apicRead(c, APIC_ISR + 0x40)).toBe(2);
    expect(apicRead(c, APIC_PPR)).toBe(0x80);
    a.request(0x82); // same class as in service: not deliverable, acknowledge gives the spurious vector
    expect(a.deliverableVector()).toBe(-1);
    expect(a.acknowledge()).toBe(0xff);
  });
});

describe("xAPIC page and x2APIC MSRs", () => {
  it("each vCPU sees its own APIC at 0xFEE00000", () => {
    const s = smp(`hlt`, { cpus: 3 });
    for (let k = 0; k < 3; k++) {
      expect(apicRead(s.cpu(k), APIC_ID)).toBe(k << 24);
      expect(apicRead(s.cpu(k), APIC_VERSION)).toBe(0x50014);
    }
  });

  it("x2APIC MSRs #GP outside x2APIC mode; in it they reach the registers and the page is gone", () => {
    const s = smp(`hlt`, { cpus: 2 });
    const c = s.cpu(1);
    expect(gpOf(() => readMsr(c, 0x802))).toBe(true);
    const [baseLo] = readMsr(c, IA32_APIC_BASE);
    expect(baseLo >>> 0).toBe((0xfee00000 | APIC_BASE_EN) >>> 0);
    writeMsr(c, IA32_APIC_BASE, baseLo | APIC_BASE_EXTD, 0);
    expect(readMsr(c, 0x802)).toEqual([1, 0]); // x2APIC ID
    expect(readMsr(c, 0x803)).toEqual([0x50014, 0]);
    expect(readMsr(c, 0x80d)).toEqual([2, 0]); // LDR: cluster 0, bit 1
    writeMsr(c, 0x80f, 0x1ff, 0);
    writeMsr(c, 0x808, 0x20, 0);
    expect(c.cr8).toBe(2);
    expect(c.readPhys(APIC + APIC_ID, 4)).toBe(-1); // no MMIO in x2APIC mode: open bus
    // Write-only, read-only, absent registers and reserved bits.
    expect(gpOf(() => readMsr(c, 0x80b))).toBe(true); // EOI
    expect(gpOf(() => writeMsr(c, 0x80b, 1, 0))).toBe(true); // EOI must be 0
    expect(gpOf(() => writeMsr(c, 0x802, 5, 0))).toBe(true); // ID
    expect(gpOf(() => readMsr(c, 0x831))).toBe(true); // no ICR high
    expect(gpOf(() => readMsr(c, 0x80e))).toBe(true); // no DFR
    expect(gpOf(() => writeMsr(c, 0x808, 0x100, 0))).toBe(true); // TPR bits 31:8
    expect(gpOf(() => writeMsr(c, 0x83f, 0x144, 0))).toBe(true); // SELF IPI bits 31:8
    // SELF IPI, and the ICR as one 64-bit MSR with a 32-bit destination.
    writeMsr(c, 0x83f, 0x44, 0);
    expect(s.apic(1).irr[2]).toBe(1 << 4);
    apicWrite(s.cpu(0), APIC_SVR, 0x1ff);
    writeMsr(c, 0x830, 0x47, 0); // fixed, physical, destination 0 (the x2APIC ID)
    expect(s.apic(0).irr[2]).toBe(1 << 7);
    expect(readMsr(c, 0x830)).toEqual([0x47, 0]);
    // Mode transitions: x2APIC -> xAPIC is #GP; via disabled it works; disabled -> x2APIC is #GP.
    expect(gpOf(() => writeMsr(c, IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EN, 0))).toBe(true);
    writeMsr(c, IA32_APIC_BASE, 0xfee00000, 0);
    expect(s.apic(1).enabled).toBe(false);
    expect(gpOf(() => writeMsr(c, IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EN | APIC_BASE_EXTD, 0))).toBe(true);
    writeMsr(c, IA32_APIC_BASE, 0xfee00000 | APIC_BASE_EN, 0);
    expect(apicRead(c, APIC_ID)).toBe(1 << 24);
    expect(apicRead(c, APIC_SVR)).toBe(0xff); // disabling reset it
  });

  it("RDMSR of an x2APIC register in xAPIC mode is #GP at the instruction", () => {
    const s = smp(`mov ecx, 0x802\nrdmsr\nhlt`);
    s.run();
    expect(s.faultVector(0)).toBe(GP);
  });
});
