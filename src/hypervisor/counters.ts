// Exit counters: how many VM exits of each basic reason each vCPU took (reference
// Table 4 compares these with the number of VMFUNC crossings). The kernel reads them
// with the READ_COUNTER hypercall, reports with Hypervisor.exitCounts().

/** Basic exit reasons (SDM Appendix C) by name, as exitCounts() reports them. */
export const EXIT_NAMES: readonly string[] = [
  "EXCEPTION_OR_NMI", "EXTERNAL_INTERRUPT", "TRIPLE_FAULT", "INIT", "SIPI", "IO_SMI", "OTHER_SMI",
  "INTERRUPT_WINDOW", "NMI_WINDOW", "TASK_SWITCH", "CPUID", "GETSEC", "HLT", "INVD", "INVLPG", "RDPMC",
  "RDTSC", "RSM", "VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME", "VMWRITE",
  "VMXOFF", "VMXON", "CR_ACCESS", "DR_ACCESS", "IO_INSTRUCTION", "RDMSR", "WRMSR", "INVALID_GUEST_STATE",
  "MSR_LOADING", "REASON_35", "MWAIT", "MONITOR_TRAP_FLAG", "REASON_38", "MONITOR", "PAUSE", "MACHINE_CHECK",
  "REASON_42", "TPR_BELOW_THRESHOLD", "APIC_ACCESS", "VIRTUALIZED_EOI", "GDTR_IDTR", "LDTR_TR", "EPT_VIOLATION",
  "EPT_MISCONFIG", "INVEPT", "RDTSCP", "PREEMPTION_TIMER", "INVVPID", "WBINVD", "XSETBV", "APIC_WRITE", "RDRAND",
  "INVPCID", "VMFUNC", "ENCLS", "RDSEED", "PML_FULL", "XSAVES", "XRSTORS",
];

export const EXIT_REASON_COUNT = EXIT_NAMES.length;

/** The name of a basic exit reason. */
export function exitName(reason: number): string {
  return EXIT_NAMES[reason] ?? `REASON_${reason}`;
}

/** One vCPU's counts, indexed by basic exit reason. */
export class ExitCounters {
  private readonly counts = new Float64Array(EXIT_REASON_COUNT);

  count(reason: number): void {
    if (reason >= 0 && reason < EXIT_REASON_COUNT) this.counts[reason]++;
  }

  /** Exits with this reason, or of all reasons for -1; -1 for a reason that does not exist. */
  read(reason: number): number {
    if (reason === -1) return this.counts.reduce((a, b) => a + b, 0);
    if (!Number.isInteger(reason) || reason < 0 || reason >= EXIT_REASON_COUNT) return -1;
    return this.counts[reason];
  }

  /** Adds the non-zero counts into `into`, by name. */
  addTo(into: Map<string, number>): void {
    this.counts.forEach((n, reason) => {
      if (n > 0) into.set(EXIT_NAMES[reason], (into.get(EXIT_NAMES[reason]) ?? 0) + n);
    });
  }
}
