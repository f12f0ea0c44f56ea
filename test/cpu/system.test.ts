import { describe, it, expect } from "vitest";
import { snippet, CODE, DATA, STACK_TOP, type Snippet } from "../helpers/snippet.ts";
import {
  RAX, RBX, RCX, RDX, RSI, RDI, CS, SS, FS, GS, CR4_OSXSAVE, CR4_FSGSBASE, CR4_PGE, CR4_OSFXSR, CR0_TS,
} from "../../src/machine/cpu/cpu.ts";
import { IF, CF, AC } from "../../src/machine/cpu/flags.ts";
import { writeMsr, readMsr, IA32_LSTAR, IA32_STAR, IA32_FMASK } from "../../src/machine/cpu/ops/msr.ts";
import { MAXPHYADDR } from "../../src/machine/cpu/paging.ts";
import { assemble } from "../helpers/asm.ts";
import * as CPU from "../../src/machine/cpu/cpu.ts";
import { CR0_WRITABLE, CR4_SUPPORTED, CR4_FLUSH, CR4_TSD, CR4_DE, CR4_PSE, CR4_OSXMMEXCPT } from "../../src/machine/cpu/ops/control-regs.ts";
import { EFER_WRITABLE } from "../../src/machine/cpu/ops/msr.ts";

const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
const TSS = 0x902000;

/** The address where the instruction after the assembly `prefix` starts. */
const after = (prefix: string) => CODE + assemble(prefix).length;

/** Qword k of the stack the run stopped with (a handler's frame). */
function frame(s: Snippet, k: number): number {
  const lo = s.cpu.read64(s.cpu.rsp + 8 * k);
  return s.cpu.h * 4294967296 + (lo >>> 0);
}

/** Rewrites IDT gate `v`: target, DPL, IST, type (0xE interrupt, 0xF trap). */
function setGate(s: Snippet, v: number, target: number, opts: { dpl?: number; ist?: number; type?: number } = {}): void {
  const g = s.cpu.idtBase + v * 16;
  const access = 0x80 | ((opts.dpl ?? 0) << 5) | (opts.type ?? 0xe);
  s.mem.write32(g, (target & 0xffff) | (0x08 << 16));
  s.mem.write32(g + 4, (target & 0xffff0000) | (access << 8) | (opts.ist ?? 0));
  s.mem.write32(g + 8, 0);
}

/** A snippet whose pages are user-accessible but which starts at CPL 0. */
function kernelOnUserPages(src: string): Snippet {
  const s = snippet(src, { user: true });
  s.cpu.cpl = 0;
  s.cpu.segSel[CS] = 0x08;
  s.cpu.segSel[SS] = 0x10;
  return s;
}

function expectFault(s: Snippet, vector: number, error = -1, rip = CODE): void {
  s.run();
  expect(s.faultVector()).toBe(vector);
  expect(s.faultError()).toBe(error);
  expect(s.faultRip()).toBe(rip);
}

