// How the generated C spells things: declarations of IDL types, and the names of the
// constants, typedefs and functions the header and the glue share.

import type { CType, Projection, Rpc, Value, ValueType } from "./types.ts";
import { freshName, type Selection } from "./plan.ts";

/** `struct net_device` / `union u`. */
export function cTypeName(t: CType): string {
  return `${t.kind} ${t.tag}`;
}

/** The CSpace type number's macro: LVD_TYPE_net_device (unions: LVD_TYPE_union_u). */
export function typeConst(t: CType): string {
  return t.kind === "struct" ? `LVD_TYPE_${t.tag}` : `LVD_TYPE_union_${t.tag}`;
}

/** The header index macros: LVD_RPC_name / LVD_RPC_PTR_name. */
export function rpcConst(r: Rpc): string {
  return r.kind === "rpc" ? `LVD_RPC_${r.name}` : `LVD_RPC_PTR_${r.name}`;
}

/** The function pointer typedef of an rpc_ptr. */
export function fnTypedef(r: Rpc): string {
  return `lvd_${r.name}_fn`;
}

export function marshalerName(op: "put" | "get", p: Projection, sel: Selection): string {
  return `${op === "put" ? "marshal" : "unmarshal"}_${p.id}_${sel}`;
}

/** A declaration of `name` with this type (a field, a parameter, or with name "" a bare type). */
export function cDecl(t: ValueType, name: string): string {
  const n = name === "" ? "" : ` ${name}`;
  const star = (isConst: boolean, base: string) => `${isConst ? "const " : ""}${base} *${name}`;
  switch (t.kind) {
    case "int":
      return `${t.int.c}${n}`;
    case "int-pointer":
      return star(t.isConst, t.int.c);
    case "string":
      return star(t.isConst, "char");
    case "array":
      if (t.inline && t.size.kind === "const") return `${t.element.c}${n}[${t.size.count}]`;
      return star(t.isConst, t.element.c);
    case "ref":
      return star(t.isConst, cTypeName(t.projection.cType));
    case "ref-pointer":
      return `${t.isConst ? "const " : ""}${cTypeName(t.projection.cType)} **${name}`;
    case "object-array": {
      const e = t.element;
      const base = e.kind === "ref" ? `${e.isConst ? "const " : ""}${cTypeName(e.projection.cType)} *` : `${t.isConst ? "const " : ""}${cTypeName(e.projection.cType)} `;
      if (t.inline && t.size.kind === "const") return `${base}${name}[${t.size.count}]`;
      return `${base}*${name}`;
    }
    case "embed":
      return `${cTypeName(t.projection.cType)}${n}`;
    case "fn":
      return `${fnTypedef(t.rpcPtr)}${n}`;
    case "any_of":
      return `void *${name}`;
  }
}

/** `RET name(ARGS)`, the plain C prototype. */
export function cPrototype(r: Rpc, name = r.name, argNames?: ReadonlyMap<string, string>): string {
  const args = r.args.length === 0 ? "void" : r.args.map((a) => cDecl(a.type, argNames?.get(a.name) ?? a.name)).join(", ");
  return `${returnType(r.returns)}${returnType(r.returns).endsWith("*") ? "" : " "}${name}(${args})`;
}

export function returnType(v: Value | null): string {
  return v === null ? "void" : cDecl(v.type, "").replace(/ \*$/, " *");
}

/**
 * Names the stubs' own locals use (and the helpers' blocks declare): an argument with one
 * of them is renamed in the generated C (parameter names are not part of a C prototype's
 * type, so the driver's header still matches).
 */
export const RESERVED = ["m", "c", "cursor", "ret", "fn", "p", "n", "which", "address", "error", "obj", "to_callee"];

export function argumentNames(r: Rpc): Map<string, string> {
  const taken = new Set(RESERVED);
  const names = new Map<string, string>();
  for (const a of r.args) if (!RESERVED.includes(a.name)) taken.add(a.name);
  for (const a of r.args) names.set(a.name, RESERVED.includes(a.name) ? freshName(a.name, taken) : a.name);
  return names;
}

