// Violations go to the kernel (upcalls), never crash the machine; what cannot be handed
// over is an incident and a stopped vCPU.

import { describe, it, expect } from "vitest";
import {
  Harness, CODE, DATA, POOL, LAUNCH_SELF, DOMAIN_EPTP, INSTALL_LIST, domainEpt, vmfuncTo, withUpcall, upcallFrame,
  upcallStackTop,
} from "./harness.ts";
import { assemble } from "../helpers/asm.ts";
import { readMsr } from "../../src/machine/cpu/ops/msr.ts";
import { HC_SET_PROGRESS, HC_ABORT, HC_MAP_PAGE } from "../../src/hypervisor/hypercalls.ts";
import {
  UPCALL_SENSITIVE_EXIT, UPCALL_EPT_VIOLATION, UPCALL_WATCHDOG, UPCALL_TRIPLE_FAULT, UPCALL_ABORT, UPCALL_VMFUNC,
  UPCALL_FRAME_SIZE,
} from "../../src/hypervisor/upcall.ts";
import * as F from "../../src/machine/vmx/fields.ts";

const after = (prefix: string) => CODE + assemble(prefix).length;

/** A harness whose kernel registers the upcall and installs an EPTP list with a 1:1 domain EPT in slot 1. */
function withDomain(body: (setup: string) => string, opts: { watchdogCycles?: number } = {}): { h: Harness; prefixOf: (s: string) => number } {
  const h = new Harness("", opts);
  h.m.mem.writeU64(DOMAIN_EPTP, domainEpt(h));
  const setup = `${LAUNCH_SELF}\n${withUpcall(h)}\n${INSTALL_LIST}`;
  h.load(CODE, body(setup));
  return { h, prefixOf: after };
}