describe("INT n, INT3, INT1, IRETQ", () => {
  it("INT n delivers through the gate with RIP, CS, RFLAGS, RSP, SS on the stack", () => {
    const s = snippet("int 0x40");
    s.cpu.rflags = s.cpu.rflags | IF;
    s.run();
    expect(s.faultVector()).toBe(0x40);
    expect(frame(s, 0)).toBe(CODE + 2);
    expect(frame(s, 1)).toBe(0x08);
    expect(frame(s, 2) & IF).toBe(IF);
    expect(frame(s, 3)).toBe(STACK_TOP);
    expect(frame(s, 4)).toBe(0x10);
    expect(s.cpu.rsp).toBe(STACK_TOP - 40);
    expect(s.cpu.interruptsEnabled).toBe(false); // an interrupt gate clears IF
  });

  it("INT3 and INT1 trap with the next RIP", () => {
    const a = snippet("int3");
    a.run();
    expect(a.faultVector()).toBe(3);
    expect(a.faultRip()).toBe(CODE + 1);
    const b = snippet("nop\nint1");
    b.run();
    expect(b.faultVector()).toBe(1);
    expect(b.faultRip()).toBe(CODE + 2);
  });

  it("IRETQ returns from a handler to the next instruction", () => {
    const s = snippet(`
      jmp main
      .org 0x100
      inc rbx
      iretq
      .org 0x200
      main:
      mov rbx, 10
      int 0x41
      mov rcx, 7`);
    setGate(s, 0x41, CODE + 0x100);
    s.run();
    expect(s.faultVector()).toBe(-1);
    expect(s.cpu.lo[RBX]).toBe(11);
    expect(s.cpu.lo[RCX]).toBe(7);
    expect(s.cpu.rsp).toBe(STACK_TOP);
    expect(s.cpu.cpl).toBe(0);
  });

  it("an IST gate switches stacks even without a privilege change", () => {
    const s = snippet("int 0x42");
    setGate(s, 0x42, 0x903000 + 0x42 * 16, { ist: 2 });
    s.run();
    expect(s.faultVector()).toBe(0x42);
    const ist2 = s.mem.readU64(TSS + 0x24 + 8);
    expect(s.cpu.rsp).toBe(ist2 - 40);
    expect(frame(s, 3)).toBe(STACK_TOP);
  });

  it("INT n at CPL 3 to a DPL-0 gate is #GP(vector*8+2) at the INT", () => {
    const s = snippet("int 0x40", { user: true });
    expectFault(s, 13, 0x40 * 8 + 2, CODE);
  });

  it("INT n at CPL 3 to a DPL-3 gate switches to RSP0 and the kernel", () => {
    const s = snippet("mov rsp, 0x700000\nint 0x80", { user: true });
    setGate(s, 0x80, 0x903000 + 0x80 * 16, { dpl: 3 });
    s.run();
    expect(s.faultVector()).toBe(0x80);
    expect(s.cpu.cpl).toBe(0);
    expect(s.cpu.rsp).toBe(s.mem.readU64(TSS + 4) - 40);
    expect(frame(s, 1)).toBe(0x23);
    expect(frame(s, 3)).toBe(0x700000);
    expect(frame(s, 4)).toBe(0x1b);
  });

  it("IRETQ drops to ring 3, loading SS:RSP and RFLAGS", () => {
    const s = kernelOnUserPages(`
      mov rax, rsp
      push 0x1b
      push 0x700000
      push 0x202
      push 0x23
      lea rcx, [rip + user]
      push rcx
      iretq
      user:
      mov rbx, 5`);
    s.run();
    // The final HLT at CPL 3 is #GP(0).
    expect(s.faultVector()).toBe(13);
    expect(s.faultError()).toBe(0);
    expect(s.cpu.lo[RBX]).toBe(5);
    expect(frame(s, 2)).toBe(0x23);
    expect(frame(s, 3) & IF).toBe(IF);
    expect(frame(s, 4)).toBe(0x700000);
    expect(frame(s, 5)).toBe(0x1b);
  });

  it("IRETQ faults with nothing changed: to a more privileged CS, to a null SS at CPL 3", () => {
    const code = (cs: number, ss: number) => `
      push ${ss}
      push 0x700000
      push 2
      push ${cs}
      push 0
      iretq`;
    const iretAt = after(code(0x08, 0x10).replace("iretq", ""));
    const a = snippet(code(0x08, 0x10), { user: true });
    expectFault(a, 13, 0x08, iretAt);
    expect(frame(a, 1 + 3)).toBe(STACK_TOP - 40); // the user RSP, as before IRETQ
    expect(frame(a, 1 + 1)).toBe(0x23);
    const b = snippet(code(0x23, 0), { user: true });
    expectFault(b, 13, 0, iretAt);
    const c = snippet(code(0x23, 0x10), { user: true });
    expectFault(c, 13, 0x10, iretAt);
  });
});

