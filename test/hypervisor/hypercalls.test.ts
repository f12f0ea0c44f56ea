// Hypercalls (CPUID leaves 0x4C560000 + n) and VMFUNC EPTP switching through the kernel's list.

import { describe, it, expect } from "vitest";
import {
  Harness, DATA, LAUNCH_SELF, POOL, EPTP_LIST, DOMAIN_EPTP, INSTALL_LIST, domainEpt, vmfuncTo, withUpcall, upcallFrame,
  upcallStackTop,
} from "./harness.ts";
import {
  HC_PROBE, HC_MAP_PAGE, HC_READ_COUNTER, HC_SET_PROGRESS, HC_REGISTER_UPCALL, HYPERVISOR_SIGNATURE, HC_EFAULT, HC_EINVAL,
} from "../../src/hypervisor/hypercalls.ts";
import { EXIT_WRMSR, EXIT_CPUID, EPT_POINTER } from "../../src/machine/vmx/fields.ts";

function run(h: Harness): void {
  expect(h.run().stop).toBe("idle");
  expect(h.hv.incidents).toEqual([]);
}

describe("hypercalls", () => {
  it("PROBE answers RAX = 0 and the signature once launched; natively the leaf is ordinary CPUID data", () => {
    const probe = (at: number) => `mov eax, ${HC_PROBE}\ncpuid\nmov [${at}], rax\nmov [${at + 8}], rbx`;
    const h = new Harness(`${probe(DATA)}\n${LAUNCH_SELF}\n${probe(DATA + 16)}\nhlt`);
    run(h);
    expect(h.u64(DATA + 8)).not.toBe(HYPERVISOR_SIGNATURE);
    expect(h.u64(DATA + 16)).toBe(0);
    expect(h.u64(DATA + 24)).toBe(HYPERVISOR_SIGNATURE);
  });

  it("INSTALL_EPTP_LIST returns EPT_K's EPTP; VMFUNC to slot 1 and back to slot 0 switch EPTs without exits", () => {
    const G = DATA + 0x7000, OTHER = DATA + 0x8000;
    const h = new Harness("");
    h.m.mem.writeU64(G, 0x1234);
    h.m.mem.writeU64(OTHER, 0x5678);
    h.m.mem.writeU64(DOMAIN_EPTP, domainEpt(h, [[G, OTHER]]));
    h.load(0x100000, `
      ${LAUNCH_SELF}
      ${INSTALL_LIST}
      mov rax, [${G}]
      mov [${DATA}], rax
      ${vmfuncTo(1)}
      mov rax, [${G}]
      mov [${DATA + 8}], rax
      ${vmfuncTo(0)}
      mov rax, [${G}]
      mov [${DATA + 16}], rax
      mov ecx, 0xc0000082
      mov eax, 0x401000
      xor edx, edx
      wrmsr
      hlt`);
    run(h);
    expect(h.u64(EPTP_LIST)).toBe(h.hv.kernelEptp(0));
    expect([h.u64(DATA), h.u64(DATA + 8), h.u64(DATA + 16)]).toEqual([0x1234, 0x5678, 0x1234]);
    expect(h.cpu().vmx!.vmcs.get(EPT_POINTER)).toBe(h.hv.kernelEptp(0));
    const counts = h.hv.exitCounts(0);
    expect(counts.get("VMFUNC")).toBeUndefined();
    expect(counts.get("WRMSR")).toBe(1); // emulated: back in the kernel
    expect(upcallFrame(h)).toBeNull();
  });

  it("MAP_PAGE remaps a page for one vCPU only: the same guest-physical page reads differently on each", () => {
    const G = DATA + 0x7000, M = [DATA + 0x8000, DATA + 0x9000];
    const h = new Harness(`
      ${LAUNCH_SELF}
      mov rbx, ${G}
      mov rcx, [${DATA + 0x10} + rdi * 8]
      mov eax, ${HC_MAP_PAGE}
      cpuid
      mov [${DATA + 0x20} + rdi * 8], rax
      mov rax, [${G}]
      mov [${DATA + 0x40} + rdi * 8], rax
      mov rax, [${G - 0x1000}]
      mov [${DATA + 0x60} + rdi * 8], rax
      mov rbx, ${G - 0x1000}
      mov rcx, ${POOL}
      mov eax, ${HC_MAP_PAGE}
      cpuid
      mov [${DATA + 0x80} + rdi * 8], rax
      hlt`, { cpus: 2 });
    const mem = h.m.mem;
    mem.writeU64(G, 0x1234);
    mem.writeU64(G - 0x1000, 0x4321);
    mem.writeU64(M[0], 0xaaaa);
    mem.writeU64(M[1], 0xbbbb);
    mem.writeU64(DATA + 0x10, M[0]);
    mem.writeU64(DATA + 0x18, M[1]);
    run(h);
    expect([h.u64(DATA + 0x20), h.u64(DATA + 0x28)]).toEqual([0, 0]);
    expect([h.u64(DATA + 0x40), h.u64(DATA + 0x48)]).toEqual([0xaaaa, 0xbbbb]);
    expect([h.u64(DATA + 0x60), h.u64(DATA + 0x68)]).toEqual([0x4321, 0x4321]); // the neighbour stays shared, 1:1
    // The pool is never a target.
    expect([h.big(DATA + 0x80), h.big(DATA + 0x88)].map((v) => Number(BigInt.asIntN(64, v)))).toEqual([HC_EFAULT, HC_EFAULT]);
    expect(mem.readU64(G)).toBe(0x1234);
  });

  it("READ_COUNTER counts this vCPU's exits by reason, -1 for all, EINVAL for a reason that does not exist", () => {
    const read = (reason: number, at: number) => `mov rbx, ${reason}\nmov eax, ${HC_READ_COUNTER}\ncpuid\nmov [${at}], rax`;
    const h = new Harness(`
      ${LAUNCH_SELF}
      mov ecx, 0xc0000082
      mov eax, 0x401000
      xor edx, edx
      wrmsr
      wrmsr
      wrmsr
      ${read(EXIT_WRMSR, DATA)}
      ${read(-1, DATA + 8)}
      ${read(EXIT_CPUID, DATA + 16)}
      ${read(999, DATA + 24)}
      hlt`);
    run(h);
    expect(h.u64(DATA)).toBe(3);
    expect(h.u64(DATA + 8)).toBe(5); // three WRMSR, two CPUID so far
    expect(h.u64(DATA + 16)).toBe(3);
    expect(Number(BigInt.asIntN(64, h.big(DATA + 24)))).toBe(HC_EINVAL);
  });

  it("REGISTER_UPCALL and SET_PROGRESS accept kernel addresses and refuse bad ones", () => {
    const h = new Harness("");
    const register = withUpcall(h);
    h.load(0x100000, `
      ${LAUNCH_SELF}
      ${register}
      mov [${DATA}], rax
      mov rbx, ${DATA + 0x900}
      mov eax, ${HC_SET_PROGRESS}
      cpuid
      mov [${DATA + 8}], rax
      mov rbx, ${POOL}
      mov eax, ${HC_SET_PROGRESS}
      cpuid
      mov [${DATA + 16}], rax
      mov rbx, ${DATA + 0x901}
      mov eax, ${HC_SET_PROGRESS}
      cpuid
      mov [${DATA + 24}], rax
      mov rbx, 0x800000000000
      mov rcx, ${upcallStackTop(0)}
      mov eax, ${HC_REGISTER_UPCALL}
      cpuid
      mov [${DATA + 32}], rax
      hlt`);
    run(h);
    const r = [0, 8, 16, 24, 32].map((o) => Number(BigInt.asIntN(64, h.big(DATA + o))));
    expect(r).toEqual([0, 0, HC_EFAULT, HC_EINVAL, HC_EINVAL]);
  });
});
