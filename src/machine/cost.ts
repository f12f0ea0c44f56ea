// The cost table: modeled cycles of primitive operations, the only numbers the cycle
// clock is built from. Composite costs (a call into a domain, an interrupt delivered
// inside one, a packet) are never entered here; they emerge from running code whose
// instructions, page walks, exits and entries are charged with these primitives.
//
// Values are for a Haswell-class core (the reference's E5-2660 v3), from Intel's and
// Agner Fog's instruction tables where an instruction has a fixed latency; VMFUNC and
// the VM exit/entry round trip are the reference's measured primitives.

export const COSTS: Readonly<Record<string, number>> = {
  /** Simple ALU, moves, LEA, SETcc, CMOVcc, NOPs. */
  default: 1,
  branch: 1,
  call: 2,
  stack: 1,
  shift: 1,
  mul: 3,
  div: 26,
  locked: 18,
  string: 2,
  fence: 33,
  cpuid: 100,
  int: 60,
  iret: 40,
  /** RDMSR; WRMSR as measured natively by the reference (Table 2, "write MSR": 127). */
  msr: 80,
  wrmsr: 127,
  /** MOV to CR0/CR4/CR8; MOV to CR3 as measured natively by the reference (Table 2: 130; a serializing TLB flush). */
  cr: 20,
  cr3: 130,
  /** IN/OUT and string I/O to a device port (the reference's Table 2 native OUT: 4213). */
  io: 4200,
  xsave: 100,
  vmx: 50,
  /** VMFUNC leaf 0 (reference Table 1). */
  vmfunc: 169,
  /**
   * One paging-structure (or EPT) entry read by a page walk after a TLB miss, served
   * from the cache (Haswell: a 4-level walk of L1 hits is about 20-25 cycles). Charged by
   * paging.ts and vmx/ept.ts per entry, so a walk under EPT costs what its 2-D walk
   * reads. Memory accesses that hit the TLB are part of the instruction classes above.
   */
  pageWalkStep: 5,
  /**
   * A VM exit (saving guest state, loading host state) and a VM entry (the checks,
   * loading guest state), charged on every exit and entry (vmx/exit.ts, vmx/entry.ts).
   * Chosen so that the smallest round trip a machine-code hypervisor makes (a guest CPUID
   * or VMCALL; a handler that VMREADs the exit reason, instruction length and RIP,
   * VMWRITEs RIP past the instruction and VMRESUMEs: about 255 more cycles) measures
   * about 1200 cycles, inside the reference's 1171-1240 per exit on Haswell;
   * bench/vmx.ts runs it. The split (exit a little dearer than entry) is an estimate.
   */
  vmexit: 540,
  vmentry: 405,

  // Events and the local APIC (charged by interrupts.ts and apic.ts).
  /**
   * Hardware delivery of an exception, NMI or external interrupt through the IDT (gate
   * and descriptor reads, IST/RSP switch, frame pushes). The microcode does the same work
   * as INT n, so the same figure as the `int` class; INT n itself is charged through its
   * instruction class, not this. An estimate, not a measurement: the paper's composite
   * interrupt costs (Table 3: 607 cycles vanilla) must emerge from this plus the entry
   * code, EOI and IRETQ that run.
   */
  interrupt: 60,
  /**
   * One local APIC register access (xAPIC MMIO or x2APIC MSR), on top of the instruction
   * that makes it (WRMSR's `msr` class, or the MOV's). The APIC sits in the core, so an
   * uncacheable access to it does not leave the core: an estimate of tens of cycles,
   * not a published figure.
   */
  apic: 30,
};

export function costOf(cls: string | undefined): number {
  return COSTS[cls ?? "default"] ?? COSTS.default;
}
