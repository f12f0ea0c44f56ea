// Projection pointers on the kernel side: the name a kernel object travels under, and
// the object a received name stands for (docs/glue-abi.md, Capabilities).
//
// alloc: the receiver makes a copy of an object the sender shared first (the name must be
// the sender's); bind: the receiver already has the object under that name. A name that
// resolves to nothing, or to an object of another type, is ERROR.

import type { GlueChannel } from "./channel.ts";
import { GlueError } from "./glue-error.ts";
import { ERR_CAPABILITY, isDomainName } from "../wire.ts";
import type { RefMode } from "../types.ts";

export type { RefMode };

/** A generated view class: a kernel object of one C type at an address. */
export interface ViewClass<V> {
  new (ch: GlueChannel, va: number): V;
  readonly SIZE: number;
  readonly TYPE: number;
}

export interface View {
  readonly va: number;
  /** Frees the strings and arrays the object owns (generated for types that have some). */
  release?(): void;
}

/**
 * The name to send for a kernel object. When the domain will make a copy (alloc), an
 * object without a name gets one; when it must have one already (bind), the object must
 * have been shared before.
 */
export function nameOf(ch: GlueChannel, obj: View | null, type: number, mode: RefMode): bigint {
  if (obj === null) return 0n;
  const name = ch.cspace.find(obj.va, type);
  if (name !== 0n) return name;
  if (mode === "alloc") return ch.cspace.insert(obj.va, type);
  throw new GlueError(ERR_CAPABILITY, `kernel object at 0x${(obj.va >>> 0).toString(16)} (type ${type}) was never shared with the domain, so it cannot bind to it`);
}

/** The kernel object a received name stands for (a fresh zeroed copy for alloc). */
export function objectOf<V>(ch: GlueChannel, name: bigint, cls: ViewClass<V>, mode: RefMode): V | null {
  if (name === 0n) return null;
  const va = ch.cspace.lookup(name, cls.TYPE);
  if (va !== null) return new cls(ch, va);
  if (mode === "bind") throw new GlueError(ERR_CAPABILITY, `name 0x${name.toString(16)} is not an object of type ${cls.TYPE} here`);
  if (!isDomainName(name)) throw new GlueError(ERR_CAPABILITY, `name 0x${name.toString(16)} is the kernel's: the domain cannot hand it over for a new copy`);
  const copy = ch.alloc(cls.SIZE);
  ch.mem.writeBytes(copy, new Uint8Array(cls.SIZE));
  try {
    ch.cspace.insertAt(name, copy, cls.TYPE);
  } catch (e) {
    ch.free(copy);
    throw e;
  }
  return new cls(ch, copy);
}

/**
 * dealloc: forgets the object's name; a copy the glue made for a domain object is freed
 * too, with the strings and arrays it owns (the kernel's own objects belong to the
 * kernel code that made them).
 */
export function dropObject(ch: GlueChannel, obj: View | null, type: number): void {
  if (obj === null) return;
  const name = ch.cspace.find(obj.va, type);
  if (name === 0n) return;
  ch.cspace.remove(name);
  if (isDomainName(name)) {
    obj.release?.();
    ch.free(obj.va);
  }
}