describe("CLI, STI, HLT, privilege", () => {
  it("CLI and STI change IF; STI sets the interrupt shadow", () => {
    const s = snippet("cli\npushfq\npop rax\nsti\npushfq\npop rbx");
    s.cpu.step();
    expect(s.cpu.interruptsEnabled).toBe(false);
    s.cpu.step();
    s.cpu.step();
    s.cpu.step();
    expect(s.cpu.interruptsEnabled).toBe(true);
    expect(s.cpu.interruptShadow).toBe(true);
    s.run();
    expect(s.cpu.lo[RAX] & IF).toBe(0);
    expect(s.cpu.lo[RBX] & IF).toBe(IF);
  });

  it("CLI at CPL 3 with IOPL 0 is #GP(0); with IOPL 3 it works", () => {
    expectFault(snippet("cli", { user: true }), 13, 0);
    const s = snippet("cli\nmov eax, 1", { user: true });
    s.cpu.rflags = s.cpu.rflags | (3 << 12) | IF;
    s.run();
    expect(s.cpu.lo[RAX]).toBe(1);
    expect(frame(s, 3) & IF).toBe(0);
  });

  it("HLT halts after the instruction", () => {
    const s = snippet("nop");
    s.run();
    expect(s.cpu.halted).toBe(true);
    expect(s.cpu.rip).toBe(CODE + 2);
    expect(s.faultVector()).toBe(-1);
  });

  it.each([
    "hlt", "mov rax, cr0", "mov cr3, rax", "rdmsr", "wrmsr", "lgdt [rax]", "lidt [rax]", "invlpg [rax]",
    "swapgs", "ltr ax", "lldt ax", "xsetbv", "clts", "invd", "wbinvd", "lmsw ax", "mov rax, dr7", "sysretq",
  ])("%s at CPL 3 is #GP(0)", (src) => {
    expectFault(snippet(src, { user: true }), 13, 0);
  });
});

describe("CPUID, RDTSC, RDRAND", () => {
  const str = (...regs: number[]) =>
    regs.map((r) => String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, (r >>> 24) & 0xff)).join("");

  it("reports GenuineIntel, the brand string, the APIC id and address widths", () => {
    const s = snippet(`
      xor eax, eax
      cpuid
      mov r8, rbx
      mov r9, rdx
      mov r10, rcx
      mov eax, 1
      cpuid
      mov r11, rbx
      mov r12, rcx
      mov eax, 0x80000008
      cpuid
      mov r13, rax`);
    s.run();
    const c = s.cpu;
    expect(str(c.lo[R8], c.lo[R9], c.lo[R10])).toBe("GenuineIntel");
    expect(c.lo[R11] >>> 24).toBe(c.id);
    expect(c.lo[R12] & (1 << 5)).toBe(1 << 5); // VMX (test/vmx covers it)
    expect(c.lo[R12] & (1 << 27)).toBe(0); // OSXSAVE follows CR4
    expect(c.lo[R13] & 0xff).toBe(MAXPHYADDR);
    expect((c.lo[R13] >> 8) & 0xff).toBe(48);

    const b = snippet(`
      mov eax, 0x80000002
      cpuid
      mov [${DATA}], eax
      mov [${DATA + 4}], ebx
      mov [${DATA + 8}], ecx
      mov [${DATA + 12}], edx
      mov eax, 0x80000003
      cpuid
      mov [${DATA + 16}], eax
      mov [${DATA + 20}], ebx`);
    b.run();
    const bytes = b.mem.bytes.subarray(DATA, DATA + 24);
    expect(new TextDecoder().decode(bytes).replace(/\0+$/, "")).toBe("LVD Virtual x86-64 CPU");
  });

  it("CPUID.1:ECX.OSXSAVE reflects CR4.OSXSAVE; leaf 0xD sizes the XSAVE area", () => {
    const s = snippet("mov eax, 1\ncpuid\nmov r8, rcx\nmov eax, 0xd\nxor ecx, ecx\ncpuid");
    s.cpu.cr4 |= CR4_OSXSAVE;
    s.cpu.xcr0 = 7;
    s.run();
    expect(s.cpu.lo[R8] & (1 << 27)).not.toBe(0);
    expect(s.cpu.lo[RAX]).toBe(7);
    expect(s.cpu.lo[RBX]).toBe(832);
    expect(s.cpu.lo[RCX]).toBe(832);
  });

  it("RDTSC counts up; a TSC write moves it; CR4.TSD makes it #GP at CPL 3", () => {
    const s = snippet("rdtsc\nmov rsi, rax\nmov rdi, rdx\nnop\nnop\nrdtsc");
    s.run();
    const t0 = s.cpu.lo[RDI] * 2 ** 32 + (s.cpu.lo[RSI] >>> 0);
    const t1 = s.cpu.lo[RDX] * 2 ** 32 + (s.cpu.lo[RAX] >>> 0);
    expect(t1).toBeGreaterThan(t0);

    const w = snippet("mov ecx, 0x10\nmov eax, 0\nmov edx, 5\nwrmsr\nrdtsc\nmov ecx, 0xc0000103\nmov eax, 42\nxor edx, edx\nwrmsr\nrdtscp");
    w.run();
    expect(w.cpu.lo[RDX]).toBe(5);
    expect(w.cpu.lo[RAX] >>> 0).toBeLessThan(1000);
    expect(w.cpu.lo[RCX]).toBe(42);

    const u = snippet("rdtsc", { user: true });
    u.cpu.cr4 |= 1 << 2;
    expectFault(u, 13, 0);
  });

  it("RDRAND sets CF and gives varying values", () => {
    const s = snippet("rdrand rax\nmov rbx, rax\nrdrand rax\nrdseed ecx");
    s.run();
    expect(s.cpu.rflags & CF).toBe(CF);
    expect(s.cpu.reg64(RAX) === s.cpu.reg64(RBX) && s.cpu.hi[RAX] === s.cpu.hi[RBX]).toBe(false);
    expect(s.cpu.hi[RCX]).toBe(0);
  });
});

