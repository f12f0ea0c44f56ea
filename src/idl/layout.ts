// How the kernel lays out its objects in guest memory (docs/glue-abi.md): each C struct
// as the struct its projections' fields form, in order of first appearance, with natural
// alignment (the System V x86-64 rules gcc uses); a union with every member at offset 0.
// Pointers, strings (char *), rpc_ptrs, any_of (void *) and arrays of varying size
// (a pointer to their elements) take 8 bytes; an array of constant size is inline.
//
// The same layout is used for the C struct definitions the generated header provides
// when the driver has no header of its own, so both sides agree on it byte for byte.

import type { CType, ValueType } from "./types.ts";

export interface FieldLayout {
  readonly name: string;
  readonly type: ValueType;
  readonly offset: number;
  readonly size: number;
}

export interface TypeLayout {
  readonly size: number;
  readonly align: number;
  readonly fields: readonly FieldLayout[];
}

export class Layouts {
  private readonly cache = new Map<CType, TypeLayout>();

  of(t: CType): TypeLayout {
    let l = this.cache.get(t);
    if (!l) {
      l = this.compute(t);
      this.cache.set(t, l);
    }
    return l;
  }

  /** Size and alignment of one field's type. */
  sizeOf(type: ValueType): { size: number; align: number } {
    switch (type.kind) {
      case "int":
        return { size: type.int.bytes, align: type.int.bytes };
      case "array":
        if (type.inline && type.size.kind === "const") return { size: type.size.count * type.element.bytes, align: type.element.bytes };
        return { size: 8, align: 8 };
      case "embed": {
        const l = this.of(type.projection.cType);
        return { size: l.size, align: l.align };
      }
      case "object-array": {
        if (!type.inline || type.size.kind !== "const") return { size: 8, align: 8 };
        const e = this.sizeOf(type.element);
        return { size: type.size.count * e.size, align: e.align };
      }
      default:
        return { size: 8, align: 8 };
    }
  }

  private compute(t: CType): TypeLayout {
    const fields: FieldLayout[] = [];
    let offset = 0;
    let align = 1;
    for (const f of t.fields) {
      const s = this.sizeOf(f.type);
      align = Math.max(align, s.align);
      const at = t.kind === "union" ? 0 : roundUp(offset, s.align);
      fields.push({ name: f.name, type: f.type, offset: at, size: s.size });
      offset = t.kind === "union" ? Math.max(offset, s.size) : at + s.size;
    }
    // An empty struct still gets one byte, like gcc's (a GNU C extension gives 0; the
    // kernel needs a distinct address per object, so we keep 1).
    return { size: Math.max(1, roundUp(offset, align)), align, fields };
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
