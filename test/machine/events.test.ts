// Exceptions and interrupts in long mode on the machine: IDT gates, IST, error codes,
// double and triple faults, NMI blocking, IF, the STI and MOV SS shadows, HLT.

import { describe, it, expect } from "vitest";
import { smp, CODE, DATA, stackTop, istTop, type Smp } from "../helpers/smp.ts";
import { assemble } from "../helpers/asm.ts";
import { IF } from "../../src/machine/cpu/flags.ts";
import { RAX, RBX } from "../../src/machine/cpu/cpu.ts";

/** Address of the instruction after the assembly `prefix` of main. */
const after = (prefix: string) => CODE + assemble(prefix).length;

/** Software-enables the xAPIC (SVR = 0x1FF); RSI keeps the APIC page address. */
const APIC_ON = `mov rsi, 0xfee00000\nmov dword ptr [rsi + 0xf0], 0x1ff`;
/** Self-IPI of `v` through the xAPIC ICR (shorthand "self", fixed). */
const selfIpi = (v: number) => `mov dword ptr [rsi + 0x300], ${0x40000 | v}`;
const EOI = `mov dword ptr [rsi + 0xb0], 0`;

/** A handler that stores its frame's RIP, RFLAGS and RSP, its own RFLAGS and RSP, at DATA.. and returns. */
const RECORD = `
  push rax
  mov rax, [rsp + 8]
  mov [${DATA}], rax
  mov rax, [rsp + 24]
  mov [${DATA + 8}], rax
  mov rax, [rsp + 32]
  mov [${DATA + 16}], rax
  pushfq
  pop rax
  mov [${DATA + 24}], rax
  lea rax, [rsp + 8]
  mov [${DATA + 32}], rax
  pop rax
  inc dword ptr [${DATA + 40}]
  ${EOI}
  iretq`;
const H = 0x110000; // handlers

function record(s: Smp) {
  return {
    rip: s.read64(DATA),
    rflags: s.read64(DATA + 8),
    rsp: s.read64(DATA + 16),
    handlerFlags: s.read64(DATA + 24),
    handlerRsp: s.read64(DATA + 32),
    count: s.read32(DATA + 40),
  };
}

describe("external interrupts through the IDT", () => {
  it("an interrupt gate clears IF; the frame returns to the next instruction", () => {
    const pre = `${APIC_ON}\nsti\n${selfIpi(0x41)}\n`;
    const s = smp(`${pre}mov eax, 1\ncli\nhlt`);
    s.handler(0x41, H, RECORD);
    expect(s.run().stop).toBe("idle");
    const r = record(s);
    expect(r.count).toBe(1);
    expect(r.rip).toBe(after(pre)); // recognised right after the ICR write
    expect(r.rflags & IF).toBe(IF);
    expect(r.handlerFlags & IF).toBe(0);
    expect(r.rsp).toBe(stackTop(0));
    expect(s.cpu(0).lo[RAX]).toBe(1);
  });

  it("a trap gate leaves IF set", () => {
    const s = smp(`${APIC_ON}\nsti\n${selfIpi(0x41)}\nnop\ncli\nhlt`);
    s.handler(0x41, H, RECORD, { trap: true });
    s.run();
    expect(record(s).count).toBe(1);
    expect(record(s).handlerFlags & IF).toBe(IF);
  });

  it("an IST gate switches stacks without a privilege change: a rogue RSP is never written", () => {
    // The LVD rogue-stack case: RSP points at memory the interrupt must not overwrite.
    const rogue = DATA + 0x1000;
    const s = smp(`${APIC_ON}\nmov rsp, ${rogue}\nsti\n${selfIpi(0x42)}\nnop\ncli\nhlt`);
    s.handler(0x42, H, RECORD, { ist: 3 });
    for (let a = rogue - 64; a < rogue; a += 4) s.m.mem.write32(a, 0x5a5a5a5a);
    s.run();
    const r = record(s);
    expect(r.count).toBe(1);
    expect(r.handlerRsp).toBe(istTop(0, 3) - 40); // SS, RSP, RFLAGS, CS, RIP on the IST stack
    expect(r.rsp).toBe(rogue);
    for (let a = rogue - 64; a < rogue; a += 4) expect(s.read32(a)).toBe(0x5a5a5a5a);
  });

  it("an interrupt stays pending while IF=0 and arrives at STI's shadow end", () => {
    const pre = `${APIC_ON}\n${selfIpi(0x41)}\nnop\nnop\nmov ebx, [${DATA + 40}]\nsti\n`;
    const s = smp(`${pre}nop\ncli\nhlt`);
    s.handler(0x41, H, RECORD);
    s.run();
    expect(s.cpu(0).lo[RBX]).toBe(0); // nothing delivered with IF=0
    expect(record(s).count).toBe(1);
    expect(record(s).rip).toBe(after(`${pre}nop\n`)); // after the shadowed NOP: the sti; nop; cli window works
  });

  it("sti; hlt: an interrupt pending before STI wakes the HLT and returns after it", () => {
    const pre = `${APIC_ON}\n${selfIpi(0x41)}\nsti\nhlt\n`;
    const s = smp(`${pre}mov eax, 2\ncli\nhlt`);
    s.handler(0x41, H, RECORD);
    expect(s.run().stop).toBe("idle");
    expect(record(s).rip).toBe(after(pre));
    expect(s.cpu(0).lo[RAX]).toBe(2);
  });

  it("the MOV SS shadow holds an interrupt for one instruction", () => {
    const pre = `${APIC_ON}\nsti\nnop\nmov ax, ss\nmov ss, ax\n`;
    const s = smp(`${pre}inc ebx\ninc ebx\ncli\nhlt`);
    s.handler(0x41, H, RECORD);
    s.run(6); // through MOV SS
    expect(s.cpu(0).rip).toBe(after(pre));
    s.apic(0).request(0x41);
    s.run(1); // the shadowed INC
    expect(s.cpu(0).lo[RBX]).toBe(1);
    s.run();
    expect(record(s).rip).toBe(after(`${pre}inc ebx\n`));
    expect(s.cpu(0).lo[RBX]).toBe(2);
  });
});

