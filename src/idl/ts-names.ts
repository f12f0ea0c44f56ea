// How the generated TypeScript spells things: class, type and function names, and the
// TypeScript types of IDL values on the kernel side (docs/glue-abi.md, Runtime API).

import type { CType, CheckedModule, IntType, Rpc, ValueType } from "./types.ts";
import type { Selection } from "./plan.ts";
import { freshName } from "./plan.ts";

/** Names the runtime exports: a generated class must not shadow them. */
export const RUNTIME_NAMES = [
  "GlueError", "WordReader", "WordWriter", "GlueCSpace", "GlueChannel", "GlueMemory", "GlueResult", "Box", "KernelPath",
  "DomainFunction", "View", "ViewClass", "RefMode", "IntArray", "CSpace",
  "loadInt", "storeInt", "loadInt64", "storeInt64", "loadBool", "storeBool", "loadPtr", "storePtr", "loadString",
  "storeString", "loadArray", "storeArray", "loadTerminated", "storeArrayPointer", "loadCString", "copyString", "copyArray",
  "nameOf", "objectOf", "dropObject", "settle", "serve", "errorReply", "callDomain", "trampoline", "functionWord",
  "functionAddress", "memberIndex", "checkMember", "sizeDiv",
  "allocObjects", "objectsCount", "objectViews", "loadRefs", "storeRefs", "copyRefs", "freeObjects", "replaceObjects",
  "KIND_RPC", "KIND_RPC_PTR", "KIND_REPLY", "KIND_ERROR", "ERR_MESSAGE", "NULL_COUNT",
];

/** Words a local variable cannot be called in TypeScript (strict mode). */
const TS_RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "arguments", "eval",
]);

/** Locals the generated functions use; arguments with these names are renamed. */
const LOCALS = ["ch", "impl", "r", "w", "ret", "which", "o", "p", "obj", "toCallee", "fn", "address", "request", "word"];

export function pascal(s: string): string {
  return s.split(/_+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("") || "X";
}

/** Class names of the module's C types (NetDevice for struct net_device), unique and not shadowing the runtime. */
export function classNames(m: CheckedModule): Map<CType, string> {
  const taken = new Set([...RUNTIME_NAMES, ...m.rpcPtrs.map((r) => fnTypeName(r)), `${pascal(m.name)}Kernel`]);
  const names = new Map<CType, string>();
  for (const t of m.cTypes) {
    let n = pascal(t.tag);
    if (taken.has(n)) n += t.kind === "union" ? "Union" : "Struct";
    names.set(t, freshName(n, taken));
  }
  return names;
}

export function fnTypeName(r: Rpc): string {
  return `${pascal(r.name)}Fn`;
}

/** Local names for an rpc's arguments: the IDL's, unless TypeScript or the stub needs them. */
export function localNames(r: Rpc): Map<string, string> {
  const taken = new Set([...LOCALS, ...TS_RESERVED]);
  for (const a of r.args) if (!taken.has(a.name)) taken.add(a.name);
  const names = new Map<string, string>();
  for (const a of r.args) names.set(a.name, LOCALS.includes(a.name) || TS_RESERVED.has(a.name) ? freshName(`${a.name}_`, taken) : a.name);
  return names;
}

/** A view's accessor for a field: the field's name, unless it would hide the view's own members. */
export function memberName(field: string): string {
  return field === "ch" || field === "va" || field === "release" || field === "constructor" ? `${field}_` : field;
}

export function marshalerTsName(op: "put" | "get", id: string, sel: Selection): string {
  return `${op === "put" ? "marshal" : "unmarshal"}_${id}_${sel}`;
}

/** The TypeScript type of an integer: number up to 32 bits, bigint for 64, boolean for bool. */
export function intTs(i: IntType): string {
  return i.isBool ? "boolean" : i.bytes === 8 ? "bigint" : "number";
}

export function arrayTs(element: IntType): string {
  return element.bytes === 1 ? "Uint8Array" : element.bytes === 8 ? "bigint[]" : "number[]";
}

/** The kernel's TypeScript type for a value (`classes` names the views). */
export function valueTs(t: ValueType, classes: Map<CType, string>): string {
  switch (t.kind) {
    case "int":
      return intTs(t.int);
    case "int-pointer":
      return `Box<${intTs(t.int)}> | null`;
    case "string":
      return "string | null";
    case "array":
      return t.inline ? arrayTs(t.element) : `${arrayTs(t.element)} | null`;
    case "ref":
      return `${classes.get(t.projection.cType)} | null`;
    case "ref-pointer":
      return `Box<${classes.get(t.projection.cType)} | null> | null`;
    case "object-array": {
      const e = t.element.kind === "ref" ? `(${classes.get(t.element.projection.cType)} | null)[]` : `${classes.get(t.element.projection.cType)}[]`;
      return t.inline ? e : `${e} | null`;
    }
    case "embed":
      return classes.get(t.projection.cType)!;
    case "fn":
      return `${fnTypeName(t.rpcPtr)} | null`;
    case "any_of":
      return [...new Set(t.members.map((m) => valueTs(m, classes).replace(/ \| null$/, "")))].join(" | ") + " | null";
  }
}

/** The value an [unused] argument takes (it does not cross). */
export function zeroTs(t: ValueType): string {
  if (t.kind === "int") return t.int.isBool ? "false" : t.int.bytes === 8 ? "0n" : "0";
  return "null";
}
