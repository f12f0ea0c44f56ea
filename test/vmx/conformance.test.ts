// VMX conformance: one test per rule of the Intel SDM (Vol. 3C) and of
// /work/shared/reference/intel-sdm.md that the machine honours, each named after its rule.
// Root-mode instructions are run as machine code where their RFLAGS results matter;
// guests run under a TypeScript host that records every VM exit (test/helpers/vmx.ts).

import { describe, it, expect } from "vitest";
import { snippet, CODE, DATA, STACK_TOP } from "../helpers/snippet.ts";
import { Testbed, GUEST_CODE, GUEST_DATA, GUEST_STACK, after } from "../helpers/vmx.ts";
import { assemble } from "../helpers/asm.ts";
import { RAX, RBX, RCX, RDX, CR0_TS, CR0_PE, CR0_PG, CR4_VMXE } from "../../src/machine/cpu/cpu.ts";
import { CF, ZF } from "../../src/machine/cpu/flags.ts";
import * as F from "../../src/machine/vmx/fields.ts";
import {
  VMX_CAPABILITY_MSRS, VMCS_REVISION, CR4_FIXED1, TRUE_PRIMARY_CONTROLS, TRUE_PIN_CONTROLS, TRUE_EXIT_CONTROLS,
} from "../../src/machine/vmx/capabilities.ts";
import { CR4_SUPPORTED } from "../../src/machine/cpu/ops/control-regs.ts";
import { vmxOf, VM_SUCCEED, VM_ENTRY_FAILED } from "../../src/machine/vmx/vmx.ts";
import { EptBuilder } from "../../src/machine/vmx/ept-tables.ts";

const R15 = 15;
const RW = { read: true, write: true };
const RWX = { read: true, write: true, exec: true };

/** The flags a VMX instruction leaves: run `src` as host code and read RFLAGS saved in R15 by a trailing pushfq/pop. */
function hostFlags(src: string, setup?: (t: Testbed) => void): Testbed {
  const t = new Testbed("", { host: `${src}\npushfq\npop r15`, tsHost: false });
  t.s.mem.writeU64(DATA, t.vmxonRegion);
  t.s.mem.writeU64(DATA + 8, t.vmcsRegion);
  setup?.(t);
  t.s.run();
  return t;
}
const flags = (t: Testbed) => t.cpu.lo[R15] & (CF | ZF | 0x8d4); // CF, PF, AF, ZF, SF, OF
const errorField = (t: Testbed) => t.vmx.vmcs.u32(F.VM_INSTRUCTION_ERROR);

const VMXON_AND_LOAD = `vmxon [${DATA}]\nvmclear [${DATA + 8}]\nvmptrld [${DATA + 8}]`;

// ---------------------------------------------------------------------------------------------

describe("VMXON, VMXOFF and the capability MSRs", () => {
  it("VMXON with CR4.VMXE = 0 is #UD", () => {
    const t = hostFlags(`vmxon [${DATA}]`, (t) => { t.cpu.cr4 &= ~CR4_VMXE; });
    expect(t.s.faultVector()).toBe(6);
  });

  it("VMXON without IA32_FEATURE_CONTROL locked with VMX outside SMX is #GP(0)", () => {
    const t = hostFlags(`vmxon [${DATA}]`, (t) => { t.cpu.msrs.set(0x3a, [4, 0]); });
    expect(t.s.faultVector()).toBe(13);
    expect(t.s.faultError()).toBe(0);
  });

  it("VMXON at CPL 3 is #GP(0)", () => {
    const s = snippet(`vmxon [${DATA}]`, { user: true });
    s.cpu.cr4 |= CR4_VMXE;
    s.cpu.msrs.set(0x3a, [5, 0]);
    s.run();
    expect(s.faultVector()).toBe(13);
  });

  it("VMXON with a region that is not 4 KB aligned is VMfailInvalid (CF = 1)", () => {
    const t = hostFlags(`vmxon [${DATA}]`, (t) => t.s.mem.writeU64(DATA, t.vmxonRegion + 8));
    expect(flags(t)).toBe(CF);
    expect(t.vmx.on).toBe(false);
  });

  it("VMXON with a wrong revision identifier is VMfailInvalid", () => {
    const t = hostFlags(`vmxon [${DATA}]`, (t) => t.s.mem.write32(t.vmxonRegion, VMCS_REVISION + 1));
    expect(flags(t)).toBe(CF);
  });

  it("VMXON succeeds with VMsucceed: CF, PF, AF, ZF, SF, OF clear", () => {
    const t = hostFlags(`stc\nvmxon [${DATA}]`);
    expect(flags(t)).toBe(0);
    expect(t.vmx.on).toBe(true);
    expect(t.vmx.current).toBe(null);
  });

  it("VMXON in VMX root operation is VMfailValid(15) with a current VMCS", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmxon [${DATA}]`);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMXON_IN_ROOT);
  });

  it("VMXOFF leaves VMX operation; VMX instructions are then #UD", () => {
    const t = hostFlags(`vmxon [${DATA}]\nvmxoff\nvmptrld [${DATA + 8}]`);
    expect(t.vmx.on).toBe(false);
    expect(t.s.faultVector()).toBe(6);
  });

  it("clearing CR4.VMXE in VMX operation is #GP(0)", () => {
    const t = hostFlags(`vmxon [${DATA}]\nmov rax, cr4\nbtr rax, 13\nmov cr4, rax`);
    expect(t.s.faultVector()).toBe(13);
  });

  it("clearing CR0.NE, fixed to 1 in VMX operation, is #GP(0)", () => {
    const t = hostFlags(`vmxon [${DATA}]\nmov rax, cr0\nbtr rax, 5\nmov cr0, rax`);
    expect(t.s.faultVector()).toBe(13);
  });

  it("IA32_VMX_BASIC reports the revision, 4 KB regions, write-back and the TRUE controls", () => {
    const t = hostFlags("mov ecx, 0x480\nrdmsr");
    expect(t.cpu.lo[RAX]).toBe(VMCS_REVISION);
    const hi = t.cpu.lo[RDX];
    expect(hi & 0x1fff).toBe(4096);
    expect((hi >>> 18) & 0xf).toBe(6);
    expect((hi >>> 23) & 1).toBe(1);
  });

  it("every capability MSR 0x480-0x491 reads its value and is read-only (WRMSR #GP)", () => {
    for (const [index, [lo, hi]] of VMX_CAPABILITY_MSRS) {
      const t = hostFlags(`mov ecx, ${index}\nrdmsr`);
      expect([t.cpu.lo[RAX], t.cpu.lo[RDX]]).toEqual([lo | 0, hi | 0]);
    }
    const w = hostFlags("mov ecx, 0x48d\nxor eax, eax\nxor edx, edx\nwrmsr");
    expect(w.s.faultVector()).toBe(13);
  });

  it("IA32_VMX_CR4_FIXED1 allows exactly the CR4 bits the processor supports; the TRUE controls allow CR3 exiting off", () => {
    expect(CR4_FIXED1).toBe(CR4_SUPPORTED);
    expect(TRUE_PRIMARY_CONTROLS.mustBe1 & F.CPU_CR3_LOAD_EXITING).toBe(0);
    expect(VMX_CAPABILITY_MSRS.get(0x48b)![1] & F.CPU2_ENABLE_VM_FUNCTIONS).toBe(F.CPU2_ENABLE_VM_FUNCTIONS);
    expect(VMX_CAPABILITY_MSRS.get(0x491)).toEqual([1, 0]);
  });
});

describe("VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE", () => {
  it("VMCLEAR of the VMXON region is VMfailValid(3)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmclear [${DATA}]`);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMCLEAR_VMXON_POINTER);
  });

  it("VMCLEAR with an address beyond the physical-address width is VMfail(2): VMfailInvalid without a current VMCS", () => {
    const t = hostFlags(`vmxon [${DATA}]\nvmclear [${DATA + 16}]`, (t) => t.s.mem.write64(DATA + 16, 0, 0x4000));
    expect(flags(t)).toBe(CF);
  });

  it("VMPTRLD with an unaligned address is VMfailValid(9)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmptrld [${DATA + 16}]`, (t) => t.s.mem.writeU64(DATA + 16, t.vmcsRegion + 4));
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMPTRLD_INVALID_ADDRESS);
  });

  it("VMPTRLD of the VMXON region is VMfailValid(10)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmptrld [${DATA}]`);
    expect(errorField(t)).toBe(F.ERR_VMPTRLD_VMXON_POINTER);
  });

  it("VMPTRLD of a region with a wrong revision identifier is VMfailValid(11)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmptrld [${DATA + 16}]`, (t) => {
      const other = t.region();
      t.s.mem.write32(other, VMCS_REVISION | 0x80000000); // a shadow VMCS: not supported
      t.s.mem.writeU64(DATA + 16, other);
    });
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMPTRLD_BAD_REVISION);
  });

  it("VMPTRST stores FFFFFFFF_FFFFFFFFH without a current VMCS and the VMCS address with one", () => {
    const t = hostFlags(`vmxon [${DATA}]\nvmptrst [${DATA + 16}]\nvmptrld [${DATA + 8}]\nvmptrst [${DATA + 24}]`);
    expect([t.s.mem.read32(DATA + 16), t.s.mem.read32(DATA + 20)]).toEqual([-1, -1]);
    expect(t.s.mem.read32(DATA + 24)).toBe(t.vmcsRegion);
    expect(flags(t)).toBe(0);
  });

  it("VMREAD without a current VMCS is VMfailInvalid", () => {
    const t = hostFlags(`vmxon [${DATA}]\nmov ebx, 0x4402\nvmread rax, rbx`);
    expect(flags(t)).toBe(CF);
  });

  it("VMREAD of an unsupported field is VMfailValid(12)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nmov ebx, 0x1234\nvmread rax, rbx`);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_UNSUPPORTED_FIELD);
  });

  it("a field encoding with bits 63:32 set is unsupported (VMfailValid 12)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nmov rbx, 0x100004402\nvmread rax, rbx`);
    expect(errorField(t)).toBe(F.ERR_UNSUPPORTED_FIELD);
  });

  it("VMWRITE to a read-only VM-exit information field is VMfailValid(13)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nmov ebx, 0x4402\nmov eax, 5\nvmwrite rbx, rax`);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMWRITE_READ_ONLY);
  });

  it("VMWRITE keeps the field's width (16 bits for a selector) and VMREAD zero-extends", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nmov ebx, 0x0802\nmov rax, -1\nvmwrite rbx, rax\nvmread rcx, rbx`);
    expect(flags(t)).toBe(0);
    expect(t.cpu.reg64(RCX)).toBe(0xffff);
  });

  it("access type 1 reaches bits 63:32 of a 64-bit field; on a 32-bit field it is unsupported", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}
      mov ebx, 0x2011
      mov eax, 0xabcd
      vmwrite rbx, rax
      mov ebx, 0x2010
      vmread rcx, rbx
      mov ebx, 0x4003
      vmread rdx, rbx`);
    expect(t.cpu.reg64(RCX)).toBe(0xabcd * 2 ** 32);
    expect(errorField(t)).toBe(F.ERR_UNSUPPORTED_FIELD);
  });

  it("VMREAD to memory and VMWRITE from memory move 64 bits", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}
      mov ebx, 0x681e
      vmwrite rbx, [${DATA + 32}]
      vmread [${DATA + 40}], rbx`, (t) => t.s.mem.write64(DATA + 32, 0x89abcdef | 0, 0xffff8000 | 0));
    expect(flags(t)).toBe(0);
    expect([t.s.mem.read32(DATA + 40) >>> 0, t.s.mem.read32(DATA + 44) >>> 0]).toEqual([0x89abcdef, 0xffff8000]);
  });

  it("VMCALL in VMX root operation is VMfailValid(1)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nvmcall`);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(F.ERR_VMCALL_IN_ROOT);
  });

  it("VMX instructions in VMX root operation at CPL 3 are #GP(0)", () => {
    const s = snippet("mov ebx, 0x4402\nvmread rax, rbx", { user: true });
    s.cpu.cr4 |= CR4_VMXE;
    s.cpu.msrs.set(0x3a, [5, 0]);
    const region = s.allocPage();
    s.mem.write32(region, VMCS_REVISION);
    const cpl = s.cpu.cpl;
    s.cpu.cpl = 0;
    expect(vmxOf(s.cpu).vmxon(region)).toBe(VM_SUCCEED);
    s.cpu.cpl = cpl;
    s.run();
    expect(s.faultVector()).toBe(13);
  });
});

