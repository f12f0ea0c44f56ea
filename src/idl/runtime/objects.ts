// Fields of kernel objects in guest memory, for the generated view classes: integers of
// each width, pointers, strings and arrays the object owns.
//
// Ownership rule: a string or a varying-size array a kernel object points to belongs to
// the object. Storing a new one (glue receiving it, or kernel code through the view's
// setter) copies it into a fresh allocation and frees the previous one.

import type { GlueChannel, GlueMemory } from "./channel.ts";
import { packInts, unpackInts, type IntArray } from "./words.ts";

/** Longest string read from a kernel object (a corrupt one cannot make us read forever). */
export const MAX_STRING = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function loadInt(mem: GlueMemory, va: number, bytes: 1 | 2 | 4, signed: boolean): number {
  const v = bytes === 1 ? mem.read8(va) : bytes === 2 ? mem.read16(va) : mem.read32(va);
  if (!signed) return v;
  const shift = 32 - bytes * 8;
  return (v << shift) >> shift;
}

export function storeInt(mem: GlueMemory, va: number, bytes: 1 | 2 | 4, v: number): void {
  if (bytes === 1) mem.write8(va, v & 0xff);
  else if (bytes === 2) mem.write16(va, v & 0xffff);
  else mem.write32(va, v >>> 0);
}

export function loadInt64(mem: GlueMemory, va: number, signed: boolean): bigint {
  const v = (BigInt(mem.read32(va + 4) >>> 0) << 32n) | BigInt(mem.read32(va) >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}

export function storeInt64(mem: GlueMemory, va: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  mem.write32(va, Number(u & 0xffff_ffffn));
  mem.write32(va + 4, Number(u >> 32n));
}

export function loadBool(mem: GlueMemory, va: number): boolean {
  return mem.read8(va) !== 0;
}

export function storeBool(mem: GlueMemory, va: number, v: boolean): void {
  mem.write8(va, v ? 1 : 0);
}

/** A pointer as a number: canonical upper-half addresses come out negative (exact, like GuestMemory). */
export function loadPtr(mem: GlueMemory, va: number): number {
  return Number(loadInt64(mem, va, true));
}

export function storePtr(mem: GlueMemory, va: number, p: number): void {
  storeInt64(mem, va, BigInt(p));
}

/** The string a `char *` field at `va` points to (null for NULL). */
export function loadString(mem: GlueMemory, va: number): string | null {
  return loadCString(mem, loadPtr(mem, va));
}

/** The NUL-terminated string at `p` (null for NULL). */
export function loadCString(mem: GlueMemory, p: number): string | null {
  if (p === 0) return null;
  const bytes: number[] = [];
  for (let k = 0; k < MAX_STRING; k++) {
    const b = mem.read8(p + k);
    if (b === 0) break;
    bytes.push(b);
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** A fresh NUL-terminated copy of `s` on the kernel heap (0 for null). */
export function copyString(ch: GlueChannel, s: string | null): number {
  if (s === null) return 0;
  const bytes = encoder.encode(s);
  const p = ch.alloc(bytes.length + 1);
  ch.mem.writeBytes(p, bytes);
  ch.mem.write8(p + bytes.length, 0);
  return p;
}

/** Points the `char *` field at `va` to a fresh NUL-terminated copy of `s` (freeing the old one). */
export function storeString(ch: GlueChannel, va: number, s: string | null): void {
  replacePointer(ch, va, copyString(ch, s));
}

/** `n` elements stored at `va` (an inline array, or the target of an array pointer). */
export function loadArray(mem: GlueMemory, va: number, n: number, elementBytes: number, signed: boolean): IntArray {
  return unpackInts(mem.readBytes(va, n * elementBytes), elementBytes, signed);
}

export function storeArray(mem: GlueMemory, va: number, values: IntArray, elementBytes: number): void {
  mem.writeBytes(va, packInts(values, elementBytes));
}

/** Elements up to the first zero one (an array<T, null>), at most what a message holds. */
export function loadTerminated(mem: GlueMemory, va: number, elementBytes: number, signed: boolean): IntArray {
  const zero = new Uint8Array(elementBytes);
  let n = 0;
  while (n * elementBytes < MAX_STRING) {
    const e = mem.readBytes(va + n * elementBytes, elementBytes);
    if (e.every((b, k) => b === zero[k])) break;
    n++;
  }
  return loadArray(mem, va, n, elementBytes, signed);
}

/** A fresh copy of `values` on the kernel heap, a zero element after it when `terminate` (0 for null). */
export function copyArray(ch: GlueChannel, values: IntArray | null, elementBytes: number, terminate = false): number {
  if (values === null) return 0;
  const bytes = packInts(values, elementBytes);
  const p = ch.alloc(Math.max(1, bytes.length + (terminate ? elementBytes : 0)));
  ch.mem.writeBytes(p, bytes);
  if (terminate) ch.mem.writeBytes(p + bytes.length, new Uint8Array(elementBytes));
  return p;
}

/** Points the array pointer at `va` to a fresh copy of `values` (freeing the old one). */
export function storeArrayPointer(ch: GlueChannel, va: number, values: IntArray | null, elementBytes: number, terminate = false): void {
  replacePointer(ch, va, copyArray(ch, values, elementBytes, terminate));
}

function replacePointer(ch: GlueChannel, va: number, p: number): void {
  const old = loadPtr(ch.mem, va);
  storePtr(ch.mem, va, p);
  if (old !== 0) ch.free(old);
}