describe("MSRs", () => {
  it("round-trips STAR, LSTAR, FMASK, KERNEL_GS_BASE, PAT", () => {
    const s = snippet(`
      mov ecx, 0xc0000081
      mov eax, 0x11112222
      mov edx, 0x00230008
      wrmsr
      mov ecx, 0xc0000082
      mov eax, 0x80001000
      mov edx, 0xffffffff
      wrmsr
      mov ecx, 0xc0000102
      mov eax, 0x1234
      mov edx, 0x7fff
      wrmsr
      mov ecx, 0xc0000081
      rdmsr
      mov r8, rax
      mov r9, rdx
      mov ecx, 0xc0000082
      rdmsr
      mov r10, rax
      mov r11, rdx
      mov ecx, 0x277
      rdmsr`);
    s.run();
    const c = s.cpu;
    expect(c.lo[R8] >>> 0).toBe(0x11112222);
    expect(c.lo[R9]).toBe(0x00230008);
    expect(c.lo[R10] >>> 0).toBe(0x80001000);
    expect(c.lo[R11]).toBe(-1);
    expect(c.kernelGsBase).toBe(0x7fff00001234);
    expect(c.lo[RAX]).toBe(0x00070406);
    expect(c.lo[RDX]).toBe(0x00070406);
  });

  it("FS_BASE moves fs: memory accesses", () => {
    const s = snippet(`
      mov ecx, 0xc0000100
      mov eax, ${DATA}
      xor edx, edx
      wrmsr
      mov rax, fs:[8]`);
    s.mem.writeU64(DATA + 8, 0x55aa55aa);
    s.run();
    expect(s.cpu.lo[RAX]).toBe(0x55aa55aa);
    expect(s.cpu.segBase[FS]).toBe(DATA);
  });

  it("unknown MSRs, non-canonical bases and reserved EFER bits are #GP(0)", () => {
    const fault = (src: string) => {
      const lines = src.split("\n");
      expectFault(snippet(src), 13, 0, after(lines.slice(0, -1).join("\n")));
    };
    fault("mov ecx, 0x12345\nrdmsr");
    fault("mov ecx, 0x12345\nwrmsr");
    fault("mov ecx, 0xc0000100\nmov edx, 0x8000\nxor eax, eax\nwrmsr");
    fault("mov ecx, 0xc0000080\nmov eax, 0xd01\nxor edx, edx\nwrmsr\nor eax, 2\nwrmsr");
    fault("mov ecx, 0x10ff\nwrmsr");
    fault("mov ecx, 0x492\nrdmsr"); // past the VMX capability MSRs (0x480-0x491)
  });

  it("IA32_FEATURE_CONTROL cannot be written once locked", () => {
    const s = snippet("mov ecx, 0x3a\nmov eax, 5\nxor edx, edx\nwrmsr\nrdmsr\nmov ebx, eax\nwrmsr");
    expectFault(s, 13, 0, after("mov ecx, 0x3a\nmov eax, 5\nxor edx, edx\nwrmsr\nrdmsr\nmov ebx, eax"));
    expect(s.cpu.lo[RBX]).toBe(5);
  });

  it("EFER.NXE can be turned off and on; LMA stays", () => {
    const s = snippet("mov ecx, 0xc0000080\nrdmsr\nmov ebx, eax\nand eax, ~0x800\nwrmsr\nrdmsr");
    s.run();
    expect(s.cpu.lo[RBX]).toBe(0xd01);
    expect(s.cpu.lo[RAX]).toBe(0x501);
  });
});