describe("VMLAUNCH, VMRESUME and the VM-entry checks", () => {
  it("VMLAUNCH of a launched VMCS is VMfailValid(4); VMRESUME of a clear one is VMfailValid(5)", () => {
    const t = new Testbed("cpuid").launch();
    t.run();
    expect(t.vmx.vmlaunch()).toBe(F.ERR_VMLAUNCH_NOT_CLEAR);
    expect(errorField(t)).toBe(4);
    expect(t.vmx.vmclear(t.vmcsRegion)).toBe(VM_SUCCEED);
    expect(t.vmx.vmptrld(t.vmcsRegion)).toBe(VM_SUCCEED);
    expect(t.vmx.vmresume()).toBe(F.ERR_VMRESUME_NOT_LAUNCHED);
  });

  it("VMLAUNCH without a current VMCS is VMfailInvalid", () => {
    const t = hostFlags(`vmxon [${DATA}]\nvmlaunch`);
    expect(flags(t)).toBe(CF);
  });

  it("a control not allowed by the TRUE capability MSRs fails the entry with VMfailValid(7)", () => {
    const t = new Testbed("");
    t.prepare({ pin: TRUE_PIN_CONTROLS.mustBe1 | F.PIN_POSTED_INTERRUPTS });
    expect(t.vmx.vmlaunch()).toBe(F.ERR_ENTRY_INVALID_CONTROLS);
    expect(t.vmx.nonRoot).toBe(false);
  });

  it("clearing the 'host address-space size' exit control (required on this 64-bit-only machine) is VMfailValid(7)", () => {
    const t = new Testbed("");
    t.prepare({ exit: TRUE_EXIT_CONTROLS.mustBe1 & ~F.EXIT_HOST_ADDRESS_SPACE_SIZE });
    expect(t.vmx.vmlaunch()).toBe(7);
  });

  it("enable VPID with VPID 0 is VMfailValid(7)", () => {
    const t = new Testbed("");
    t.prepare({ secondary: F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VPID });
    expect(t.vmx.vmlaunch()).toBe(7);
    expect(t.vmx.lastEntryFailure).toMatch(/VPID/);
  });

  it("an EPTP with a reserved memory type or walk length is VMfailValid(7)", () => {
    for (const bad of [(e: number) => (e & ~7) | 2, (e: number) => (e & ~0x38) | (2 << 3), (e: number) => e | 0x80]) {
      const t = new Testbed("");
      t.prepare();
      t.write(F.EPT_POINTER, bad(t.ept.eptp()));
      expect(t.vmx.vmlaunch()).toBe(7);
    }
  });

  it("a CR3-target count above 4 is VMfailValid(7)", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.CR3_TARGET_COUNT, 5);
    expect(t.vmx.vmlaunch()).toBe(7);
  });

  it("injecting a #GP without 'deliver error code' is VMfailValid(7)", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.ENTRY_INTERRUPTION_INFO, F.INTR_VALID | (3 << 8) | 13);
    expect(t.vmx.vmlaunch()).toBe(7);
  });

  it("a host CS selector with RPL != 0 or a host TR selector of 0 is VMfailValid(8)", () => {
    const a = new Testbed("");
    a.prepare();
    a.write(F.HOST_CS_SELECTOR, 0x0b);
    expect(a.vmx.vmlaunch()).toBe(F.ERR_ENTRY_INVALID_HOST_STATE);
    const b = new Testbed("");
    b.prepare();
    b.write(F.HOST_TR_SELECTOR, 0);
    expect(b.vmx.vmlaunch()).toBe(8);
  });

  it("a non-canonical host RIP or host CR4 without VMXE is VMfailValid(8)", () => {
    const a = new Testbed("");
    a.prepare();
    a.write(F.HOST_RIP, 0x800000000000);
    expect(a.vmx.vmlaunch()).toBe(8);
    const b = new Testbed("");
    b.prepare();
    b.write(F.HOST_CR4, b.cpu.cr4 & ~CR4_VMXE);
    expect(b.vmx.vmlaunch()).toBe(8);
  });

  it("guest CS with L = 1 and D = 1 is a VM-entry failure: exit reason 33 with bit 31, host state loaded", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.GUEST_CS_AR, 0xe09b);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
    expect(t.last.reason >>> 0).toBe(0x80000021);
    expect(t.last.qualification).toBe(0);
    expect(t.vmx.nonRoot).toBe(false);
    expect(t.cpu.rip).toBe(CODE);
    expect(t.vmx.vmcs.launchState).toBe("clear"); // a failed VMLAUNCH does not launch
  });

  it("guest RFLAGS with reserved bit 1 clear is a VM-entry failure (33)", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.GUEST_RFLAGS, 0);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
    expect(t.last.reason & 0xffff).toBe(F.EXIT_INVALID_GUEST_STATE);
  });

  it("guest CR0 with PG clear (a fixed-1 bit without unrestricted guest) is a VM-entry failure", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.GUEST_CR0, t.cpu.cr0 & ~CR0_PG);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
  });

  it("a VMCS link pointer other than FFFFFFFF_FFFFFFFFH is a VM-entry failure with qualification 4", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.VMCS_LINK_POINTER, 0x1000);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
    expect(t.last.qualification).toBe(4);
  });

  it("an unsupported guest activity state (shutdown) is a VM-entry failure", () => {
    const t = new Testbed("");
    t.prepare();
    t.write(F.GUEST_ACTIVITY_STATE, F.ACTIVITY_SHUTDOWN);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
  });

  it("a failed VM-entry MSR-load entry is exit 34 with the entry's number; the good entries before it are loaded", () => {
    const t = new Testbed("");
    t.prepare();
    const list = t.s.allocPage();
    t.s.mem.write64(list, 0xc0000081 | 0, 0); // IA32_STAR
    t.s.mem.write64(list + 8, 0x12345678, 0x00100008);
    t.s.mem.write64(list + 16, 0xc0000100 | 0, 0); // IA32_FS_BASE: not loadable from a list
    t.write(F.ENTRY_MSR_LOAD_ADDR, list);
    t.write(F.ENTRY_MSR_LOAD_COUNT, 2);
    expect(t.vmx.vmlaunch()).toBe(VM_ENTRY_FAILED);
    expect(t.last.reason >>> 0).toBe((0x80000000 | F.EXIT_MSR_LOADING) >>> 0);
    expect(t.last.qualification).toBe(2);
    expect(t.cpu.msrs.get(0xc0000081)).toEqual([0x12345678, 0x00100008]);
  });

  it("VM entry loads the guest state: RIP, RSP, RFLAGS, CR3, selectors; execution continues at guest RIP", () => {
    const t = new Testbed("mov rax, rsp\nmov rbx, cr3\npushfq\npop rcx\nvmcall");
    t.launch({}, [[F.GUEST_RFLAGS, 0x202 | 0x40]]);
    expect(t.vmx.nonRoot).toBe(true);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.cpu.reg64(RAX)).toBe(GUEST_STACK);
    expect(t.cpu.reg64(RBX)).toBe(t.cpu.cr3);
    expect(t.cpu.reg64(RCX) & 0xfff).toBe(0x242);
  });

  it("VM entry injects a hardware exception with its error code through the guest IDT", () => {
    const t = new Testbed("nop");
    t.launch({}, [[F.ENTRY_INTERRUPTION_INFO, F.INTR_VALID | F.INTR_ERROR_CODE_VALID | (3 << 8) | 13], [F.ENTRY_EXCEPTION_ERROR_CODE, 0x18]]);
    t.run();
    expect(t.vmx.nonRoot).toBe(true);
    expect(t.s.faultVector()).toBe(13);
    expect(t.s.faultError()).toBe(0x18);
    expect(t.s.faultRip()).toBe(GUEST_CODE);
  });

  it("an injected software interrupt returns past the VM-entry instruction length", () => {
    const t = new Testbed("nop\nnop");
    t.launch({}, [[F.ENTRY_INTERRUPTION_INFO, F.INTR_VALID | (4 << 8) | 0x40], [F.ENTRY_INSTRUCTION_LENGTH, 2]]);
    t.run();
    expect(t.s.faultVector()).toBe(0x40);
    expect(t.s.faultRip()).toBe(GUEST_CODE + 2);
  });

  it("every VM exit clears the valid bit of the VM-entry interruption-information field", () => {
    const t = new Testbed("vmcall");
    t.launch({}, [[F.ENTRY_INTERRUPTION_INFO, F.INTR_VALID | (4 << 8) | 0x41], [F.ENTRY_INSTRUCTION_LENGTH, 1]]);
    t.s.mem.load(0x903000 + 0x41 * 16, assemble("vmcall")); // the vector's handler stub exits
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.read(F.ENTRY_INTERRUPTION_INFO) & F.INTR_VALID).toBe(0);
  });
});

