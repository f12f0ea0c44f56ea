// Each sensitive exit is emulated as the native instruction would have behaved.

import { describe, it, expect } from "vitest";
import { Harness, CODE, DATA, GDT, IDT, LAUNCH_SELF } from "./harness.ts";
import { assemble } from "../helpers/asm.ts";
import { readMsr } from "../../src/machine/cpu/ops/msr.ts";
import * as F from "../../src/machine/vmx/fields.ts";

/** Address of the instruction that follows the assembly `prefix` in a program at CODE. */
const after = (prefix: string) => CODE + assemble(prefix).length;
const GP = 13, UD = 6;

function run(main: string, setup?: (h: Harness) => void): Harness {
  const h = new Harness(main);
  setup?.(h);
  const r = h.run();
  expect(r.stop).toBe("idle");
  expect(h.hv.incidents).toEqual([]);
  return h;
}

describe("MSR exits", () => {
  it("WRMSR and RDMSR of FS and GS base load the guest's bases (an FS-relative read sees them)", () => {
    const h = run(`
      ${LAUNCH_SELF}
      mov rax, 0x5a5a
      mov [${DATA + 0x1000}], rax
      mov ecx, 0xc0000100
      mov eax, ${DATA + 0x1000}
      xor edx, edx
      wrmsr
      mov rax, fs:[0]
      mov [${DATA}], rax
      mov ecx, 0xc0000101
      mov eax, ${DATA + 0x2000}
      wrmsr
      mov qword ptr gs:[8], 77
      rdmsr
      mov [${DATA + 8}], eax
      mov [${DATA + 12}], edx
      mov ecx, 0xc0000082
      mov eax, 0x401234
      mov edx, 0x10000
      wrmsr
      hlt
    `);
    expect(h.u64(DATA)).toBe(0x5a5a);
    expect(h.u64(DATA + 0x2008)).toBe(77);
    expect(h.u64(DATA + 8)).toBe(DATA + 0x2000);
    expect(h.cpu().vmx!.vmcs.get(F.GUEST_GS_BASE)).toBe(DATA + 0x2000);
    // LSTAR is passed through to the processor: 0x00010000_00401234 is not canonical, #GP as natively.
    expect(h.fault().vector).toBe(GP);
    expect(h.fault().error).toBe(0);
    const counts = h.hv.exitCounts(0);
    expect(counts.get("WRMSR")).toBe(3);
    expect(counts.get("RDMSR")).toBe(1);
  });

  it("an MSR that does not exist is #GP(0) in the guest, at the RDMSR, with nothing else changed", () => {
    const prefix = `${LAUNCH_SELF}\nmov ecx, 0xc0000082\nmov eax, 0x401000\nxor edx, edx\nwrmsr\nmov ecx, 0x12345\nmov eax, 7\nmov edx, 8`;
    const h = run(`${prefix}\nrdmsr\nhlt`);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
    expect(h.cpu().lo[0]).not.toBe(0); // RAX not written
    expect(readMsr(h.cpu(), 0xc0000082)).toEqual([0x401000, 0]);
  });

  it("the VMX MSRs are gone and IA32_FEATURE_CONTROL reads locked with VMX off", () => {
    const prefix = `${LAUNCH_SELF}\nmov ecx, 0x3a\nrdmsr\nmov [${DATA}], eax\nmov ecx, 0x480`;
    const h = run(`${prefix}\nrdmsr\nhlt`);
    expect(h.u64(DATA)).toBe(1);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
  });
});

