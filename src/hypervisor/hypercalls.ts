// The hypercall interface: how the kernel talks to the hypervisor. As in the real
// system's code, hypercalls are CPUID leaves (CPUID always exits in VMX non-root
// operation, so no new instruction is needed and an unvirtualized kernel just gets
// CPUID data back): the guest executes CPUID with EAX = leaf and arguments in RBX, RCX,
// RDX, RSI. The hypervisor writes the result to RAX (0 or a value = success, a negative
// errno = failure) and outputs to RBX and RDX; RCX, RSI and the other registers are
// left as they were. Leaves outside HYPERCALL_BASE .. HYPERCALL_BASE + HYPERCALL_COUNT - 1
// are ordinary CPUID.
//
// Only the kernel may make hypercalls that change the hypervisor's state: made while
// an EPTP other than the vCPU's EPT_K is active (inside an isolated domain), they are a
// violation and become an upcall (upcall.ts), except PROBE and ABORT.
//
// A leaf module: the kernel imports these numbers.

/** "LV" << 16: leaves 0x4C560000 + n. */
export const HYPERCALL_BASE = 0x4c560000;

/** PROBE: RAX = 0, RBX = HYPERVISOR_SIGNATURE, RDX = HYPERVISOR_VERSION. */
export const HC_PROBE = HYPERCALL_BASE + 0;
/**
 * INSTALL_EPTP_LIST(RBX = guest-physical address of a 4 KB EPTP list): sets the VMCS
 * EPTP-list address and enables VMFUNC EPTP switching on this vCPU; RBX = this vCPU's
 * EPT_K EPTP, which the kernel puts in slot 0 itself. The page stays kernel memory.
 */
export const HC_INSTALL_EPTP_LIST = HYPERCALL_BASE + 1;
/**
 * MAP_PAGE(RBX = guest-physical page, RCX = machine page): maps that page of this
 * vCPU's EPT_K to the machine page (per-CPU state pages); RCX = RBX restores identity.
 */
export const HC_MAP_PAGE = HYPERCALL_BASE + 2;
/** ABORT(RBX = reason code): a crossing check failed; becomes an upcall (UPCALL_ABORT) with the code. */
export const HC_ABORT = HYPERCALL_BASE + 3;
/** READ_COUNTER(RBX = basic exit reason, or -1 for all): RAX = exits of that reason on this vCPU. */
export const HC_READ_COUNTER = HYPERCALL_BASE + 4;
/** REGISTER_UPCALL(RBX = kernel RIP of the upcall entry, RCX = top of this vCPU's upcall stack, a kernel virtual address). */
export const HC_REGISTER_UPCALL = HYPERCALL_BASE + 5;
/** SET_PROGRESS(RBX = guest-physical address of this vCPU's 64-bit progress counter): the watchdog reads it. */
export const HC_SET_PROGRESS = HYPERCALL_BASE + 6;

/**
 * INVEPT(RBX = an EPTP, or 0 for all): drops this vCPU's cached translations made through
 * that EPTP (single-context), or through every EPTP (all-context). The kernel makes it on
 * each vCPU after it removed or narrowed entries of a domain's EPT_I, which only the
 * hypervisor can flush (INVEPT is a root-operation instruction).
 */
export const HC_INVEPT = HYPERCALL_BASE + 7;

export const HYPERCALL_COUNT = 8;

/** "LVDH" as CPUID returns text (little-endian bytes in EBX). */
export const HYPERVISOR_SIGNATURE = 0x4844564c;
export const HYPERVISOR_VERSION = 1;

// Results in RAX (negative errno values, as 64-bit two's complement).
export const HC_OK = 0;
/** A hypercall reserved to the kernel, made from inside a domain (never returned: it is an upcall). */
export const HC_EPERM = -1;
/** No memory left in the hypervisor's pool. */
export const HC_ENOMEM = -12;
/** An address that is not mapped in EPT_K (or is the hypervisor's own). */
export const HC_EFAULT = -14;
/** A malformed argument (misaligned, out of range). */
export const HC_EINVAL = -22;