describe("VM exits", () => {
  it("CPUID exits unconditionally (10) with the instruction length and the guest RIP of the instruction", () => {
    const t = new Testbed("nop\ncpuid").launch().run();
    expect(t.last.reason).toBe(F.EXIT_CPUID);
    expect(t.last.length).toBe(2);
    expect(t.last.rip).toBe(GUEST_CODE + 1);
  });

  it("a VM exit saves guest state and loads host state: RSP, RIP, RFLAGS = 2, CPL 0, host selectors", () => {
    const t = new Testbed("mov rsp, 0x5e0000\nsti\nvmcall").launch().run();
    expect(t.read(F.GUEST_RSP)).toBe(0x5e0000);
    expect(t.read(F.GUEST_RFLAGS) & 0x200).toBe(0x200);
    expect(t.cpu.rsp).toBe(STACK_TOP);
    expect(t.cpu.rip).toBe(CODE + 1); // after the host's HLT at HOST_RIP
    expect(t.cpu.rflags).toBe(2);
    expect(t.cpu.cpl).toBe(0);
    expect(t.cpu.segSel[1]).toBe(0x08);
    expect(t.vmx.nonRoot).toBe(false);
  });

  it("VMCALL in VMX non-root operation exits with reason 18", () => {
    const t = new Testbed("vmcall").launch().run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.last.length).toBe(3);
  });

  it("INVD exits unconditionally (13)", () => {
    expect(new Testbed("invd").launch().run().last.reason).toBe(F.EXIT_INVD);
  });

  it("XSETBV exits unconditionally (55)", () => {
    const t = new Testbed("xor ecx, ecx\nmov eax, 7\nxor edx, edx\nxsetbv");
    t.cpu.cr4 |= 1 << 18;
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_XSETBV);
  });

  it("HLT exits (12) only with HLT exiting; otherwise the guest halts and a later exit saves activity state HLT", () => {
    const a = new Testbed("hlt").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_HLT_EXITING }).run();
    expect(a.last.reason).toBe(F.EXIT_HLT);
    const b = new Testbed("hlt").launch({ pin: TRUE_PIN_CONTROLS.mustBe1 | F.PIN_NMI_EXITING }).run();
    expect(b.exits).toHaveLength(0);
    expect(b.vmx.nonRoot && b.cpu.halted).toBe(true);
    expect(b.cpu.eventInterceptor!.nmi(b.cpu)).toBe(true);
    expect(b.read(F.GUEST_ACTIVITY_STATE)).toBe(F.ACTIVITY_HLT);
  });

  it("INVLPG exiting (14) gives the linear address as qualification", () => {
    const t = new Testbed("mov rbx, 0x123000\ninvlpg [rbx+0x45]").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_INVLPG_EXITING }).run();
    expect(t.last.reason).toBe(F.EXIT_INVLPG);
    expect(t.last.qualification).toBe(0x123045);
  });

  it("RDTSC exiting (16); without it, 'use TSC offsetting' adds the TSC offset", () => {
    const a = new Testbed("rdtsc").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_RDTSC_EXITING }).run();
    expect(a.last.reason).toBe(F.EXIT_RDTSC);
    const b = new Testbed("rdtsc\nshl rdx, 32\nor rax, rdx\nvmcall");
    b.launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_TSC_OFFSETTING }, [[F.TSC_OFFSET, 1e12]]).run();
    const tsc = b.cpu.reg64(RAX);
    expect(tsc).toBeGreaterThan(1e12);
    expect(tsc).toBeLessThan(1e12 + b.cpu.cycles);
  });

  it("RDTSCP is #UD in a guest unless 'enable RDTSCP'; with it and RDTSC exiting it exits with 51", () => {
    const a = new Testbed("rdtscp").launch({}, [[F.EXCEPTION_BITMAP, 1 << 6]]).run();
    expect(a.last.reason).toBe(F.EXIT_EXCEPTION_OR_NMI);
    expect(a.last.interruption & 0xff).toBe(6);
    const b = new Testbed("rdtscp").launch({
      primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_RDTSC_EXITING, secondary: F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_RDTSCP,
    }).run();
    expect(b.last.reason).toBe(F.EXIT_RDTSCP);
  });

  it("PAUSE exiting (40)", () => {
    expect(new Testbed("pause").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_PAUSE_EXITING }).run().last.reason).toBe(F.EXIT_PAUSE);
  });

  it("VMREAD in non-root operation exits (23) with register operands in the instruction information", () => {
    const t = new Testbed("vmread rax, rbx").launch().run();
    expect(t.last.reason).toBe(F.EXIT_VMREAD);
    expect(t.last.info >>> 0).toBe((1 << 10) | (RAX << 3) | (RBX << 28));
  });

  it("VMPTRLD in non-root operation exits (21) with the displacement as qualification and the memory operand described", () => {
    const t = new Testbed("vmptrld [rbx + rcx*4 + 0x18]").launch().run();
    expect(t.last.reason).toBe(F.EXIT_VMPTRLD);
    expect(t.last.qualification).toBe(0x18);
    expect(t.last.info >>> 0).toBe(2 | (2 << 7) | (3 << 15) | (RCX << 18) | (RBX << 23));
  });

  it("VMXON (27), VMXOFF (26), VMLAUNCH (20), INVEPT (50) and INVVPID (53) in non-root operation exit", () => {
    const cases: [string, number][] = [
      ["vmxon [rax]", F.EXIT_VMXON], ["vmxoff", F.EXIT_VMXOFF], ["vmlaunch", F.EXIT_VMLAUNCH],
      ["invept rax, [rbx]", F.EXIT_INVEPT], ["invvpid rax, [rbx]", F.EXIT_INVVPID], ["vmclear [rax]", F.EXIT_VMCLEAR],
    ];
    for (const [src, reason] of cases) expect(new Testbed(src).launch().run().last.reason).toBe(reason);
  });
});