describe("I/O exits", () => {
  it("OUT and REP OUTSB reach the machine's console; IN and REP INSB read the device", () => {
    let next = 0x41;
    const h = new Harness(`
      ${LAUNCH_SELF}
      mov al, 'H'
      out 0xe9, al
      mov dx, 0xe9
      mov al, 'i'
      out dx, al
      lea rsi, [rip + msg]
      mov ecx, 6
      rep outsb
      in al, 0x71
      mov [${DATA}], al
      mov dx, 0x72
      in eax, dx
      mov [${DATA + 8}], rax
      mov rdi, ${DATA + 0x100}
      mov ecx, 5
      mov dx, 0x71
      rep insb
      mov [${DATA + 16}], rcx
      mov [${DATA + 24}], rdi
      hlt
    msg: .ascii " there"
    `);
    h.m.ports.register(0x71, { in: () => next++ });
    h.m.ports.register(0x72, { in: () => 0xdeadbeef });
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    expect(h.m.console.text()).toBe("Hi there");
    expect(h.m.mem.read8(DATA)).toBe(0x41);
    expect(h.u64(DATA + 8)).toBe(0xdeadbeef);
    expect([...h.m.mem.bytes.slice(DATA + 0x100, DATA + 0x105)]).toEqual([0x42, 0x43, 0x44, 0x45, 0x46]);
    expect(h.u64(DATA + 16)).toBe(0);
    expect(h.u64(DATA + 24)).toBe(DATA + 0x105);
    expect(h.hv.exitCounts(0).get("IO_INSTRUCTION")).toBe(6);
  });

  it("a long REP OUTSW runs 4096 elements per exit, as one native execution does, and completes", () => {
    const words: number[] = [];
    const h = new Harness(`
      ${LAUNCH_SELF}
      mov rsi, ${DATA}
      mov ecx, 5000
      mov dx, 0x73
      rep outsw
      hlt
    `);
    for (let k = 0; k < 5000; k++) h.m.mem.write16(DATA + 2 * k, k);
    h.m.ports.register(0x73, { out: (_p, size, v) => words.push(size * 0x10000 + v) });
    expect(h.run().stop).toBe("idle");
    expect(words.length).toBe(5000);
    expect(words.every((w, k) => w === 2 * 0x10000 + k)).toBe(true);
    expect(h.hv.exitCounts(0).get("IO_INSTRUCTION")).toBe(2);
  });

  it("REP INSB into a page the guest cannot write is #PF with CR2, after the elements before it", () => {
    const h = new Harness("");
    h.pt.map(0x40000000, DATA, 4096, { write: true });
    h.pt.map(0x40001000, DATA + 0x1000, 4096, { write: false });
    const prefix = `${LAUNCH_SELF}\nmov rdi, 0x40000ffe\nmov ecx, 4\nmov dx, 0x71`;
    h.load(CODE, `${prefix}\nrep insb\nhlt`);
    h.m.ports.register(0x71, { in: () => 0x99 });
    h.run();
    expect(h.fault()).toEqual({ vector: 14, error: 3, rip: after(prefix) }); // present, write
    expect(h.cpu().cr2).toBe(0x40001000);
    expect(h.cpu().reg64(1)).toBe(2); // RCX: two elements done
    expect(h.m.mem.read8(DATA + 0xffe)).toBe(0x99);
  });
});

describe("control-register exits", () => {
  it("a CR0 write that clears NE exits; the guest reads NE clear while the real CR0 keeps it", () => {
    const h = run(`
      ${LAUNCH_SELF}
      mov rax, cr0
      and rax, -33
      mov cr0, rax
      mov rbx, cr0
      mov [${DATA}], rbx
      smsw rax
      mov [${DATA + 16}], rax
      mov rax, cr4
      xor rax, 0x80
      mov cr4, rax
      mov rbx, cr4
      mov [${DATA + 8}], rbx
      hlt
    `);
    const cpu = h.cpu();
    expect(h.u64(DATA) & 0x20).toBe(0);
    expect(h.u64(DATA + 16) & 0x20).toBe(0);
    expect(cpu.cr0 & 0x20).toBe(0x20);
    expect(cpu.vmx!.vmcs.get(F.CR0_READ_SHADOW) & 0x20).toBe(0);
    // CR4.PGE is the guest's: the toggle (on) did not exit, and VMXE stays hidden.
    expect(h.u64(DATA + 8) & 0x80).toBe(0x80);
    expect(h.u64(DATA + 8) & 0x2000).toBe(0);
    expect(h.hv.exitCounts(0).get("CR_ACCESS")).toBe(1);
  });

  it("setting CR4.VMXE is #GP(0): the guest's processor has no VMX", () => {
    const prefix = `${LAUNCH_SELF}\nmov rax, cr4\nor rax, 0x2000`;
    const h = run(`${prefix}\nmov cr4, rax\nhlt`);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
    expect(h.hv.exitCounts(0).get("CR_ACCESS")).toBe(1);
  });

  it("clearing CR0.PG (leaving long mode) is #GP(0), as natively", () => {
    const prefix = `${LAUNCH_SELF}\nmov rax, cr0\nbtr rax, 31`;
    const h = run(`${prefix}\nmov cr0, rax\nhlt`);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
  });
});

