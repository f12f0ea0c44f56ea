// The interrupt frame the entry stubs build (irq-entry.S): the general
// registers the stub pushes, the vector and error code, then what the CPU pushed.
// Offsets from the frame (IRQ_ENTRY.regs above RSP at the kernel's interrupt gate).

export const PT_REGS = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112,
  vector: 120, error: 128,
  rip: 136, cs: 144, rflags: 152, rsp: 160, ss: 168,
} as const;
export const PT_REGS_SIZE = 176;

/**
 * The three words irq-entry.S pushes below PT_REGS: the kernel's interrupt gate is entered
 * with RSP at `origin`, and the saved registers start at `regs`.
 */
export const IRQ_ENTRY = { origin: 0, istFrame: 8, gsBase: 16, regs: 24 } as const;
/** Where an interrupt came from: the kernel, a domain (in its EPT_I), a domain's code or registers in EPT_K, or ring 3. */
export const ORIGIN = { kernel: 0, domain: 1, domainInEptK: 2, user: 3 } as const;