describe("control-register accesses", () => {
  const masked = (mask: number, shadow: number, field = "0"): [number, number][] =>
    field === "0" ? [[F.CR0_GUEST_HOST_MASK, mask], [F.CR0_READ_SHADOW, shadow]] : [[F.CR4_GUEST_HOST_MASK, mask], [F.CR4_READ_SHADOW, shadow]];

  it("a MOV to CR0 that changes a masked bit relative to the read shadow exits (28): CR 0, MOV to CR, register", () => {
    const t = new Testbed("mov rbx, cr0\nor rbx, 8\nmov cr0, rbx").launch({}, masked(CR0_TS, 0)).run();
    expect(t.last.reason).toBe(F.EXIT_CR_ACCESS);
    expect(t.last.qualification).toBe((RBX << 8) | 0);
    expect(t.last.rip).toBe(after("mov rbx, cr0\nor rbx, 8"));
  });

  it("a read of CR0 returns the read shadow for masked bits", () => {
    const t = new Testbed("mov rax, cr0\nvmcall").launch({}, masked(CR0_TS, CR0_TS)).run();
    expect(t.cpu.lo[RAX] & CR0_TS).toBe(CR0_TS);
    expect(t.read(F.GUEST_CR0) & CR0_TS).toBe(0);
  });

  it("a MOV to CR0 matching the shadow in masked bits does not exit and leaves those bits of CR0 alone", () => {
    const t = new Testbed("mov rax, cr0\nand rax, ~8\nmov cr0, rax\nvmcall");
    t.launch({}, [...masked(CR0_TS, 0), [F.GUEST_CR0, (t.cpu.cr0 | CR0_TS) >>> 0]]).run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.read(F.GUEST_CR0) & CR0_TS).toBe(CR0_TS);
  });

  it("CR4's guest/host mask hides CR4.VMXE: reads show the shadow, setting it exits", () => {
    const t = new Testbed("mov rax, cr4\nmov cr4, rax\nmov rbx, rax\nbts rbx, 13\nmov cr4, rbx");
    t.launch({}, masked(CR4_VMXE, 0, "4")).run();
    expect(t.cpu.lo[RAX] & CR4_VMXE).toBe(0);
    expect(t.last.reason).toBe(F.EXIT_CR_ACCESS);
    expect(t.last.qualification).toBe(4 | (RBX << 8));
    expect(t.read(F.GUEST_CR4) & CR4_VMXE).toBe(CR4_VMXE);
  });

  it("an unmasked write clearing CR4.VMXE is #GP(0) in the guest (a VMX fixed bit)", () => {
    const t = new Testbed("mov rax, cr4\nbtr rax, 13\nmov cr4, rax").launch({}, [[F.EXCEPTION_BITMAP, 1 << 13]]).run();
    expect(t.last.reason).toBe(0);
    expect(t.last.interruption & 0xff).toBe(13);
  });

  it("CLTS exits when CR0.TS is set in both the mask and the shadow; with a clear shadow it leaves TS alone", () => {
    const a = new Testbed("clts").launch({}, masked(CR0_TS, CR0_TS)).run();
    expect(a.last.qualification).toBe(2 << 4);
    const b = new Testbed("clts\nvmcall");
    b.launch({}, [...masked(CR0_TS, 0), [F.GUEST_CR0, (b.cpu.cr0 | CR0_TS) >>> 0]]).run();
    expect(b.last.reason).toBe(F.EXIT_VMCALL);
    expect(b.read(F.GUEST_CR0) & CR0_TS).toBe(CR0_TS);
  });

  it("LMSW setting a masked PE that the shadow has clear exits with the LMSW type and source data", () => {
    const t = new Testbed("mov ax, 0x0001\nlmsw ax").launch({}, masked(CR0_PE, 0)).run();
    expect(t.last.reason).toBe(F.EXIT_CR_ACCESS);
    expect(t.last.qualification).toBe((3 << 4) | (1 << 16));
  });

  it("SMSW returns the read shadow for masked bits", () => {
    const t = new Testbed("smsw eax\nvmcall").launch({}, masked(CR0_TS, CR0_TS)).run();
    expect(t.cpu.lo[RAX] & CR0_TS).toBe(CR0_TS);
  });

  it("a CR3 load that matches a CR3-target value does not exit", () => {
    const t = new Testbed("mov rax, cr3\nmov cr3, rax\nvmcall");
    t.launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_CR3_LOAD_EXITING }, [[F.CR3_TARGET_COUNT, 2], [F.CR3_TARGET_VALUE1, t.cpu.cr3]]).run();
    expect(t.exits.map((e) => e.reason)).toEqual([F.EXIT_VMCALL]);
  });

  it("a CR3 load that matches no CR3-target value (or a target beyond the count) exits with CR 3 and the register", () => {
    const t = new Testbed("mov rcx, cr3\nmov cr3, rcx");
    t.launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_CR3_LOAD_EXITING }, [[F.CR3_TARGET_COUNT, 1], [F.CR3_TARGET_VALUE1, t.cpu.cr3]]).run();
    expect(t.last.reason).toBe(F.EXIT_CR_ACCESS);
    expect(t.last.qualification).toBe(3 | (RCX << 8));
  });

  it("CR3-store exiting makes MOV from CR3 exit with access type 1", () => {
    const t = new Testbed("mov rdx, cr3").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_CR3_STORE_EXITING }).run();
    expect(t.last.qualification).toBe(3 | (1 << 4) | (RDX << 8));
  });

  it("CR8-load exiting makes MOV to CR8 exit", () => {
    const t = new Testbed("xor eax, eax\nmov cr8, rax").launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_CR8_LOAD_EXITING }).run();
    expect(t.last.qualification).toBe(8);
  });

  it("MOV-DR exiting (29): qualification DR number, direction and register", () => {
    const p = { primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_MOV_DR_EXITING };
    expect(new Testbed("mov rax, dr7").launch(p).run().last.qualification).toBe(7 | 16);
    const t = new Testbed("mov dr1, rcx").launch(p).run();
    expect(t.last.reason).toBe(F.EXIT_DR_ACCESS);
    expect(t.last.qualification).toBe(1 | (RCX << 8));
  });
});

describe("MSR bitmaps", () => {
  const withBitmaps = (t: Testbed, set: (page: number) => void): [number, number][] => {
    const page = t.s.allocPage();
    set(page);
    return [[F.MSR_BITMAPS, page]];
  };
  const MSR = { primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_USE_MSR_BITMAPS };

  it("without 'use MSR bitmaps' every RDMSR (31) and WRMSR (32) exits", () => {
    expect(new Testbed("mov ecx, 0x10\nrdmsr").launch().run().last.reason).toBe(F.EXIT_RDMSR);
    expect(new Testbed("mov ecx, 0x10\nwrmsr").launch().run().last.reason).toBe(F.EXIT_WRMSR);
  });

  it("a clear bit in the read bitmap for low MSRs lets RDMSR execute; a set bit exits", () => {
    const t = new Testbed("mov ecx, 0x174\nrdmsr\nmov ecx, 0x175\nrdmsr");
    t.launch(MSR, withBitmaps(t, (p) => t.s.mem.write8(p + (0x175 >> 3), 1 << (0x175 & 7)))).run();
    expect(t.exits).toHaveLength(1);
    expect(t.last.reason).toBe(F.EXIT_RDMSR);
    expect(t.last.rip).toBe(after("mov ecx, 0x174\nrdmsr\nmov ecx, 0x175"));
  });

  it("the write bitmap for high MSRs (offset 3072) makes WRMSR to C0000082H exit while RDMSR of it does not", () => {
    const t = new Testbed("mov ecx, 0xc0000082\nrdmsr\nwrmsr");
    t.launch(MSR, withBitmaps(t, (p) => t.s.mem.write8(p + 3072 + (0x82 >> 3), 1 << (0x82 & 7)))).run();
    expect(t.exits.map((e) => e.reason)).toEqual([F.EXIT_WRMSR]);
    expect(t.last.rip).toBe(after("mov ecx, 0xc0000082\nrdmsr"));
  });

  it("an MSR outside 0-1FFFH and C0000000H-C0001FFFH always exits", () => {
    const t = new Testbed("mov ecx, 0x40000000\nrdmsr");
    t.launch(MSR, withBitmaps(t, () => {})).run();
    expect(t.last.reason).toBe(F.EXIT_RDMSR);
  });
});