describe("descriptor-table exits", () => {
  it("LGDT, SGDT, LTR, STR, LIDT (RIP-relative), SIDT, LLDT and SLDT act on the guest's registers and memory", () => {
    const NEW_GDT = DATA + 0x1000, NEW_TSS = DATA + 0x3000;
    const h = new Harness(`
      ${LAUNCH_SELF}
      lgdt [${DATA}]
      sgdt [${DATA + 0x10}]
      mov ax, 0x38
      ltr ax
      str bx
      mov [${DATA + 0x20}], bx
      lidt [rip + idtr]
      mov rdx, ${DATA + 0x28}
      sidt [rdx + 8]
      xor eax, eax
      lldt ax
      sldt rcx
      mov [${DATA + 0x40}], rcx
      mov ax, 0x38
      ltr ax
      hlt
    idtr:
      .word 0x7ff
      .quad ${IDT}
    `);
    const mem = h.m.mem;
    mem.load(NEW_GDT, mem.bytes.slice(GDT, GDT + 0x38));
    // Selector 0x38: an available 64-bit TSS at NEW_TSS.
    mem.write64(NEW_GDT + 0x38, 0x0067 | ((NEW_TSS & 0xffff) << 16), ((NEW_TSS >>> 16) & 0xff) | 0x8900 | (NEW_TSS & 0xff000000));
    mem.write16(DATA, 0x47);
    mem.writeU64(DATA + 2, NEW_GDT);
    mem.write64(DATA + 0x40, -1, -1);
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    const vmcs = h.cpu().vmx!.vmcs;
    expect(mem.read16(DATA + 0x10)).toBe(0x47);
    expect(h.u64(DATA + 0x12)).toBe(NEW_GDT);
    expect(vmcs.get(F.GUEST_GDTR_BASE)).toBe(NEW_GDT);
    expect(mem.read16(DATA + 0x20)).toBe(0x38);
    expect(vmcs.get(F.GUEST_TR_BASE)).toBe(NEW_TSS);
    expect((mem.read32(NEW_GDT + 0x3c) >>> 8) & 0xf).toBe(11); // marked busy
    expect(mem.read16(DATA + 0x30)).toBe(0x7ff);
    expect(h.u64(DATA + 0x32)).toBe(IDT);
    expect(vmcs.get(F.GUEST_IDTR_LIMIT)).toBe(0x7ff);
    expect(h.u64(DATA + 0x40)).toBe(0);
    // The second LTR finds the TSS busy: #GP(selector).
    expect(h.fault().vector).toBe(GP);
    expect(h.fault().error).toBe(0x38);
    expect(h.hv.exitCounts(0).get("GDTR_IDTR")).toBe(4);
    expect(h.hv.exitCounts(0).get("LDTR_TR")).toBe(5);
  });

  it("LGDT of an operand the guest's page tables do not map is #PF at the LGDT", () => {
    const prefix = `${LAUNCH_SELF}\nmov rax, 0x7f0000000000`;
    const h = run(`${prefix}\nlgdt [rax + 8]\nhlt`);
    expect(h.fault()).toEqual({ vector: 14, error: 0, rip: after(prefix) });
    expect(h.cpu().cr2).toBe(0x7f0000000008);
    expect(h.cpu().vmx!.vmcs.get(F.GUEST_GDTR_BASE)).toBe(GDT);
  });
});

describe("debug registers, XSETBV, CPUID, VMX instructions, INVD", () => {
  it("MOV to and from DR0 and DR7 exit and act on the guest's debug registers; a DR6 write with bits 63:32 is #GP", () => {
    const prefix = `${LAUNCH_SELF}
      mov rax, 0x123000
      mov dr0, rax
      mov rbx, dr0
      mov [${DATA}], rbx
      mov rax, 0x401
      mov dr7, rax
      mov rbx, dr7
      mov [${DATA + 8}], rbx
      mov rax, -1`;
    const h = run(`${prefix}\nmov dr6, rax\nhlt`);
    expect(h.u64(DATA)).toBe(0x123000);
    expect(h.u64(DATA + 8)).toBe(0x401);
    expect(h.cpu().vmx!.vmcs.get(F.GUEST_DR7)).toBe(0x401);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
    expect(h.hv.exitCounts(0).get("DR_ACCESS")).toBe(5);
  });

  it("XSETBV loads XCR0 with the native checks (AVX without SSE is #GP)", () => {
    const prefix = `
      mov rax, cr4
      bts rax, 18
      mov cr4, rax
      ${LAUNCH_SELF}
      xor ecx, ecx
      xor edx, edx
      mov eax, 7
      xsetbv
      xgetbv
      mov [${DATA}], eax
      mov eax, 5`;
    const h = run(`${prefix}\nxsetbv\nhlt`);
    expect(h.u64(DATA)).toBe(7);
    expect(h.cpu().xcr0).toBe(7);
    expect(h.fault()).toEqual({ vector: GP, error: 0, rip: after(prefix) });
    expect(h.hv.exitCounts(0).get("XSETBV")).toBe(2);
  });

  it("CPUID answers like the processor but hides VMX; VMCALL and VMXON are #UD; INVD is a no-op", () => {
    const prefix = `
      mov eax, 1
      cpuid
      mov [${DATA}], ecx
      ${LAUNCH_SELF}
      mov eax, 1
      cpuid
      mov [${DATA + 8}], ecx
      mov [${DATA + 12}], ebx
      invd`;
    const h = run(`${prefix}\nvmcall\nhlt`);
    expect(h.u64(DATA) & 0x20).toBe(0x20);
    expect(h.m.mem.read32(DATA + 8)).toBe(h.m.mem.read32(DATA) & ~0x20);
    expect(h.fault()).toEqual({ vector: UD, error: -1, rip: after(prefix) });
    const v = run(`${LAUNCH_SELF}\nvmxon [${DATA}]\nhlt`);
    expect(v.fault().vector).toBe(UD);
  });
});
