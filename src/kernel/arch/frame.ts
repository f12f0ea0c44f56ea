// The interrupt frame the entry stubs build (entry.S: lvd_irq_common): the general
// registers the stub pushes, the vector and error code, then what the CPU pushed.
// Offsets from RSP at the kernel's interrupt gate.

export const PT_REGS = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112,
  vector: 120, error: 128,
  rip: 136, cs: 144, rflags: 152, rsp: 160, ss: 168,
} as const;
export const PT_REGS_SIZE = 176;