describe("I/O instructions", () => {
  const IO = { primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_UNCONDITIONAL_IO_EXITING };

  it("unconditional I/O exiting: OUT imm8 reports size, direction OUT, immediate operand and the port", () => {
    const t = new Testbed("out 0x80, al").launch(IO).run();
    expect(t.last.reason).toBe(F.EXIT_IO);
    expect(t.last.qualification).toBe(0 | 64 | (0x80 << 16));
    expect(t.last.length).toBe(2);
  });

  it("IN EAX, DX reports size 4 (3), direction IN and DX encoding", () => {
    const t = new Testbed("mov dx, 0x3f8\nin eax, dx").launch(IO).run();
    expect(t.last.qualification).toBe(3 | 8 | (0x3f8 << 16));
  });

  it("REP OUTSB reports string and REP, the linear address of [DS:RSI] and the instruction information", () => {
    const t = new Testbed(`mov dx, 0x80\nmov rsi, ${GUEST_DATA + 5}\nmov ecx, 4\nrep outsb`).launch(IO).run();
    expect(t.last.qualification).toBe(16 | 32 | (0x80 << 16));
    expect(t.last.guestLinear).toBe(GUEST_DATA + 5);
    expect(t.last.info).toBe((2 << 7) | (3 << 15));
  });

  it("I/O bitmaps take precedence: a set bit exits, a clear bit lets the access reach the port", () => {
    const t = new Testbed("out 0x71, al\nout 0x70, al");
    const a = t.s.allocPage(), b = t.s.allocPage();
    t.s.mem.write8(a + (0x70 >> 3), 1 << (0x70 & 7));
    t.launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_USE_IO_BITMAPS | F.CPU_UNCONDITIONAL_IO_EXITING }, [[F.IO_BITMAP_A, a], [F.IO_BITMAP_B, b]]).run();
    expect(t.s.ports.writes.map((w) => w[0])).toEqual([0x71]);
    expect(t.last.qualification >>> 16).toBe(0x70);
  });

  it("a 4-byte access whose last port's bit is set in bitmap B (8000H-FFFFH) exits", () => {
    const t = new Testbed("mov dx, 0x7ffe\nout dx, eax");
    const a = t.s.allocPage(), b = t.s.allocPage();
    t.s.mem.write8(b, 1 << 1); // port 8001H
    t.launch({ primary: TRUE_PRIMARY_CONTROLS.mustBe1 | F.CPU_USE_IO_BITMAPS }, [[F.IO_BITMAP_A, a], [F.IO_BITMAP_B, b]]).run();
    expect(t.last.reason).toBe(F.EXIT_IO);
    expect(t.s.ports.writes).toHaveLength(0);
  });
});

describe("descriptor-table exiting", () => {
  const DT = { secondary: F.CPU2_ENABLE_EPT | F.CPU2_DESCRIPTOR_TABLE_EXITING };

  it("LGDT exits (46) with the displacement and instruction information (LGDT, base register, 64-bit addresses)", () => {
    const t = new Testbed("lgdt [rbx + 0x10]").launch(DT).run();
    expect(t.last.reason).toBe(F.EXIT_GDTR_IDTR);
    expect(t.last.qualification).toBe(0x10);
    expect(t.last.info >>> 0).toBe(((2 << 28) | (RBX << 23) | (1 << 22) | (3 << 15) | (1 << 11) | (2 << 7)) >>> 0);
  });

  it("SIDT exits (46) with instruction identity 1", () => {
    const t = new Testbed(`sidt [${GUEST_DATA}]`).launch(DT).run();
    expect(t.last.reason).toBe(F.EXIT_GDTR_IDTR);
    expect((t.last.info >>> 28) & 3).toBe(1);
  });

  it("LTR with a register operand exits (47): identity 3, register form, reg1", () => {
    const t = new Testbed("mov ax, 0x28\nltr cx").launch(DT).run();
    expect(t.last.reason).toBe(F.EXIT_LDTR_TR);
    expect(t.last.info >>> 0).toBe(((3 << 28) | (1 << 10) | (RCX << 3)) >>> 0);
  });

  it("without descriptor-table exiting SGDT executes in the guest", () => {
    const t = new Testbed(`sgdt [${GUEST_DATA}]\nvmcall`).launch().run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.s.mem.read16(GUEST_DATA)).toBe(t.read(F.GUEST_GDTR_LIMIT));
  });
});

describe("exceptions and the exception bitmap", () => {
  it("an exception whose bit is set exits (0) with type hardware exception, vector and no error code", () => {
    const t = new Testbed("nop\nud2").launch({}, [[F.EXCEPTION_BITMAP, 1 << 6]]).run();
    expect(t.last.reason).toBe(F.EXIT_EXCEPTION_OR_NMI);
    expect(t.last.interruption >>> 0).toBe((F.INTR_VALID | (3 << 8) | 6) >>> 0);
    expect(t.last.rip).toBe(GUEST_CODE + 1);
  });

  it("a #GP exit reports its error code (bit 11 and the error-code field)", () => {
    const t = new Testbed("mov ax, 0x100\nmov ds, ax").launch({}, [[F.EXCEPTION_BITMAP, 1 << 13]]).run();
    expect(t.last.interruption >>> 0).toBe((F.INTR_VALID | F.INTR_ERROR_CODE_VALID | (3 << 8) | 13) >>> 0);
    expect(t.last.interruptionError).toBe(0x100);
  });

  it("an exception whose bit is clear is delivered through the guest IDT", () => {
    const t = new Testbed("ud2").launch({}, [[F.EXCEPTION_BITMAP, 1 << 13]]).run();
    expect(t.exits).toHaveLength(0);
    expect(t.s.faultVector()).toBe(6);
    expect(t.vmx.nonRoot).toBe(true);
  });

  it("#PF with bit 14 set exits when PFEC & mask = match: the qualification is the address and CR2 is unchanged", () => {
    const t = new Testbed("mov rax, [0x7f0000000010]");
    t.cpu.cr2 = 0x1234;
    t.launch({}, [[F.EXCEPTION_BITMAP, 1 << 14], [F.PF_ERROR_CODE_MASK, 1], [F.PF_ERROR_CODE_MATCH, 0]]).run();
    expect(t.last.reason).toBe(0);
    expect(t.last.interruption & 0xff).toBe(14);
    expect(t.last.interruptionError).toBe(0);
    expect(t.last.qualification).toBe(0x7f0000000010);
    expect(t.cpu.cr2).toBe(0x1234);
  });

  it("#PF with bit 14 set but PFEC & mask != match is delivered to the guest (CR2 loaded)", () => {
    const t = new Testbed("mov rax, [0x7f0000000010]");
    t.launch({}, [[F.EXCEPTION_BITMAP, 1 << 14], [F.PF_ERROR_CODE_MASK, 1], [F.PF_ERROR_CODE_MATCH, 1]]).run();
    expect(t.exits).toHaveLength(0);
    expect(t.s.faultVector()).toBe(14);
    expect(t.cpu.cr2).toBe(0x7f0000000010);
  });

  it("#PF with bit 14 clear exits when PFEC & mask != match", () => {
    const t = new Testbed("mov rax, [0x7f0000000010]");
    t.launch({}, [[F.EXCEPTION_BITMAP, 0], [F.PF_ERROR_CODE_MASK, 1], [F.PF_ERROR_CODE_MATCH, 1]]).run();
    expect(t.last.reason).toBe(0);
    expect(t.last.interruption & 0xff).toBe(14);
  });

  it("INT3 with bit 3 set exits as a software exception (type 6) with the instruction length", () => {
    const t = new Testbed("nop\nint3").launch({}, [[F.EXCEPTION_BITMAP, 1 << 3]]).run();
    expect(t.last.interruption >>> 0).toBe((F.INTR_VALID | (6 << 8) | 3) >>> 0);
    expect(t.last.length).toBe(1);
    expect(t.last.rip).toBe(GUEST_CODE + 1);
  });

  it("a triple fault in the guest is a VM exit (2), not a shutdown", () => {
    const t = new Testbed("ud2").launch({}, [[F.GUEST_IDTR_LIMIT, 0]]).run();
    expect(t.last.reason).toBe(F.EXIT_TRIPLE_FAULT);
    expect(t.cpu.shutdown).toBe(null);
  });

  it("an exit while delivering an exception records it as IDT-vectoring information", () => {
    const t = new Testbed("ud2");
    t.ept.map(t.cpu.idtBase, t.cpu.idtBase, 4096, {});
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(t.last.vectoring >>> 0).toBe((F.INTR_VALID | (3 << 8) | 6) >>> 0);
  });

  it("an IST gate switches stacks without a privilege change (guest at CPL 0)", () => {
    const t = new Testbed("int 0x40");
    const gate = t.cpu.idtBase + 0x40 * 16;
    t.s.mem.write32(gate + 4, t.s.mem.read32(gate + 4) | 2); // IST 2
    t.launch().run();
    const ist2 = t.s.mem.readU64(t.cpu.trBase + 0x24 + 8); // TSS.IST2
    expect(t.s.faultVector()).toBe(0x40);
    expect(t.cpu.rsp).toBe((ist2 & ~15) - 40);
    expect(t.cpu.read64(t.cpu.rsp + 24)).toBe(GUEST_STACK);
    expect(t.cpu.cpl).toBe(0);
  });
});

/** Physical addresses of the guest paging-structure entries that map `la` (PML4E first). */
function guestEntries(t: Testbed, la: number): number[] {
  const out: number[] = [];
  let table = t.cpu.cr3;
  for (const shift of [39, 30, 21, 12]) {
    const e = table + (Math.floor(la / 2 ** shift) & 511) * 8;
    out.push(e);
    const lo = t.s.mem.read32(e), hi = t.s.mem.read32(e + 4);
    if (shift === 12 || (lo & 0x80) !== 0) break;
    table = (hi & 0x3fff) * 2 ** 32 + ((lo & ~0xfff) >>> 0);
  }
  return out;
}
const page = (pa: number) => pa - (pa % 4096);
const VIOLATION_LINEAR = F.EPT_QUAL_LINEAR_VALID, FINAL = F.EPT_QUAL_FINAL;

