// What crosses in which message (docs/glue-abi.md, Encoding), as both generators need it.
//
// A projection is marshaled with a *selection* of its fields: "in" (the fields marked
// [in], the default) or "out" (those marked [out]). Arguments use "in" on the call and
// "out" on the reply. An object that first appears on the reply (a returned object, or
// the target of an [out]-only pointer field) travels whole, like an argument on its way
// in: it uses the "in" selection. Union members cross whenever their union does.
//
// Each side's glue needs a marshaler ("put") or unmarshaler ("get") for each projection
// and selection it meets; both generators emit exactly those.

import type { CheckedModule, EmbedType, Projection, RefType, Rpc, Value, ValueType } from "./types.ts";

export type Selection = "in" | "out";
export type Op = "put" | "get";

export interface Marshaler {
  readonly op: Op;
  readonly projection: Projection;
  readonly sel: Selection;
}

export function crosses(p: Projection, f: Value, sel: Selection): boolean {
  if (p.cType.kind === "union") return true;
  return sel === "in" ? f.dirs.call : f.dirs.reply;
}

export function selectedFields(p: Projection, sel: Selection): Value[] {
  return p.fields.filter((f) => crosses(p, f, sel));
}

/**
 * The selection of the object a field points to (or embeds), when the field crosses in
 * `sel`: an [out]-only pointer brings a new object, which travels whole ("in"). Members
 * of a union travel whole too: pass sel "in" for them.
 */
export function subSelection(f: Value, sel: Selection): Selection {
  if (sel !== "out") return sel;
  // An array of projections behind a pointer comes back as a new array: whole.
  const newArray = f.type.kind === "object-array" && !f.type.inline;
  return !f.dirs.call || newArray ? "in" : sel;
}

/**
 * The fewest words a projection's selection takes on the wire: a receiver refuses an
 * array of projections whose count could not fit in what is left of the message.
 */
export function minWords(p: Projection, sel: Selection, seen = new Set<Projection>()): number {
  if (p.cType.kind === "union") return 1; // the member index
  if (seen.has(p)) return 0;
  seen.add(p);
  let words = 0;
  for (const f of selectedFields(p, sel)) {
    const t = f.type;
    if (t.kind === "embed") words += minWords(t.projection, subSelection(f, sel), seen);
    else if (t.kind === "object-array" && t.inline && t.size.kind === "const") words += 1 + t.size.count * elementMinWords(t.element, subSelection(f, sel), seen);
    else words += 1;
  }
  seen.delete(p);
  return words;
}

/** The fewest words one element of an array of projections takes. */
export function elementMinWords(e: RefType | EmbedType, sel: Selection, seen = new Set<Projection>()): number {
  return e.kind === "ref" ? 1 : minWords(e.projection, sel, seen);
}

/** The selection a union's members are marshaled with, whichever way the union crosses. */
export function memberSelection(p: Projection, sel: Selection): Selection {
  return p.cType.kind === "union" ? "in" : sel;
}

/** Whether an argument pointing at projection p brings data back on the reply. */
export function hasReplyData(p: Projection): boolean {
  return selectedFields(p, "out").length > 0;
}

/** Projections a value of this type points to or embeds. */
function projectionsOf(t: ValueType): Projection[] {
  if (t.kind === "ref" || t.kind === "embed" || t.kind === "ref-pointer") return [t.projection];
  if (t.kind === "object-array") return [t.element.projection];
  if (t.kind === "any_of") return t.members.flatMap(projectionsOf);
  return [];
}

/**
 * The marshalers one side needs, in a stable order. The domain calls rpcs (puts their
 * calls, gets their replies) and serves rpc_ptrs; the kernel does the opposite.
 */
export function marshalersFor(m: CheckedModule, side: "domain" | "kernel"): Marshaler[] {
  const found = new Map<string, Marshaler>();
  const need = (op: Op, projection: Projection, sel: Selection) => {
    const key = `${op}:${projection.id}:${sel}`;
    if (found.has(key) || selectedFields(projection, sel).length === 0) return;
    found.set(key, { op, projection, sel });
    for (const f of selectedFields(projection, sel)) {
      for (const sub of projectionsOf(f.type)) need(op, sub, subSelection(f, memberSelection(projection, sel)));
    }
  };
  const visit = (rpc: Rpc, caller: boolean) => {
    const callOp: Op = caller ? "put" : "get";
    const replyOp: Op = caller ? "get" : "put";
    for (const a of rpc.args) {
      if (a.unused) continue;
      if (a.type.kind === "ref-pointer") {
        // *arg crosses as a projection pointer: with the call if [in], whole on the reply if [out].
        if (a.dirs.call) need(callOp, a.type.projection, "in");
        if (a.dirs.reply) need(replyOp, a.type.projection, "in");
        continue;
      }
      for (const p of projectionsOf(a.type)) {
        need(callOp, p, "in");
        if (a.type.kind === "ref" || a.type.kind === "object-array") need(replyOp, p, "out");
      }
    }
    if (rpc.returns) for (const p of projectionsOf(rpc.returns.type)) need(replyOp, p, "in");
  };
  for (const r of m.rpcs) visit(r, side === "domain");
  for (const r of m.rpcPtrs) visit(r, side === "kernel");
  return [...found.values()].sort((a, b) =>
    a.projection.pos.offset - b.projection.pos.offset || a.sel.localeCompare(b.sel) || (a.op === b.op ? 0 : a.op === "put" ? -1 : 1));
}

/** Whether `m` includes the marshaler (an empty selection has none: nothing to call). */
export function hasMarshaler(list: readonly Marshaler[], op: Op, p: Projection, sel: Selection): boolean {
  return list.some((x) => x.op === op && x.projection === p && x.sel === sel);
}

/** A name not among `taken`, made from `base` by appending underscores (generated locals vs argument names). */
export function freshName(base: string, taken: Set<string>): string {
  let n = base;
  while (taken.has(n)) n += "_";
  taken.add(n);
  return n;
}

/**
 * Whether receiving this selection stores memory the glue allocates in the object
 * (strings, arrays behind pointers, arrays of projections), directly or in what it embeds:
 * that memory belongs to the object when the object is the glue's copy.
 */
export function ownsData(p: Projection, sel: Selection): boolean {
  if (p.cType.kind === "union") return false; // members are not owned (docs/glue-abi.md)
  return selectedFields(p, sel).some((f) => ownedField(f.type, subSelection(f, sel)));
}

function ownedField(t: ValueType, sel: Selection): boolean {
  switch (t.kind) {
    case "string":
      return true;
    case "array":
      return !t.inline;
    case "object-array":
      return !t.inline || (t.element.kind === "embed" && ownsData(t.element.projection, sel));
    case "embed":
      return ownsData(t.projection, sel);
    default:
      return false;
  }
}
