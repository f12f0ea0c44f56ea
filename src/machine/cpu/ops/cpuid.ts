// CPUID: what the processor says it is. A Haswell-EP-class Intel core ("GenuineIntel",
// family 6 model 0x3F, like the reference's E5-2660 v3), advertising only what LVD
// implements, so software that checks feature bits never reaches an instruction that
// would #UD. SSE/AVX instructions are not executed, but SSE and SSE2 are architectural in
// x86-64 and FXSAVE/XSAVE keep their state, so SSE/SSE2/FXSR are reported (no SSE3+,
// no AVX: the AVX state component exists in XCR0 for XSAVE round trips only).
//
// Leaves above the highest basic or extended leaf return the highest basic leaf's data,
// as Intel processors do; leaves inside the range that are not listed return zeros.

import type { Cpu } from "../cpu.ts";
import { RAX, RBX, RCX, RDX, CR4_OSXSAVE } from "../arch.ts";
import { MAXPHYADDR } from "../paging.ts";
import type { Handler } from "./index.ts";
import { exitAlways } from "../../vmx/intercepts.ts";
import { EXIT_CPUID } from "../../vmx/fields.ts";

/** VMX is present (src/machine/vmx): CPUID.1:ECX.VMX = 1. */
export const VMX_SUPPORTED = true;

/** XCR0 bits the processor supports: x87 (0), SSE (1), AVX (2). */
export const XCR0_SUPPORTED = 0x7;
/** Size of the XSAVE area for a set of XCR0 bits (legacy 512 + header 64 + AVX 256). */
export function xsaveSize(xcr0: number): number {
  return (xcr0 & 4) !== 0 ? 832 : 576;
}

const MAX_BASIC = 0xd;
const MAX_EXTENDED = 0x80000008;
/** Family 6, model 0x3F (Haswell-EP), stepping 2. */
const SIGNATURE = 0x000306f2;

const bit = (n: number) => (1 << n) >>> 0;

// CPUID.1:EDX
const EDX1 =
  bit(0) | // FPU
  bit(2) | // DE (CR4.DE: DR4/DR5 aliasing)
  bit(3) | // PSE (large pages)
  bit(4) | // TSC
  bit(5) | // MSR
  bit(6) | // PAE
  bit(8) | // CX8
  bit(9) | // APIC
  bit(13) | // PGE
  bit(15) | // CMOV
  bit(16) | // PAT
  bit(19) | // CLFSH
  bit(24) | // FXSR
  bit(25) | // SSE
  bit(26) | // SSE2
  bit(28); // HTT
// Not reported: SEP (SYSENTER/SYSEXIT are not implemented; 64-bit code uses SYSCALL),
// MTRR, MCE/MCA, PSE-36, DS, ACPI, SS, TM, PBE.

// CPUID.1:ECX (OSXSAVE and VMX are added at run time)
const ECX1 =
  bit(13) | // CX16
  bit(17) | // PCID (the TLB is untagged; MOV CR3 flushes whenever the PCID changes)
  bit(21) | // x2APIC
  bit(23) | // POPCNT
  bit(24) | // TSC-deadline
  bit(26) | // XSAVE
  bit(30); // RDRAND
// Not reported: SSE3..SSE4.2, AVX, FMA, MOVBE, AES, F16C, hypervisor (bit 31: LVD is the machine).

// CPUID.7.0:EBX
const EBX7 =
  bit(0) | // FSGSBASE
  bit(3) | // BMI1 (only TZCNT of BMI1 is implemented; ANDN/BEXTR/BLS* are VEX-encoded and #UD)
  bit(7) | // SMEP
  bit(9) | // ERMS
  bit(18) | // RDSEED
  bit(20); // SMAP

// CPUID.80000001H
const ECX_EXT = bit(0) | bit(5); // LAHF/SAHF in 64-bit mode, LZCNT (ABM)
const EDX_EXT = bit(11) | bit(20) | bit(26) | bit(27) | bit(29); // SYSCALL, NX, 1 GB pages, RDTSCP, LM

/** The brand string, as the 12 dwords of leaves 0x80000002..4. */
const BRAND = (() => {
  const bytes = new Uint8Array(48);
  const text = "LVD Virtual x86-64 CPU";
  for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
  const view = new DataView(bytes.buffer);
  return Array.from({ length: 12 }, (_, k) => view.getInt32(k * 4, true));
})();

/** A 4-character register value from ASCII (little-endian). */
function ascii(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}

/** The four registers CPUID returns for (leaf, subleaf) on `c`. */
export function cpuidLeaf(c: Cpu, leaf: number, sub: number): [number, number, number, number] {
  leaf >>>= 0;
  if ((leaf > MAX_BASIC && leaf < 0x80000000) || leaf > MAX_EXTENDED) leaf = MAX_BASIC;
  switch (leaf) {
    case 0:
      return [MAX_BASIC, ascii("Genu"), ascii("ntel"), ascii("ineI")];
    case 1: {
      // EBX: CLFLUSH line 8 x 8 bytes, 1 logical processor per package, initial APIC id.
      const ebx = (8 << 8) | (1 << 16) | ((c.id & 0xff) << 24);
      const ecx = ECX1 | ((c.cr4 & CR4_OSXSAVE) !== 0 ? bit(27) : 0) | (VMX_SUPPORTED ? bit(5) : 0);
      // EDX.APIC follows IA32_APIC_BASE.EN (a globally disabled APIC is not reported).
      return [SIGNATURE, ebx, ecx, c.apic !== null && !c.apic.enabled ? EDX1 & ~bit(9) : EDX1];
    }
    case 7:
      return sub === 0 ? [0, EBX7, 0, 0] : [0, 0, 0, 0];
    case 0xd:
      switch (sub) {
        case 0: return [XCR0_SUPPORTED, xsaveSize(c.xcr0), xsaveSize(XCR0_SUPPORTED), 0];
        case 1: return [1, 0, 0, 0]; // XSAVEOPT; no XSAVEC, XGETBV(1), XSAVES
        case 2: return [256, 576, 0, 0]; // AVX YMM_Hi128: size, offset
        default: return [0, 0, 0, 0];
      }
    case 0x80000000:
      return [MAX_EXTENDED, 0, 0, 0];
    case 0x80000001:
      return [0, 0, ECX_EXT, EDX_EXT];
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const k = (leaf - 0x80000002) * 4;
      return [BRAND[k], BRAND[k + 1], BRAND[k + 2], BRAND[k + 3]];
    }
    case 0x80000007:
      return [0, 0, 0, bit(8)]; // invariant TSC: it counts modeled cycles
    case 0x80000008:
      return [MAXPHYADDR | (48 << 8), 0, 0, 0];
    default:
      return [0, 0, 0, 0];
  }
}

const cpuid: Handler = (c, i) => {
  if (c.vmx?.nonRoot) exitAlways(c, i, EXIT_CPUID); // VMX: CPUID always exits in non-root operation
  const [a, b, cx, d] = cpuidLeaf(c, c.lo[RAX], c.lo[RCX]);
  c.writeReg(4, RAX, a, 0);
  c.writeReg(4, RBX, b, 0);
  c.writeReg(4, RCX, cx, 0);
  c.writeReg(4, RDX, d, 0);
};

export const cpuidOps: Record<string, Handler> = { cpuid };