describe("EPT violations and misconfigurations", () => {
  it("a read from a page not present in the EPT is a violation (48): bit 0, no permissions, final translation, both addresses", () => {
    const t = new Testbed(`mov rax, [${GUEST_DATA + 8}]`);
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, {});
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(t.last.qualification).toBe(F.EPT_QUAL_READ | VIOLATION_LINEAR | FINAL);
    expect(t.last.guestPhysical).toBe(GUEST_DATA + 8);
    expect(t.last.guestLinear).toBe(GUEST_DATA + 8);
  });

  it("a write to a read-only EPT page is a violation with bit 1 and the readable bit 3", () => {
    const t = new Testbed(`mov [${GUEST_DATA}], rax`);
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { read: true });
    t.launch().run();
    expect(t.last.qualification).toBe(F.EPT_QUAL_WRITE | F.EPT_QUAL_READABLE | VIOLATION_LINEAR | FINAL);
  });

  it("a fetch from a page without execute permission in the EPT is a violation with bit 2 and the R/W permission bits", () => {
    const t = new Testbed(`mov rax, ${GUEST_CODE + 0x1000}\njmp rax`);
    t.ept.map(GUEST_CODE + 0x1000, GUEST_CODE + 0x1000, 4096, RW);
    t.launch().run();
    expect(t.last.qualification).toBe(F.EPT_QUAL_FETCH | F.EPT_QUAL_READABLE | F.EPT_QUAL_WRITABLE | VIOLATION_LINEAR | FINAL);
    expect(t.last.rip).toBe(GUEST_CODE + 0x1000);
    expect(t.last.guestLinear).toBe(GUEST_CODE + 0x1000);
  });

  it("a read of a guest paging-structure entry the EPT does not map is a violation with bit 8 clear", () => {
    const t = new Testbed("nop");
    const pde = guestEntries(t, GUEST_CODE)[2];
    t.ept.map(page(pde), page(pde), 4096, {});
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(t.last.qualification).toBe(F.EPT_QUAL_READ | VIOLATION_LINEAR);
    expect(t.last.guestPhysical).toBe(pde);
    expect(t.last.guestLinear).toBe(GUEST_CODE);
  });

  it("setting an accessed flag in a guest paging structure is a write: a read-only page-table page is a violation with bit 1", () => {
    const t = new Testbed("nop");
    const pde = guestEntries(t, GUEST_CODE)[2];
    t.ept.map(page(pde), page(pde), 4096, { read: true });
    t.launch().run();
    expect(t.last.qualification).toBe(F.EPT_QUAL_WRITE | F.EPT_QUAL_READABLE | VIOLATION_LINEAR);
    expect(t.last.guestPhysical).toBe(pde);
  });

  it("with EPT accessed/dirty flags on, every guest paging-structure access is a write (bits 0 and 1)", () => {
    const t = new Testbed("nop");
    const pde = guestEntries(t, GUEST_CODE)[2];
    t.s.mem.write32(pde, t.s.mem.read32(pde) | 0x20); // A already set: no guest A/D write needed
    t.ept.map(page(pde), page(pde), 4096, { read: true });
    t.launch({}, [[F.EPT_POINTER, t.ept.eptp(true)]]).run();
    expect(t.last.qualification).toBe(F.EPT_QUAL_READ | F.EPT_QUAL_WRITE | F.EPT_QUAL_READABLE | VIOLATION_LINEAR);
  });

  it("the guest's own page walk goes through the EPT (a remapped page-directory page changes the translation)", () => {
    const t = new Testbed(`mov rax, [${DATA + 0x40}]\nvmcall`);
    const pde = guestEntries(t, DATA)[2];
    const copy = t.s.allocPage();
    t.s.mem.load(copy, t.s.mem.bytes.slice(page(pde), page(pde) + 4096));
    t.s.mem.write64(copy + (pde % 4096), 0x1000000 | 0x83, 0); // DATA's 2 MB -> 16 MB, in the copy only
    t.ept.map(page(pde), copy, 4096, RWX);
    t.s.mem.writeU64(DATA + 0x40, 0x1111);
    t.s.mem.writeU64(0x1000040, 0x2222);
    t.launch().run();
    expect(t.cpu.reg64(RAX)).toBe(0x2222);
  });

  const misconfig = (name: string, set: (t: Testbed) => void) => {
    it(name, () => {
      const t = new Testbed(`mov rax, [${GUEST_DATA + 0x10}]`);
      set(t);
      t.launch().run();
      expect(t.last.reason).toBe(F.EXIT_EPT_MISCONFIG);
      expect(t.last.guestPhysical).toBe(GUEST_DATA + 0x10);
      expect(t.last.qualification).toBe(0);
    });
  };
  misconfig("a write-only EPT entry is a misconfiguration (49)", (t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { write: true }));
  misconfig("a write+execute EPT entry without read is a misconfiguration", (t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { write: true, exec: true }));
  misconfig("an execute-only EPT entry is a misconfiguration (execute-only is not supported)", (t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { exec: true }));
  misconfig("memory type 2 in an EPT leaf is a misconfiguration", (t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { read: true, memoryType: 2 }));
  misconfig("memory type 7 in an EPT leaf is a misconfiguration", (t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { read: true, memoryType: 7 }));
  misconfig("an EPT entry with an address bit above MAXPHYADDR (46) is a misconfiguration", (t) => {
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, RW);
    const e = t.ept.entryFor(GUEST_DATA);
    t.s.mem.write32(e + 4, 1 << 14);
  });

  it("bit 7 (page size) in an EPT PML4E is a misconfiguration, met at the guest's first access (its PML4 table)", () => {
    const t = new Testbed("nop");
    const e = t.ept.entryFor(GUEST_DATA, 39);
    t.s.mem.write32(e, t.s.mem.read32(e) | 0x80);
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_EPT_MISCONFIG);
    expect(t.last.guestPhysical).toBe(t.cpu.cr3);
  });

  it("a 2 MB EPT page whose address bits 20:12 are not 0 is a misconfiguration", () => {
    const t = new Testbed(`mov rax, [${DATA + 0x10}]`);
    const e = t.ept.entryFor(DATA, 21);
    t.s.mem.write32(e, t.s.mem.read32(e) | 0x1000);
    t.launch().run();
    expect(t.last.reason).toBe(F.EXIT_EPT_MISCONFIG);
    expect(t.last.guestPhysical).toBe(DATA + 0x10);
  });
});

describe("EPT pages and accessed/dirty flags", () => {
  it("a 2 MB EPT page maps a whole 2 MB guest-physical region", () => {
    const t = new Testbed("mov rax, [0x40001238]\nmov rbx, [0x401ff000]\nvmcall");
    t.s.pt.map(0x40000000, 0x1000000, 0x200000, { write: true }, 0x200000);
    t.ept.map(0x1000000, 0x1200000, 0x200000, RW, 0x200000);
    t.s.mem.writeU64(0x1201238, 0xabc);
    t.s.mem.writeU64(0x13ff000, 0xdef);
    t.launch().run();
    expect([t.cpu.reg64(RAX), t.cpu.reg64(RBX)]).toEqual([0xabc, 0xdef]);
  });

  it("a 1 GB EPT page (PDPTE with bit 7) maps a whole 1 GB guest-physical region", () => {
    const t = new Testbed("mov rax, [0x80001238]\nvmcall");
    t.s.pt.map(0x80000000, 0x40000000, 0x200000, { write: true }, 0x200000);
    t.ept.map(0x40000000, 0, 0x40000000, RW, 0x40000000);
    t.s.mem.writeU64(0x1238, 0x5a5a);
    t.launch().run();
    expect(t.cpu.reg64(RAX)).toBe(0x5a5a);
  });

  it("with EPTP bit 6, a read sets the accessed flag of every EPT entry used, a write also the leaf's dirty flag", () => {
    const t = new Testbed(`mov rax, [${GUEST_DATA}]\nvmcall\nmov [${GUEST_DATA}], rax\nvmcall`);
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, RW);
    const entries = [39, 30, 21, 12].map((s) => t.ept.entryFor(GUEST_DATA, s));
    t.launch({}, [[F.EPT_POINTER, t.ept.eptp(true)]]).run();
    expect(entries.map((e) => (t.s.mem.read32(e) >> 8) & 3)).toEqual([1, 1, 1, 1]);
    t.resume();
    t.run();
    expect((t.s.mem.read32(entries[3]) >> 8) & 3).toBe(3);
  });

  it("without EPTP bit 6 the EPT accessed and dirty flags are left alone", () => {
    const t = new Testbed(`mov [${GUEST_DATA}], rax\nvmcall`);
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, RW);
    t.launch().run();
    expect((t.s.mem.read32(t.ept.entryFor(GUEST_DATA)) >> 8) & 3).toBe(0);
  });
});

