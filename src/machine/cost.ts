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
  msr: 80,
  cr: 20,
  io: 4200,
  xsave: 100,
  vmx: 50,
  /** VMFUNC leaf 0 (reference Table 1). */
  vmfunc: 169,
};

export function costOf(cls: string | undefined): number {
  return COSTS[cls ?? "default"] ?? COSTS.default;
}