describe("control and debug registers", () => {
  it("the literal register masks match the named bits", () => {
    expect(CR0_WRITABLE).toBe(CPU.CR0_PE | CPU.CR0_MP | CPU.CR0_EM | CPU.CR0_TS | CPU.CR0_NE | CPU.CR0_WP | CPU.CR0_AM | CPU.CR0_NW | CPU.CR0_CD | CPU.CR0_PG);
    expect(CR4_SUPPORTED).toBe(
      CR4_TSD | CR4_DE | CR4_PSE | CPU.CR4_PAE | CPU.CR4_PGE | CPU.CR4_OSFXSR | CR4_OSXMMEXCPT | CPU.CR4_VMXE |
      CPU.CR4_FSGSBASE | CPU.CR4_PCIDE | CPU.CR4_OSXSAVE | CPU.CR4_SMEP | CPU.CR4_SMAP);
    expect(CR4_FLUSH).toBe(CPU.CR4_PGE | CPU.CR4_PAE | CR4_PSE | CPU.CR4_SMEP | CPU.CR4_SMAP | CPU.CR4_PCIDE);
    expect(EFER_WRITABLE).toBe(CPU.EFER_SCE | CPU.EFER_LME | CPU.EFER_NXE);
  });

  it("CR reads, CR8, CLTS, SMSW, LMSW", () => {
    const s = snippet(`
      mov rax, cr0
      mov rbx, cr4
      mov rcx, 9
      mov cr8, rcx
      mov rdx, cr8
      clts
      smsw rsi
      lmsw di`);
    s.cpu.cr0 |= CR0_TS;
    s.cpu.lo[RDI] = 0xe; // MP EM TS; PE cannot be cleared
    s.run();
    expect(s.faultVector()).toBe(-1);
    expect(s.cpu.reg64(RAX)).toBe((s.cpu.cr0 & ~0xe | CR0_TS) >>> 0);
    expect(s.cpu.reg64(RBX)).toBe(s.cpu.cr4);
    expect(s.cpu.lo[RDX]).toBe(9);
    expect(s.cpu.lo[RSI] & CR0_TS).toBe(0);
    expect(s.cpu.cr0 & 0xf).toBe(0xf);
  });

  it.each([
    ["mov rax, 1 << 32\nmov cr0, rax", 13],
    ["mov rax, cr0\nbtr eax, 31\nmov cr0, rax", 13], // leaving long mode
    ["mov rax, cr0\nbts eax, 29\nmov cr0, rax", 13], // NW without CD
    ["mov rax, cr4\nbts eax, 22\nmov cr4, rax", 13], // PKE: not supported
    ["mov rax, cr4\nbtr eax, 5\nmov cr4, rax", 13], // PAE in long mode
    ["mov rax, 1 << 50\nmov cr3, rax", 13], // above MAXPHYADDR
    ["mov rax, 16\nmov cr8, rax", 13],
  ])("%s faults", (src, vector) => {
    const s = snippet(src);
    s.run();
    expect(s.faultVector()).toBe(vector);
    expect(s.faultError()).toBe(0);
  });

  it("CR1 and DR8 do not exist; DR4 aliases DR6 unless CR4.DE", () => {
    const cr1 = snippet("mov rax, cr1");
    cr1.run();
    expect(cr1.faultVector()).toBe(6);
    const s = snippet("mov rax, 0x3\nmov dr7, rax\nmov rbx, dr7\nmov rcx, dr5\nmov rdx, dr4\nmov rsi, 0x1234\nmov dr0, rsi\nmov rdi, dr0");
    s.run();
    expect(s.cpu.lo[RBX]).toBe(0x403);
    expect(s.cpu.lo[RCX]).toBe(0x403);
    expect(s.cpu.lo[RDX] >>> 0).toBe(0xffff0ff0);
    expect(s.cpu.lo[RDI]).toBe(0x1234);
    const de = snippet("mov rax, dr4");
    de.cpu.cr4 |= 1 << 3;
    de.run();
    expect(de.faultVector()).toBe(6);
  });

  it("a CR3 write flushes non-global translations but keeps global ones; INVLPG drops one", () => {
    const X = 0x2000000, Y = 0x2001000;
    const s = snippet(`
      mov rax, [${X}]
      mov rbx, [${Y}]
      hlt
      mov rax, cr3
      mov cr3, rax
      mov rcx, [${X}]
      mov rdx, [${Y}]
      invlpg [${X}]
      mov rsi, [${X}]`);
    const pages = [s.allocPage(), s.allocPage(), s.allocPage(), s.allocPage()];
    pages.forEach((pa, k) => s.mem.write32(pa, 100 + k));
    s.cpu.cr4 |= CR4_PGE;
    s.pt.map(X, pages[0], 4096, { write: true, global: true });
    s.pt.map(Y, pages[1], 4096, { write: true });
    s.run();
    expect([s.cpu.lo[RAX], s.cpu.lo[RBX]]).toEqual([100, 101]);
    // Repoint both pages without telling the TLB.
    s.pt.map(X, pages[2], 4096, { write: true, global: true });
    s.pt.map(Y, pages[3], 4096, { write: true });
    s.cpu.halted = false;
    s.run();
    expect(s.faultVector()).toBe(-1);
    expect(s.cpu.lo[RCX]).toBe(100); // stale global entry
    expect(s.cpu.lo[RDX]).toBe(103);
    expect(s.cpu.lo[RSI]).toBe(102);
  });
});