describe("TLB tagging: VPID, INVVPID, INVEPT", () => {
  const LA = 0x40000000;
  /** A guest that reads LA twice around a VMCALL; the host repoints LA's page-table entry in between. */
  function twoReads(vpid: boolean, between: (t: Testbed) => void): number {
    const t = new Testbed(`mov rax, [${LA}]\nvmcall\nmov rbx, [${LA}]\nvmcall`);
    const p1 = t.s.allocPage(), p2 = t.s.allocPage();
    t.s.mem.writeU64(p1, 0x11);
    t.s.mem.writeU64(p2, 0x22);
    t.s.pt.map(LA, p1, 4096, { write: true });
    const ctl = vpid ? { secondary: F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VPID } : {};
    t.launch(ctl, [[F.VPID, 7]]).run();
    expect(t.cpu.reg64(RAX)).toBe(0x11);
    const pte = guestEntries(t, LA)[3];
    t.s.mem.write32(pte, (t.s.mem.read32(pte) & 0xfff) | p2);
    between(t);
    expect(t.resume()).toBe(VM_SUCCEED);
    t.run();
    return t.cpu.reg64(RBX);
  }

  it("with VPIDs, guest translations survive a VM exit and entry (the stale entry is still used)", () => {
    expect(twoReads(true, () => {})).toBe(0x11);
  });

  it("INVVPID single-context drops the VPID's translations", () => {
    expect(twoReads(true, (t) => expect(t.vmx.invvpid(1, 7)).toBe(VM_SUCCEED))).toBe(0x22);
  });

  it("INVVPID individual-address drops the translation of that linear address", () => {
    expect(twoReads(true, (t) => expect(t.vmx.invvpid(0, 7, LA)).toBe(VM_SUCCEED))).toBe(0x22);
  });

  it("INVVPID of another VPID leaves this one's translations", () => {
    expect(twoReads(true, (t) => t.vmx.invvpid(1, 8))).toBe(0x11);
  });

  it("without VPIDs every VM entry and exit flushes (VPID 0) translations", () => {
    expect(twoReads(false, () => {})).toBe(0x22);
  });

  it("INVEPT single-context drops the combined translations of that EPTP; before it the old EPT mapping is still used", () => {
    const run = (invept: boolean) => {
      const t = new Testbed(`mov rax, [${GUEST_DATA}]\nvmcall\nmov rbx, [${GUEST_DATA}]\nvmcall`);
      const other = t.s.allocPage();
      t.s.mem.writeU64(GUEST_DATA, 0x33);
      t.s.mem.writeU64(other, 0x44);
      t.ept.map(GUEST_DATA, GUEST_DATA, 4096, RW);
      t.launch({ secondary: F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VPID }, [[F.VPID, 1]]).run();
      t.ept.map(GUEST_DATA, other, 4096, RW);
      if (invept) expect(t.vmx.invept(1, t.ept.eptp())).toBe(VM_SUCCEED);
      t.resume();
      t.run();
      return t.cpu.reg64(RBX);
    };
    expect(run(false)).toBe(0x33);
    expect(run(true)).toBe(0x44);
  });

  it("a guest MOV to CR3 drops its VPID's non-global translations (then the new page-table entry is seen)", () => {
    // The code after the first VMCALL is replaced by a CR3 reload and the second read.
    const reload = `mov rcx, cr3\nmov cr3, rcx\nmov rbx, [${LA}]\nvmcall`;
    expect(twoReads(true, (t) => t.s.mem.load(t.read(F.GUEST_RIP) + 3, assemble(reload)))).toBe(0x22);
  });

  it("INVEPT and INVVPID with an unsupported type or invalid operand are VMfailValid(28)", () => {
    const t = new Testbed("vmcall").launch().run();
    expect(t.vmx.invept(3, t.ept.eptp())).toBe(F.ERR_INVALID_INVEPT_INVVPID_OPERAND);
    expect(t.vmx.invept(1, t.ept.eptp() | 0x80)).toBe(28);
    expect(t.vmx.invvpid(1, 0)).toBe(28);
    expect(t.vmx.invvpid(0, 5, 0x800000000000)).toBe(28);
    expect(t.vmx.invvpid(4, 5)).toBe(28);
    expect(t.vmx.invvpid(2, 0)).toBe(VM_SUCCEED);
  });

  it("INVEPT as machine code in root operation: VMsucceed, and an unsupported type is VMfailValid(28)", () => {
    const t = hostFlags(`${VMXON_AND_LOAD}\nmov eax, 2\ninvept rax, [${DATA + 16}]\npushfq\npop r14\nmov eax, 5\ninvept rax, [${DATA + 16}]`);
    expect(t.cpu.lo[14] & (CF | ZF)).toBe(0);
    expect(flags(t)).toBe(ZF);
    expect(errorField(t)).toBe(28);
  });
});

describe("VMFUNC (leaf 0: EPTP switching)", () => {
  /** Two EPTs: 0 the identity, 1 the identity except that GUEST_CODE's page maps `alt` (code for the other side). */
  function vmfuncBed(guest: string, alt: string, fields: [number, number | bigint][] = [], secondary = F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VM_FUNCTIONS) {
    const t = new Testbed(guest);
    const ept1 = new EptBuilder(t.s.mem, () => t.s.allocPage());
    ept1.map(0, 0, 32 * 1024 * 1024, RWX, 0x200000);
    const altPage = t.s.allocPage();
    t.s.mem.load(altPage, assemble(alt));
    ept1.map(GUEST_CODE, altPage, 4096, RWX);
    const list = t.s.allocPage();
    t.s.mem.writeU64(list, t.ept.eptp());
    t.s.mem.writeU64(list + 8, ept1.eptp());
    t.launch({ secondary }, [[F.VM_FUNCTION_CONTROLS, 1], [F.EPTP_LIST_ADDR, list], ...fields]);
    return { t, ept1, list };
  }

  it("VMFUNC in VMX root operation is #UD", () => {
    const t = hostFlags(`vmxon [${DATA}]\nxor eax, eax\nxor ecx, ecx\nvmfunc`);
    expect(t.s.faultVector()).toBe(6);
  });

  it("VMFUNC with 'enable VM functions' 0 is #UD in the guest", () => {
    const t = new Testbed("xor eax, eax\nxor ecx, ecx\nvmfunc").launch({}, [[F.EXCEPTION_BITMAP, 1 << 6]]).run();
    expect(t.last.reason).toBe(0);
    expect(t.last.interruption & 0xff).toBe(6);
  });

  it("VMFUNC with EAX >= 64 is #UD (before any VM exit)", () => {
    const { t } = vmfuncBed("mov eax, 64\nxor ecx, ecx\nvmfunc", "", [[F.EXCEPTION_BITMAP, 1 << 6]]);
    t.run();
    expect(t.last.reason).toBe(0);
    expect(t.last.interruption & 0xff).toBe(6);
  });

  it("VMFUNC of a disabled function (bit EAX of the VM-function controls clear) exits with 59", () => {
    const { t } = vmfuncBed("mov eax, 1\nxor ecx, ecx\nvmfunc", "");
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMFUNC);
    expect(t.last.length).toBe(3);
  });

  it("VMFUNC leaf 0 with ECX >= 512 exits with 59", () => {
    const { t } = vmfuncBed("xor eax, eax\nmov ecx, 512\nvmfunc", "");
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMFUNC);
  });

  it("VMFUNC leaf 0 with an invalid EPTP-list entry exits with 59 and leaves the EPT pointer", () => {
    const { t } = vmfuncBed("xor eax, eax\nmov ecx, 2\nvmfunc", "");
    const before = t.read(F.EPT_POINTER);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMFUNC);
    expect(t.read(F.EPT_POINTER)).toBe(before);
  });

  it("an EPTP-list entry with a reserved memory type exits with 59", () => {
    const { t, list } = vmfuncBed("xor eax, eax\nmov ecx, 1\nvmfunc", "");
    t.s.mem.write32(list + 8, (t.s.mem.read32(list + 8) & ~7) | 1);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMFUNC);
  });

  it("VMFUNC switches the EPTP and the next instruction is fetched through the new EPT", () => {
    // Same page, same offsets: after the VMFUNC the bytes come from the page EPT 1 maps.
    const prefix = "xor eax, eax\nmov ecx, 1\nvmfunc\n";
    const { t, ept1 } = vmfuncBed(prefix + "mov ebx, 0xaaaa\nvmcall", prefix + "mov ebx, 0xbbbb\nvmcall");
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.cpu.lo[RBX]).toBe(0xbbbb);
    expect(t.read(F.EPT_POINTER)).toBe(ept1.eptp());
  });

  it("after VMFUNC, a next instruction the new EPT does not let the guest fetch is an EPT violation at that RIP", () => {
    const prefix = "xor eax, eax\nmov ecx, 1\nvmfunc\n";
    const { t, ept1 } = vmfuncBed(prefix + "nop", prefix + "nop");
    ept1.map(GUEST_CODE, GUEST_CODE, 4096, RW);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(t.last.qualification & 7).toBe(F.EPT_QUAL_FETCH);
    expect(t.last.rip).toBe(after(prefix));
  });

  it("VMFUNC back and forth keeps both EPTPs' TLB entries (no flush on a switch)", () => {
    // The same code in both views: EPT 0 runs up to the first VMFUNC, EPT 1 from there to the second.
    const code = `mov rax, [${GUEST_DATA}]\nxor eax, eax\nmov ecx, 1\nvmfunc\nmov rdx, [${GUEST_DATA}]\nxor ecx, ecx\nvmfunc\nvmcall`;
    const { t, ept1 } = vmfuncBed(code, code,
      [[F.VPID, 3]], F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VM_FUNCTIONS | F.CPU2_ENABLE_VPID);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    expect(t.vmx.tlbs.validEntries(3, t.ept.root)).toBeGreaterThan(0);
    expect(t.vmx.tlbs.validEntries(3, ept1.root)).toBeGreaterThan(0);
  });

  it("with 'EPT-violation #VE', VMFUNC writes ECX[15:0] to the EPTP-index field", () => {
    const { t } = vmfuncBed("xor eax, eax\nmov ecx, 1\nvmfunc", "xor eax, eax\nmov ecx, 1\nvmfunc\nvmcall", [[F.VE_INFO_ADDR, 0x700000]],
      F.CPU2_ENABLE_EPT | F.CPU2_ENABLE_VM_FUNCTIONS | F.CPU2_EPT_VIOLATION_VE);
    t.run();
    expect(t.read(F.EPTP_INDEX)).toBe(1);
  });
});