describe("exceptions", () => {
  it("pushes the error code: #GP(selector) for a selector beyond the GDT", () => {
    const pre = `mov ax, 0x80\n`;
    const s = smp(`${pre}mov ds, ax\nhlt`);
    s.handler(13, H, `mov rax, [rsp]\nmov [${DATA}], rax\nmov rax, [rsp + 8]\nmov [${DATA + 8}], rax\ncli\nhlt`);
    s.run();
    expect(s.read64(DATA)).toBe(0x80);
    expect(s.read64(DATA + 8)).toBe(after(pre));
  });

  it("a #GP whose delivery faults (gate not present: #NP) becomes a double fault with error code 0", () => {
    const s = smp(`mov ax, 0x80\nmov ds, ax\nhlt`);
    s.gate(13, H, { present: false });
    s.handler(8, H + 0x100, `mov rax, [rsp]\nmov [${DATA}], rax\nmov dword ptr [${DATA + 8}], 8\ncli\nhlt`, { ist: 1 });
    s.m.mem.writeU64(DATA, 0xdead);
    s.run();
    expect(s.read32(DATA + 8)).toBe(8);
    expect(s.read64(DATA)).toBe(0);
  });

  it("a fault while delivering the double fault shuts the machine down (triple fault)", () => {
    const s = smp(`mov ax, 0x80\nmov ds, ax\nhlt`);
    s.cpu(0).idtLimit = 0; // no gate at all
    const r = s.run();
    expect(r.stop).toBe("shutdown");
    expect(s.cpu(0).shutdown?.message).toMatch(/triple fault: #GP/);
  });

  it("delivery is charged the interrupt primitive, on top of the instructions", async () => {
    const { COSTS } = await import("../../src/machine/cost.ts");
    const s = smp(`${APIC_ON}\ncli\n${selfIpi(0x41)}\nrdtsc\nmov [${DATA + 8}], eax\nsti\nnop\ncli\nhlt`);
    s.handler(0x41, H, `rdtsc\nmov [${DATA}], eax\n${EOI}\niretq`);
    s.warm(0, 0x41, [DATA, CODE]);
    s.run();
    // main's RDTSC, MOV, STI, NOP (1 cycle each), then the delivery; the handler's RDTSC is its first instruction.
    expect(s.read32(DATA) - s.read32(DATA + 8)).toBe(4 + COSTS.interrupt);
  });
});

describe("NMI", () => {
  const NMI_SELF = `mov dword ptr [rsi + 0x300], 0x40400`; // delivery mode NMI, shorthand self

  it("is delivered with IF=0; a second NMI raised in the handler waits for IRET", () => {
    const s = smp(`${APIC_ON}\n${NMI_SELF}\nmov eax, [${DATA}]\nmov [${DATA + 8}], eax\nhlt`);
    s.handler(2, H, `
      inc dword ptr [${DATA}]
      cmp dword ptr [${DATA}], 1
      jne 1f
      ${NMI_SELF}
      nop
      nop
      mov eax, [${DATA}]
      mov [${DATA + 4}], eax
    1:
      iretq`, { ist: 2 });
    s.run();
    expect(s.read32(DATA + 4)).toBe(1); // held while the first is handled
    expect(s.read32(DATA)).toBe(2); // taken after IRETQ, before main goes on
    expect(s.read32(DATA + 8)).toBe(2);
    expect(s.cpu(0).nmiBlocked).toBe(false);
  });

  it("wakes a HLT with IF=0", () => {
    const s = smp(`cli\nhlt\nmov eax, 3\nhlt`);
    s.handler(2, H, `inc dword ptr [${DATA}]\niretq`);
    expect(s.run().stop).toBe("idle");
    s.m.nmi(0);
    s.run();
    expect(s.read32(DATA)).toBe(1);
    expect(s.cpu(0).lo[RAX]).toBe(3);
  });

  it("waits out an STI shadow (our choice; the SDM allows it)", () => {
    const s = smp(`sti\nnop\nnop\ncli\nhlt`);
    s.handler(2, H, `mov rax, [rsp]\nmov [${DATA}], rax\niretq`);
    s.run(1); // STI
    s.m.nmi(0);
    s.run(1); // the shadowed NOP
    expect(s.read64(DATA)).toBe(0);
    s.run();
    expect(s.read64(DATA)).toBe(CODE + 2);
  });
});
