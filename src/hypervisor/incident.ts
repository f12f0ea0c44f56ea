// What the hypervisor could not hand to the kernel: recorded for reports and tests
// (Hypervisor.incidents). After an incident the vCPU is either running the kernel's
// upcall entry (a triple fault in a domain) or stopped in the shutdown state.

export type IncidentKind =
  | "triple-fault"
  | "no-upcall" // a violation while no upcall entry is registered
  | "upcall-failed" // the upcall frame could not be written (bad upcall stack)
  | "entry-failure" // VMRESUME failed: the guest state the hypervisor built is invalid
  | "hypervisor-error"; // a bug in the hypervisor itself, caught at the exit boundary

export interface Incident {
  kind: IncidentKind;
  cpu: number;
  /** Guest RIP when it happened. */
  rip: number;
  /** Basic exit reason of the exit that led to it. */
  reason: number;
  details: string;
}
