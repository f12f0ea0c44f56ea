// Arrays of projections on the kernel side (docs/glue-abi.md, Encoding): the kernel keeps
// them in guest memory like the domain does, each in an allocation that remembers its
// element count in the 16 bytes before the elements (so whoever frees an array can
// release its elements first, whatever the object's size fields say by then). Elements by
// value are views into the array; elements by reference are pointers to objects.

import type { GlueChannel, GlueMemory } from "./channel.ts";
import type { View, ViewClass } from "./refs.ts";
import { loadInt64, loadPtr, storeInt64, storePtr } from "./objects.ts";

const HEADER = 16;

/** A zeroed array of n elements of `size` bytes (and a zero one after them when `terminate`); the address of element 0. */
export function allocObjects(ch: GlueChannel, n: number, size: number, terminate = false): number {
  const bytes = HEADER + (n + (terminate ? 1 : 0)) * size;
  const block = ch.alloc(bytes);
  ch.mem.writeBytes(block, new Uint8Array(bytes));
  storeInt64(ch.mem, block, BigInt(n));
  return block + HEADER;
}

/** The element count of an array allocObjects made. */
export function objectsCount(mem: GlueMemory, p: number): number {
  return Number(loadInt64(mem, p - HEADER, false));
}

/** Views of the elements (by value) of the array at p. */
export function objectViews<V>(ch: GlueChannel, p: number, cls: ViewClass<V>): V[] {
  return Array.from({ length: objectsCount(ch.mem, p) }, (_, k) => new cls(ch, p + k * cls.SIZE));
}

/** The objects the pointers of an array point to (null for NULL). */
export function loadRefs<V>(ch: GlueChannel, p: number, n: number, cls: ViewClass<V>): (V | null)[] {
  return Array.from({ length: n }, (_, k) => {
    const va = loadPtr(ch.mem, p + 8 * k);
    return va === 0 ? null : new cls(ch, va);
  });
}

export function storeRefs(mem: GlueMemory, p: number, refs: readonly (View | null)[]): void {
  refs.forEach((o, k) => storePtr(mem, p + 8 * k, o === null ? 0 : o.va));
}

/** A new array of pointers holding `refs` (NULL-terminated when `terminate`), 0 for null. */
export function copyRefs(ch: GlueChannel, refs: readonly (View | null)[] | null, terminate = false): number {
  if (refs === null) return 0;
  const p = allocObjects(ch, refs.length, 8, terminate);
  storeRefs(ch.mem, p, refs);
  return p;
}

/** Frees an array allocObjects made; elements by value (`cls` given) release what they own first. */
export function freeObjects<V extends View>(ch: GlueChannel, p: number, cls: ViewClass<V> | null): void {
  if (p === 0) return;
  if (cls !== null) for (const e of objectViews(ch, p, cls)) e.release?.();
  ch.free(p - HEADER);
}

/** Points the field at `va` to the array at p (0: NULL), freeing the array it pointed to. */
export function replaceObjects<V extends View>(ch: GlueChannel, va: number, p: number, cls: ViewClass<V> | null): void {
  const old = loadPtr(ch.mem, va);
  storePtr(ch.mem, va, p);
  freeObjects(ch, old, cls);
}