describe("descriptor tables", () => {
  it("SGDT/LGDT and SIDT/LIDT round-trip; a non-canonical base is #GP(0)", () => {
    const s = snippet(`
      sgdt [${DATA}]
      lgdt [${DATA + 16}]
      sgdt [${DATA + 32}]
      sidt [${DATA + 48}]`);
    s.mem.write16(DATA + 16, 0x1ff);
    s.mem.writeU64(DATA + 18, 0x123456789000);
    s.run();
    expect(s.mem.read16(DATA)).toBe(55);
    expect(s.mem.readU64(DATA + 2)).toBe(0x901000);
    expect(s.cpu.gdtLimit).toBe(0x1ff);
    expect(s.cpu.gdtBase).toBe(0x123456789000);
    expect(s.mem.read16(DATA + 32)).toBe(0x1ff);
    expect(s.mem.readU64(DATA + 34)).toBe(0x123456789000);
    expect(s.mem.read16(DATA + 48)).toBe(4095);
    expect(s.mem.readU64(DATA + 50)).toBe(0x900000);

    const bad = snippet(`lidt [${DATA}]`);
    bad.mem.write16(DATA, 0xfff);
    bad.mem.write64(DATA + 2, 0, 0x00010000);
    expectFault(bad, 13, 0);
  });

  it("LTR loads TR from a 16-byte TSS descriptor and marks it busy; STR reads it", () => {
    const s = snippet("mov ax, 0x28\nltr ax\nstr rbx\nltr ax");
    s.cpu.gdtLimit = 63; // the 16-byte TSS descriptor ends at 0x37
    s.cpu.trSel = 0;
    s.cpu.trBase = 0;
    s.cpu.trLimit = 0;
    s.run();
    expect(s.cpu.lo[RBX]).toBe(0x28);
    expect(s.cpu.trSel).toBe(0x28);
    expect(s.cpu.trBase).toBe(TSS);
    expect(s.cpu.trLimit).toBe(0x67);
    expect(s.mem.read8(0x901000 + 0x28 + 5)).toBe(0x8b);
    expect(s.faultVector()).toBe(13); // the second LTR: busy
    expect(s.faultError()).toBe(0x28);
  });

  it("LLDT accepts a null selector and rejects a non-LDT descriptor", () => {
    const s = snippet("xor eax, eax\nlldt ax\nsldt ebx\nmov ax, 0x10\nlldt ax");
    s.cpu.gdtLimit = 63;
    s.run();
    expect(s.cpu.lo[RBX]).toBe(0);
    expect(s.faultVector()).toBe(13);
    expect(s.faultError()).toBe(0x10);
  });
});

