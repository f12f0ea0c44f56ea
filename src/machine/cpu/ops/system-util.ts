// Small helpers shared by the system-instruction files (traps, MSRs, control registers,
// descriptor tables, XSAVE): 64-bit values as numbers, supervisor-mode memory access for
// the structures the CPU itself reads (GDT, TSS), and byte-area copies.

import type { Cpu } from "../cpu.ts";
import { ACC_READ, ACC_WRITE } from "../paging.ts";

/** A 64-bit value given as halves, as a signed number (the canonical-address form). */
export function linear(lo: number, hi: number): number {
  return (hi | 0) * 4294967296 + (lo >>> 0);
}

/** A 64-bit value given as halves, as an unsigned number (exact below 2^53). */
export function unsigned64(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}

/** Low half (int32) of a number holding a 64-bit value (signed or unsigned form). */
export function loOf(v: number): number {
  return v | 0;
}
/** High half (int32) of a number holding a 64-bit value (signed or unsigned form). */
export function hiOf(v: number): number {
  return Math.floor(v / 4294967296) | 0;
}

/** Writes a number holding a 64-bit value to a general register. */
export function setReg(c: Cpu, r: number, v: number): void {
  c.writeReg(8, r, loOf(v), hiOf(v));
}

/** A 32-bit read of a structure the processor reads itself (supervisor access, any CPL). */
export function readSup32(c: Cpu, la: number): number {
  return c.mem.read32(c.translateAs(la, ACC_READ, false));
}
export function writeSup32(c: Cpu, la: number, v: number): void {
  c.mem.write32(c.translateAs(la, ACC_WRITE, false), v);
}

/** Faults now if any byte of [la, la+size) cannot be written, so the writes that follow cannot. */
export function checkWriteRange(c: Cpu, la: number, size: number): void {
  for (let p = la - (la & 0xfff); p < la + size; p += 4096) c.checkWrite(Math.max(p, la), 1);
}

/** Reads `size` bytes (a multiple of 4, `la` 4-aligned) into a new buffer at the current CPL. */
export function readBytes(c: Cpu, la: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let k = 0; k < size; k += 4) view.setInt32(k, c.readMem(la + k, 4), true);
  return out;
}

/** Writes bytes [from, to) of `src` (4-aligned bounds) to la + from at the current CPL. */
export function writeBytes(c: Cpu, la: number, src: Uint8Array, from: number, to: number): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let k = from; k < to; k += 4) c.writeMem(la + k, 4, view.getInt32(k, true), 0);
}
