// 64-bit register values exactly, as bigints (the processor keeps them as 32-bit halves;
// Cpu.reg64 gives a number, exact only below 2^53): for message words, varargs, results.

import type { Cpu } from "../machine/cpu/cpu.ts";

/** Register r as an unsigned 64-bit value. */
export function regU64(cpu: Cpu, r: number): bigint {
  return (BigInt(cpu.hi[r] >>> 0) << 32n) | BigInt(cpu.lo[r] >>> 0);
}

/** Sets register r to the low 64 bits of v. */
export function setRegU64(cpu: Cpu, r: number, v: bigint): void {
  cpu.lo[r] = Number(BigInt.asIntN(32, v));
  cpu.hi[r] = Number(BigInt.asIntN(32, v >> 32n));
}