describe("SWAPGS, CLAC/STAC, FS/GS base instructions", () => {
  it("SWAPGS exchanges GS base and KERNEL_GS_BASE", () => {
    const s = snippet("swapgs\nmov rax, gs:[0]");
    s.cpu.segBase[GS] = 0x1000;
    s.cpu.kernelGsBase = DATA;
    s.mem.write32(DATA, 77);
    s.run();
    expect(s.cpu.lo[RAX]).toBe(77);
    expect(s.cpu.segBase[GS]).toBe(DATA);
    expect(s.cpu.kernelGsBase).toBe(0x1000);
  });

  it("STAC and CLAC set and clear AC", () => {
    const s = snippet("stac\npushfq\npop rax\nclac\npushfq\npop rbx");
    s.run();
    expect(s.cpu.lo[RAX] & AC).toBe(AC);
    expect(s.cpu.lo[RBX] & AC).toBe(0);
  });

  it("RDFSBASE needs CR4.FSGSBASE; WRGSBASE checks canonical addresses", () => {
    expectFault(snippet("rdfsbase rax"), 6);
    const s = snippet("mov rax, 0x7fff12345678\nwrfsbase rax\nrdfsbase rbx\nmov ecx, 0xffffffff\nwrgsbase ecx\nrdgsbase rdx");
    s.cpu.cr4 |= CR4_FSGSBASE;
    s.run();
    expect(s.cpu.reg64(RBX)).toBe(0x7fff12345678);
    expect(s.cpu.segBase[FS]).toBe(0x7fff12345678);
    expect(s.cpu.reg64(RDX)).toBe(0xffffffff);
    const bad = snippet("mov rax, 0x800000000000\nwrgsbase rax");
    bad.cpu.cr4 |= CR4_FSGSBASE;
    expectFault(bad, 13, 0, CODE + 10);
  });
});

describe("FXSAVE, XSAVE, XRSTOR", () => {
  const A = DATA, B = DATA + 0x1000;
  /** A recognisable state image in memory at `at`: x87, MXCSR, XMM, header, YMM_Hi128. */
  function pattern(s: Snippet, at: number, bv: number): void {
    for (let k = 0; k < 832; k++) s.mem.write8(at + k, (k * 7 + 3) & 0xff);
    s.mem.write32(at + 24, 0x1f80 | 0x40); // MXCSR with DAZ
    s.mem.write32(at + 28, 0xffff);
    for (let k = 512; k < 576; k++) s.mem.write8(at + k, 0);
    s.mem.write32(at + 512, bv);
  }
  const same = (s: Snippet, from: number, to: number) =>
    expect(Array.from(s.mem.bytes.subarray(B + from, B + to))).toEqual(Array.from(s.mem.bytes.subarray(A + from, A + to)));

  function xsnippet(src: string): Snippet {
    const s = snippet(src);
    s.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
    return s;
  }

  it("XRSTOR then XSAVE round-trips x87, SSE and AVX state exactly", () => {
    const s = xsnippet(`
      xor ecx, ecx
      xor edx, edx
      mov eax, 7
      xsetbv
      mov eax, -1
      mov edx, -1
      xrstor [${A}]
      xsave [${B}]
      xgetbv`);
    pattern(s, A, 7);
    s.run();
    expect(s.faultVector()).toBe(-1);
    expect(s.cpu.lo[RAX]).toBe(7);
    same(s, 0, 416);
    same(s, 512, 576);
    same(s, 576, 832);
  });

  it("XRSTOR initializes requested components whose XSTATE_BV bit is clear", () => {
    const s = xsnippet(`
      mov eax, 3
      xor edx, edx
      xrstor [${A}]
      xor eax, eax
      xrstor [${B}]
      mov eax, 3
      xsave [${B}]`);
    s.cpu.xcr0 = 3;
    pattern(s, A, 3);
    pattern(s, B, 0); // restoring B with RFBM 0 changes nothing
    s.mem.write32(A + 512, 2); // x87 not in use in A: initialized
    s.run();
    expect(s.faultVector()).toBe(-1);
    expect(s.mem.read16(B)).toBe(0x037f);
    expect(s.mem.read32(B + 8)).toBe(0);
    expect(s.mem.read32(B + 24)).toBe(0x1fc0);
    same(s, 160, 416);
    expect(s.mem.read32(B + 512)).toBe(2);
  });

  it("XSAVE faults: misaligned #GP(0), no CR4.OSXSAVE #UD, CR0.TS #NM; bad header #GP(0)", () => {
    expectFault(xsnippet(`mov eax, 1\nxsave [${A + 16}]`), 13, 0, CODE + 5);
    expectFault(snippet(`xsave [${A}]`), 6);
    const ts = xsnippet(`xsave [${A}]`);
    ts.cpu.cr0 |= CR0_TS;
    expectFault(ts, 7);
    const hdr = xsnippet(`mov eax, 3\nxrstor [${A}]`);
    hdr.cpu.xcr0 = 3;
    pattern(hdr, A, 3);
    hdr.mem.write8(A + 520, 1);
    expectFault(hdr, 13, 0, CODE + 5);
    const bv = xsnippet(`mov eax, 3\nxrstor [${A}]`);
    pattern(bv, A, 4); // AVX not enabled in XCR0
    expectFault(bv, 13, 0, CODE + 5);
  });

  it("FXRSTOR then FXSAVE round-trips the legacy area; reserved MXCSR bits #GP", () => {
    const s = snippet(`fxrstor [${A}]\nfxsave [${B}]\nstmxcsr [${B + 0x200}]`);
    s.cpu.cr4 |= CR4_OSFXSR;
    pattern(s, A, 0);
    s.run();
    expect(s.faultVector()).toBe(-1);
    same(s, 0, 416);
    expect(s.mem.read32(B + 0x200)).toBe(0x1fc0);

    const bad = snippet(`fxrstor [${A}]`);
    pattern(bad, A, 0);
    bad.mem.write32(A + 24, 0x10000);
    expectFault(bad, 13, 0);
    expectFault(snippet(`fxsave [${A + 8}]`), 13, 0);
    expectFault(snippet(`ldmxcsr [${A}]`), 6); // CR4.OSFXSR clear
  });
});