describe("#VE (virtualization exceptions)", () => {
  function veBed(setup: (t: Testbed, info: number) => void) {
    const t = new Testbed(`mov rax, [${GUEST_DATA + 0x18}]`);
    const info = t.s.allocPage();
    t.ept.map(GUEST_DATA, GUEST_DATA, 4096, {});
    setup(t, info);
    t.launch({ secondary: F.CPU2_ENABLE_EPT | F.CPU2_EPT_VIOLATION_VE }, [[F.VE_INFO_ADDR, info]]).run();
    return { t, info };
  }

  it("a convertible EPT violation is a #VE (vector 20) with the information area filled and marked busy", () => {
    const { t, info } = veBed(() => {});
    expect(t.exits).toHaveLength(0);
    expect(t.s.faultVector()).toBe(20);
    const m = t.s.mem;
    expect(m.read32(info)).toBe(F.EXIT_EPT_VIOLATION);
    expect(m.read32(info + 4)).toBe(-1);
    expect(m.readU64(info + 8)).toBe(F.EPT_QUAL_READ | VIOLATION_LINEAR | FINAL);
    expect(m.readU64(info + 16)).toBe(GUEST_DATA + 0x18);
    expect(m.readU64(info + 24)).toBe(GUEST_DATA + 0x18);
  });

  it("an EPT violation is a VM exit when the #VE area is busy or the entry suppresses #VE", () => {
    expect(veBed((t, info) => t.s.mem.write32(info + 4, 1)).t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(veBed((t) => t.ept.map(GUEST_DATA, GUEST_DATA, 4096, { suppressVe: true })).t.last.reason).toBe(F.EXIT_EPT_VIOLATION);
  });
});

describe("events: preemption timer, external interrupts, NMIs", () => {
  const TIMER = { pin: TRUE_PIN_CONTROLS.mustBe1 | F.PIN_PREEMPTION_TIMER, exit: TRUE_EXIT_CONTROLS.mustBe1 | F.EXIT_SAVE_PREEMPTION_TIMER };

  it("the VMX-preemption timer exits (52) once it has counted down, at 1/32 of the TSC rate", () => {
    const t = new Testbed("l: jmp l");
    t.prepare(TIMER);
    t.write(F.PREEMPTION_TIMER_VALUE, 100);
    const start = t.cpu.cycles;
    expect(t.vmx.vmlaunch()).toBe(VM_SUCCEED);
    t.run();
    expect(t.last.reason).toBe(F.EXIT_PREEMPTION_TIMER);
    const ran = t.cpu.cycles - start;
    expect(ran).toBeGreaterThanOrEqual(99 * 32);
    expect(ran).toBeLessThan(101 * 32 + 2000);
    expect(t.read(F.PREEMPTION_TIMER_VALUE)).toBe(0);
  });

  it("a timer value of 0 exits before the guest's first instruction", () => {
    const t = new Testbed("nop\nnop").launch(TIMER).run();
    expect(t.last.reason).toBe(F.EXIT_PREEMPTION_TIMER);
    expect(t.last.rip).toBe(GUEST_CODE);
  });

  it("'save VMX-preemption timer value' stores what is left on other exits", () => {
    const t = new Testbed("nop\nvmcall").launch(TIMER, [[F.PREEMPTION_TIMER_VALUE, 1000]]).run();
    expect(t.last.reason).toBe(F.EXIT_VMCALL);
    const left = t.read(F.PREEMPTION_TIMER_VALUE);
    expect(left).toBeGreaterThan(900);
    expect(left).toBeLessThanOrEqual(1000);
  });

  it("external-interrupt exiting: an interrupt becomes exit 1, with the acknowledged vector when 'acknowledge interrupt on exit'", () => {
    const t = new Testbed("l: jmp l").launch({
      pin: TRUE_PIN_CONTROLS.mustBe1 | F.PIN_EXTERNAL_INTERRUPT_EXITING, exit: TRUE_EXIT_CONTROLS.mustBe1 | F.EXIT_ACK_INTERRUPT_ON_EXIT,
    });
    t.run(50);
    expect(t.cpu.eventInterceptor!.externalInterrupt(t.cpu, () => 0x31)).toBe(true);
    expect(t.last.reason).toBe(F.EXIT_EXTERNAL_INTERRUPT);
    expect(t.last.interruption >>> 0).toBe((F.INTR_VALID | 0x31) >>> 0);
  });

  it("without external-interrupt exiting the interrupt is the guest's (no exit)", () => {
    const t = new Testbed("l: jmp l").launch();
    t.run(50);
    expect(t.cpu.eventInterceptor!.externalInterrupt(t.cpu, () => 0x31)).toBe(false);
    expect(t.exits).toHaveLength(0);
  });

  it("NMI exiting: an NMI becomes exit 0 with type NMI and vector 2, and NMIs stay blocked in the host", () => {
    const t = new Testbed("l: jmp l").launch({ pin: TRUE_PIN_CONTROLS.mustBe1 | F.PIN_NMI_EXITING });
    t.run(50);
    expect(t.cpu.eventInterceptor!.nmi(t.cpu)).toBe(true);
    expect(t.last.reason).toBe(F.EXIT_EXCEPTION_OR_NMI);
    expect(t.last.interruption >>> 0).toBe((F.INTR_VALID | (2 << 8) | 2) >>> 0);
    expect(t.cpu.nmiBlocked).toBe(true);
  });
});

describe("TypeScript hosts", () => {
  it("a TypeScript host handler runs on each exit in root operation and resumes the guest (emulating CPUID)", () => {
    const t = new Testbed("mov eax, 0x40000000\ncpuid\nmov r8, rbx\nvmcall");
    t.launch();
    const seen: number[] = [];
    t.vmx.setHost((exit, vmx) => {
      seen.push(exit.basicReason);
      expect(vmx.nonRoot).toBe(false);
      if (exit.basicReason !== F.EXIT_CPUID) return;
      t.cpu.writeReg(4, RBX, 0x4c5644, 0); // the hypervisor's answer
      vmx.vmwrite(F.GUEST_RIP, vmx.vmread(F.GUEST_RIP) + vmx.vmread(F.EXIT_INSTRUCTION_LENGTH));
      expect(vmx.vmresume()).toBe(VM_SUCCEED);
    });
    t.run();
    expect(seen).toEqual([F.EXIT_CPUID, F.EXIT_VMCALL]);
    expect(t.cpu.reg64(8)).toBe(0x4c5644);
  });

  it("an exit during a host handler's VM entry (an injection that hits an EPT violation) reaches the handler after it returns", () => {
    const t = new Testbed("vmcall");
    t.launch();
    const seen: number[] = [];
    let depth = 0, maxDepth = 0;
    t.vmx.setHost((exit, vmx) => {
      maxDepth = Math.max(maxDepth, ++depth);
      seen.push(exit.basicReason);
      if (seen.length === 1) {
        t.ept.map(t.cpu.idtBase, t.cpu.idtBase, 4096, {});
        vmx.invept(2, 0);
        vmx.vmwrite(F.ENTRY_INTERRUPTION_INFO, F.INTR_VALID | (3 << 8) | 6);
        expect(vmx.vmresume()).toBe(VM_SUCCEED);
      }
      depth--;
    });
    t.run();
    expect(seen).toEqual([F.EXIT_VMCALL, F.EXIT_EPT_VIOLATION]);
    expect(maxDepth).toBe(1);
    expect(t.read(F.IDT_VECTORING_INFO) >>> 0).toBe((F.INTR_VALID | (3 << 8) | 6) >>> 0);
  });
});

describe("machine-code hosts", () => {
  it("an assembly host handles CPUID exits with VMREAD, VMWRITE and VMRESUME until the guest's VMCALL", () => {
    const host = `
      vmlaunch
      hlt
      .org 0x100
      mov eax, 0x4402
      vmread rbx, rax
      cmp ebx, 18
      je done
      inc r15
      mov eax, 0x440c
      vmread rcx, rax
      mov eax, 0x681e
      vmread rdx, rax
      add rdx, rcx
      vmwrite rax, rdx
      vmresume
    done:
      hlt`;
    const t = new Testbed("mov r12, 5\nl: cpuid\ndec r12\njnz l\nvmcall", { host, hostRip: 0x100, tsHost: false });
    t.prepare();
    t.s.run();
    expect(t.cpu.reg64(R15)).toBe(5);
    expect(t.cpu.reg64(RBX)).toBe(F.EXIT_VMCALL);
    expect(t.vmx.nonRoot).toBe(false);
  });
});
