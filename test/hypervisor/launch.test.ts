// Late launch: the kernel goes on in VMX non-root operation with exactly the state it had.

import { describe, it, expect } from "vitest";
import { Harness, DATA, CODE, LAUNCH_SELF, POOL } from "./harness.ts";
import { RSP } from "../../src/machine/cpu/cpu.ts";
import * as F from "../../src/machine/vmx/fields.ts";

/** Stores, at [rdi], what the kernel can see of its processor state (layout in DUMP_FIELDS). */
const DUMP = `
dump:
  mov [rdi + 144], rsp
  mov rax, cr0
  mov [rdi], rax
  mov rax, cr3
  mov [rdi + 8], rax
  mov rax, cr4
  mov [rdi + 16], rax
  pushfq
  pop rax
  mov [rdi + 24], rax
  mov ecx, 0xc0000101
  rdmsr
  mov [rdi + 32], eax
  mov [rdi + 36], edx
  mov ecx, 0xc0000100
  rdmsr
  mov [rdi + 40], eax
  mov [rdi + 44], edx
  mov ecx, 0xc0000102
  rdmsr
  mov [rdi + 48], eax
  mov [rdi + 52], edx
  mov ecx, 0xc0000080
  rdmsr
  mov [rdi + 56], eax
  mov [rdi + 60], edx
  mov ecx, 0x277
  rdmsr
  mov [rdi + 64], eax
  mov [rdi + 68], edx
  mov ecx, 0x175
  rdmsr
  mov [rdi + 72], eax
  mov [rdi + 76], edx
  sgdt [rdi + 80]
  sidt [rdi + 96]
  str ax
  mov [rdi + 112], ax
  sldt ax
  mov [rdi + 114], ax
  mov ax, cs
  mov [rdi + 116], ax
  mov ax, ss
  mov [rdi + 118], ax
  mov rsi, rdi
  mov eax, 1
  xor ecx, ecx
  cpuid
  mov [rsi + 120], ecx
  mov [rsi + 124], edx
  mov rdi, rsi
  smsw rax
  mov [rdi + 128], rax
  mov ecx, 0xc0000082
  rdmsr
  mov [rdi + 136], eax
  mov [rdi + 140], edx
  mov rax, dr7
  mov [rdi + 152], rax
  ret
`;
const DUMP_BYTES = 160;
const VMX_BIT = 1 << 5;

describe("late launch", () => {
  it("keeps registers, control registers as read, MSRs, descriptor tables and segments identical across the launch", () => {
    const A = DATA, B = DATA + 0x100;
    const h = new Harness(`
      mov ecx, 0xc0000101
      mov eax, 0x12345000
      mov edx, 0xffff8000
      wrmsr
      mov ecx, 0xc0000100
      mov eax, 0x7000
      xor edx, edx
      wrmsr
      mov ecx, 0xc0000102
      mov eax, 0xabc000
      wrmsr
      mov ecx, 0x175
      mov eax, 0x5000
      wrmsr
      mov ecx, 0xc0000082
      mov eax, 0x401000
      wrmsr
      push rdi
      mov rdi, ${A}
      call dump
      pop rdi
      mov r8, 0x1111111111111111
      mov r15, -2
      mov rbx, 0x3333
      ${LAUNCH_SELF}
      push rdi
      mov rdi, ${B}
      call dump
      pop rdi
      hlt
      ${DUMP}
    `);
    const cpu = h.cpu();
    let before: number[] = [], after: number[] = [];
    const regs = () => [...cpu.lo, ...cpu.hi, cpu.reg64(RSP), cpu.rflags, cpu.cr3, cpu.gdtBase, cpu.idtBase, cpu.trBase, cpu.kernelGsBase];
    h.m.ports.register(0x81, {
      out: () => {
        before = regs();
        h.hv.launch(cpu);
        after = regs();
      },
    });
    // Launch from inside an OUT to port 0x81 (the port handler runs inside the instruction):
    // the harness's launch (OUT 0x80) becomes OUT 0x81, so the test sees the registers around it.
    const prog = h.m.mem.bytes;
    const at = prog.indexOf(0xe6, CODE); // "out imm8, al"
    expect(prog[at + 1]).toBe(0x80);
    prog[at + 1] = 0x81;

    const r = h.run();
    expect(r.stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    expect(h.hv.isLaunched(0)).toBe(true);
    expect(cpu.vmx?.nonRoot).toBe(true);
    expect(after).toEqual(before);

    const a = h.m.mem.bytes.slice(A, A + DUMP_BYTES), b = h.m.mem.bytes.slice(B, B + DUMP_BYTES);
    const view = (x: Uint8Array) => new DataView(x.buffer);
    // CPUID.1:ECX differs in exactly the VMX bit: present natively, hidden under the hypervisor.
    expect(view(a).getUint32(120, true) & VMX_BIT).toBe(VMX_BIT);
    expect(view(b).getUint32(120, true)).toBe(view(a).getUint32(120, true) & ~VMX_BIT);
    view(a).setUint32(120, 0, true);
    view(b).setUint32(120, 0, true);
    expect([...b]).toEqual([...a]);
    // And the values are what the program set, not two equal defaults.
    expect(h.big(A + 32)).toBe(0xffff800012345000n);
    expect(h.u64(A + 40)).toBe(0x7000);
    expect(h.u64(A + 48)).toBe(0xabc000);
    // The real CR4 has VMXE; the guest reads the shadow.
    expect(cpu.cr4 & (1 << 13)).not.toBe(0);
    expect(h.u64(B + 16) & (1 << 13)).toBe(0);
  });

  it("launches between two runs of the machine, at an instruction boundary, the loop going on unaware", () => {
    const h = new Harness(`
      xor ebx, ebx
    1:
      inc rbx
      mov [${DATA}], rbx
      cmp rbx, 20000
      jne 1b
      hlt
    `);
    h.run(5000);
    const cpu = h.cpu();
    const rip = cpu.rip, rbx = cpu.reg64(3);
    expect(rbx).toBeGreaterThan(100);
    h.hv.launch(cpu);
    expect(cpu.rip).toBe(rip);
    expect(cpu.vmx!.nonRoot).toBe(true);
    expect(h.run().stop).toBe("idle");
    expect(h.u64(DATA)).toBe(20000);
    expect(h.hv.incidents).toEqual([]);
  });

  it("runs the kernel with EPT_K (its own EPTP, VPID 1 on vCPU 0) and keeps the pool out of it", () => {
    const h = new Harness(`${LAUNCH_SELF}\nhlt`);
    h.run();
    const vmcs = h.cpu().vmx!.vmcs;
    expect(vmcs.get(F.EPT_POINTER)).toBe(h.hv.kernelEptp(0));
    expect(vmcs.get(F.VPID)).toBe(1);
    expect(h.m.mem.read32(POOL) >>> 0).not.toBe(0); // the pool holds the hypervisor's structures
  });

  it("refuses a second launch, and a launch at CPL 3", () => {
    const h = new Harness(`${LAUNCH_SELF}\nhlt`);
    h.run();
    expect(() => h.hv.launch(h.cpu())).toThrow(/already/);
    const user = new Harness("hlt");
    user.cpu().cpl = 3;
    expect(() => user.hv.launch(user.cpu())).toThrow(/CPL 3/);
    expect(user.hv.isLaunched(0)).toBe(false);
  });
});