describe("upcalls", () => {
  it("a WRMSR after VMFUNC to a domain's EPTP is not emulated: upcall with the frame, EPT_K active again", () => {
    let prefix = "";
    const { h } = withDomain((setup) => {
      prefix = `${setup}\n${vmfuncTo(1)}\nmov ecx, 0xc0000082\nmov eax, 0x5555\nxor edx, edx`;
      return `${prefix}\nwrmsr\nhlt`;
    });
    const domain = h.m.mem.readU64(DOMAIN_EPTP);
    expect(h.run().stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    const f = upcallFrame(h)!;
    expect(f).not.toBeNull();
    expect(f.kind).toBe(UPCALL_SENSITIVE_EXIT);
    expect(f.reason).toBe(F.EXIT_WRMSR);
    expect(f.rip).toBe(after(prefix));
    expect(f.eptp).toBe(domain);
    expect(f.cs).toBe(0x08);
    expect(f.vcpu).toBe(0);
    expect(f.at).toBe(upcallStackTop(0) - UPCALL_FRAME_SIZE);
    const vmcs = h.cpu().vmx!.vmcs;
    expect(vmcs.get(F.EPT_POINTER)).toBe(h.hv.kernelEptp(0));
    expect(readMsr(h.cpu(), 0xc0000082)[0]).not.toBe(0x5555); // nothing emulated
    expect(h.cpu().rflags & 0x200).toBe(0);
  });

  it("a kernel-only hypercall from a domain (MAP_PAGE) is refused as a sensitive exit", () => {
    const { h } = withDomain((setup) => `${setup}\n${vmfuncTo(1)}\nmov rbx, ${DATA}\nmov rcx, ${DATA + 0x1000}\nmov eax, ${HC_MAP_PAGE}\ncpuid\nhlt`);
    h.run();
    const f = upcallFrame(h)!;
    expect(f.kind).toBe(UPCALL_SENSITIVE_EXIT);
    expect(f.reason).toBe(F.EXIT_CPUID);
    expect(f.detail).toBe(HC_MAP_PAGE);
  });

  it("ABORT from a domain becomes an upcall with its reason code", () => {
    let prefix = "";
    const { h } = withDomain((setup) => {
      prefix = `${setup}\n${vmfuncTo(1)}\nmov ebx, 0xbad\nmov eax, ${HC_ABORT}`;
      return `${prefix}\ncpuid\nhlt`;
    });
    h.run();
    const f = upcallFrame(h)!;
    expect([f.kind, f.detail, f.rip]).toEqual([UPCALL_ABORT, 0xbad, after(prefix)]);
  });

  it("a VMFUNC to an invalid EPTP-list slot exits (59) and becomes an upcall", () => {
    const { h } = withDomain((setup) => `${setup}\n${vmfuncTo(7)}\nhlt`);
    h.run();
    const f = upcallFrame(h)!;
    expect([f.kind, f.reason, f.detail]).toEqual([UPCALL_VMFUNC, F.EXIT_VMFUNC, 7]);
  });

  it("a kernel access to the hypervisor's pool is an EPT violation, upcalled with its addresses", () => {
    const prefix = `${LAUNCH_SELF}\n__REGISTER__\nmov rax, ${POOL + 0x18}`;
    const h = new Harness("");
    h.load(CODE, `${prefix.replace("__REGISTER__", withUpcall(h))}\nmov rbx, [rax]\nhlt`);
    expect(h.run().stop).toBe("idle");
    const f = upcallFrame(h)!;
    expect(f.kind).toBe(UPCALL_EPT_VIOLATION);
    expect(f.reason).toBe(F.EXIT_EPT_VIOLATION);
    expect(f.guestPhysical).toBe(POOL + 0x18);
    expect(f.guestLinear).toBe(POOL + 0x18);
    expect(f.qualification & 7).toBe(1); // a data read
    expect(f.rip).toBe(after(prefix.replace("__REGISTER__", withUpcall(h))));
    expect(f.eptp).toBe(h.hv.kernelEptp(0));
  });

  it("without a registered upcall, a violation is an incident and stops the vCPU; Machine.run returns normally", () => {
    const h = new Harness(`${LAUNCH_SELF}\nmov rax, [${POOL}]\nhlt`);
    const r = h.run();
    expect(r.stop).toBe("shutdown");
    expect(h.hv.incidents).toHaveLength(1);
    expect(h.hv.incidents[0]).toMatchObject({ kind: "no-upcall", cpu: 0, reason: F.EXIT_EPT_VIOLATION });
    expect(h.cpu().shutdown?.message).toMatch(/no upcall/);
    expect(h.run().stop).toBe("idle"); // and the machine goes on without it
  });
});

describe("watchdog", () => {
  const SPIN_IN_DOMAIN = (setup: string) => `
    ${setup}
    mov rbx, ${DATA + 0x900}
    mov eax, ${HC_SET_PROGRESS}
    cpuid
    ${vmfuncTo(1)}
    cli
  spin:
    jmp spin`;

  it("a domain that disables interrupts and spins is upcalled once a whole period passes without progress", () => {
    const { h } = withDomain(SPIN_IN_DOMAIN, { watchdogCycles: 20_000 });
    const r = h.run(2_000_000);
    expect(r.stop).toBe("idle");
    expect(h.hv.incidents).toEqual([]);
    const f = upcallFrame(h)!;
    expect(f.kind).toBe(UPCALL_WATCHDOG);
    expect(f.reason).toBe(F.EXIT_PREEMPTION_TIMER);
    expect(f.rflags & 0x200).toBe(0);
    const timer = h.hv.exitCounts(0).get("PREEMPTION_TIMER")!;
    expect(timer).toBeGreaterThanOrEqual(2);
    expect(timer).toBeLessThanOrEqual(4);
  });

  it("a domain whose progress counter moves is left alone", () => {
    const { h } = withDomain((setup) => `
      ${setup}
      mov rbx, ${DATA + 0x900}
      mov eax, ${HC_SET_PROGRESS}
      cpuid
      ${vmfuncTo(1)}
      cli
      mov rcx, 100000
    1:
      inc qword ptr [${DATA + 0x900}]
      dec rcx
      jnz 1b
      ${vmfuncTo(0)}
      hlt`, { watchdogCycles: 20_000 });
    expect(h.run(5_000_000).stop).toBe("idle");
    expect(upcallFrame(h)).toBeNull();
    expect(h.hv.exitCounts(0).get("PREEMPTION_TIMER")!).toBeGreaterThan(5);
  });

  it("the kernel spinning with interrupts off under EPT_K is not upcalled (the timer only re-arms)", () => {
    const h = new Harness("");
    h.load(CODE, `
      ${LAUNCH_SELF}
      ${withUpcall(h)}
      mov rbx, ${DATA + 0x900}
      mov eax, ${HC_SET_PROGRESS}
      cpuid
      cli
      mov rcx, 300000
    1:
      dec rcx
      jnz 1b
      hlt`);
    const hv = h.hv;
    expect(h.run(5_000_000).stop).toBe("idle");
    expect(upcallFrame(h)).toBeNull();
    expect(hv.incidents).toEqual([]);
    expect(hv.exitCounts(0).get("PREEMPTION_TIMER")!).toBeGreaterThan(0);
  });
});

describe("triple faults", () => {
  it("in the kernel: an incident, the vCPU shuts down, Machine.run returns normally", () => {
    const h = new Harness(`${LAUNCH_SELF}\nlidt [${DATA}]\nud2\nhlt`);
    h.m.mem.load(DATA, new Uint8Array(10)); // an IDT with limit 0: #UD -> #GP -> #DF -> triple fault
    const r = h.run();
    expect(r.stop).toBe("shutdown");
    expect(h.hv.incidents.map((i) => i.kind)).toEqual(["triple-fault"]);
    expect(h.hv.incidents[0].reason).toBe(F.EXIT_TRIPLE_FAULT);
    expect(h.cpu().shutdown).not.toBeNull();
  });

  it("in a domain: an incident, and an upcall to the kernel", () => {
    const { h } = withDomain((setup) => `${setup}\nlidt [${DATA}]\n${vmfuncTo(1)}\nud2\nhlt`);
    h.m.mem.load(DATA, new Uint8Array(10));
    h.run();
    expect(h.hv.incidents.map((i) => i.kind)).toEqual(["triple-fault"]);
    expect(upcallFrame(h)!.kind).toBe(UPCALL_TRIPLE_FAULT);
    expect(h.cpu().shutdown).toBeNull();
  });
});