describe("SYSCALL and SYSRET", () => {
  it("round-trip between ring 3 and ring 0", () => {
    const s = snippet(`
      jmp main
      .org 0x100
      mov r12, rcx
      mov r13, r11
      mov r14d, cs
      pushfq
      pop r10
      inc rbx
      sysretq
      .org 0x200
      main:
      mov rbx, 1
      syscall
      mov r15, 9`, { user: true });
    s.cpu.rflags = s.cpu.rflags | IF;
    writeMsr(s.cpu, IA32_STAR, 0, (0x10 << 16) | 0x08);
    writeMsr(s.cpu, IA32_LSTAR, CODE + 0x100, 0);
    writeMsr(s.cpu, IA32_FMASK, IF, 0);
    expect(readMsr(s.cpu, IA32_LSTAR)[0]).toBe(CODE + 0x100);
    s.run();
    const c = s.cpu;
    expect(c.lo[RBX]).toBe(2);
    expect(c.reg64(R12)).toBe(CODE + 0x200 + 9); // after "mov rbx, 1" (7 bytes) and SYSCALL
    expect(c.lo[R13] & IF).toBe(IF);
    expect(c.lo[R14]).toBe(0x08);
    expect(c.lo[R10] & IF).toBe(0);
    expect(c.lo[R15]).toBe(9);
    // The final HLT ran at CPL 3 again: #GP(0) with a user frame.
    expect(s.faultVector()).toBe(13);
    expect(frame(s, 2)).toBe(0x23);
    expect(frame(s, 3) & IF).toBe(IF);
    expect(frame(s, 5)).toBe(0x1b);
  });

  it("SYSCALL without EFER.SCE is #UD; SYSRET to a non-canonical RCX is #GP(0)", () => {
    const s = snippet("syscall", { user: true });
    s.cpu.efer &= ~1;
    expectFault(s, 6);
    const k = snippet("mov rcx, 0x800000000000\nsysretq");
    expectFault(k, 13, 0, CODE + 10);
  });
});

describe("VMX instructions", () => {
  it.each(["vmcall", "vmxon [rax]", "vmlaunch", "vmread rax, rbx"])("%s is #UD outside VMX operation", (src) => {
    expectFault(snippet(src), 6);
  });
});

void R9;
