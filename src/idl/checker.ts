// Checker: syntax tree -> checked model (types.ts), enforcing the rules that make the
// generated glue well defined (docs/glue-abi.md):
//  - every projection and rpc_ptr name resolves (a projection declared in an rpc's braces
//    is visible only there; rpc_ptrs declared in braces are hoisted to the module);
//  - attributes fit their place: [out] needs something the callee can write through,
//    alloc/bind/dealloc apply to projection pointers, the side they name must receive the
//    pointer, no contradictions or repeats;
//  - array sizes and union discriminators use integer fields (or arguments) that the
//    receiver has already read when it reaches the array: declared before it and crossing
//    in the same direction, or, on the reply, sent with the call;
//  - no duplicate names; no struct contains itself by value (through pointers is fine);
//  - all projections of one C struct agree on the C type of each field they name (the
//    kernel keeps one object per struct, laid out from all of them: layout.ts).

import type {
  Attribute, CField, CheckedModule, CType, Directions, Expr, Pos, Projection, ProjectionSyntax, RefMode, Rpc,
  RpcSyntax, SizeSpec, TypeSyntax, Value, ValueType, VarSyntax, ModuleSyntax,
} from "./types.ts";
import type { DiagnosticBag } from "./diagnostics.ts";
import { intType } from "./int-types.ts";
import { constValue, exprNames, exprText } from "./expressions.ts";

/** The most bytes an array or string can occupy in one message (the extended page). */
export const MAX_INLINE_BYTES = 4096;
/** The most elements an array of projections can have (the words of the extended page; the glue's runtimes check it too). */
export const MAX_OBJECT_ELEMENTS = 512;

/** C keywords the parser does not already reserve: the generated C could not use them as names. */
const C_KEYWORDS = new Set([
  "auto", "break", "case", "continue", "default", "do", "double", "else", "enum", "extern", "float", "for", "goto",
  "if", "inline", "register", "restrict", "return", "sizeof", "static", "switch", "typedef", "volatile", "while",
  "_Bool", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert", "_Thread_local",
]);

/** Where a declaration stands: its type rules differ. */
type Place = "argument" | "field" | "member" | "return" | "any_of member";

interface Scope {
  readonly projections: Map<string, Projection>;
  readonly parent: Scope | null;
}

export function check(syntax: ModuleSyntax, fileName: string, diags: DiagnosticBag): CheckedModule {
  return new Checker(syntax, fileName, diags).run();
}

class Checker {
  private readonly moduleScope: Scope = { projections: new Map(), parent: null };
  private readonly rpcPtrByName = new Map<string, Rpc>();
  private readonly projections: Projection[] = [];
  private readonly cTypes = new Map<string, CType>();
  private readonly projectionSyntax = new Map<Projection, ProjectionSyntax>();

  constructor(private readonly syntax: ModuleSyntax, private readonly fileName: string, private readonly diags: DiagnosticBag) {}

  run(): CheckedModule {
    const s = this.syntax;
    // rpc_ptrs inside an rpc's braces belong to the module; indices follow source order.
    const all: { rpc: RpcSyntax; scope: Scope }[] = [];
    const collect = (r: RpcSyntax, parent: Scope) => {
      const scope: Scope = { projections: new Map(), parent };
      all.push({ rpc: r, scope });
      for (const p of r.projections) this.declareProjection(p, scope, r.name.text);
      for (const inner of r.rpcPtrs) collect(inner, scope);
    };
    for (const p of s.projections) this.declareProjection(p, this.moduleScope, null);
    for (const r of s.rpcs) collect(r, this.moduleScope);
    all.sort((a, b) => a.rpc.pos.offset - b.rpc.pos.offset);

    const rpcs: Rpc[] = [];
    const rpcPtrs: Rpc[] = [];
    const rpcNames = new Map<string, Pos>();
    const shells = new Map<RpcSyntax, Rpc>();
    for (const { rpc } of all) {
      const name = rpc.name.text;
      const earlier = rpcNames.get(name);
      if (earlier) this.diags.error(rpc.name.pos, `'${name}' is already declared at line ${earlier.line}`);
      else rpcNames.set(name, rpc.name.pos);
      const list = rpc.kind === "rpc" ? rpcs : rpcPtrs;
      const shell: Rpc = { kind: rpc.kind, name, index: list.length, returns: null, args: [], pos: rpc.pos };
      list.push(shell);
      shells.set(rpc, shell);
      if (rpc.kind === "rpc_ptr" && !earlier) this.rpcPtrByName.set(name, shell);
    }
    if (rpcs.length > 0xffff || rpcPtrs.length > 0xffff) this.diags.error(s.pos, "too many rpcs: the header's index field has 16 bits");

    // Projections' fields, then rpcs' signatures: all names are declared by now.
    for (const p of this.projections) this.resolveFields(p);
    for (const { rpc, scope } of all) this.resolveRpc(rpc, scope, shells.get(rpc)!);

    const cTypes = [...this.cTypes.values()];
    for (const t of cTypes) this.mergeFields(t);
    this.rejectByValueCycles(cTypes);

    return {
      name: s.name.text,
      fileName: this.fileName,
      headers: s.headers.map((h) => h.path),
      rpcs,
      rpcPtrs,
      projections: this.projections,
      cTypes,
    };
  }

  // ---------------------------------------------------------------- projections

  private declareProjection(p: ProjectionSyntax, scope: Scope, owner: string | null): void {
    const name = p.name.text;
    const earlier = scope.projections.get(name);
    if (earlier) {
      this.diags.error(p.name.pos, `projection '${name}' is already declared ${owner ? `in '${owner}'` : "in this module"} at line ${earlier.pos.line}`);
      return;
    }
    const key = `${p.cKind} ${p.cName.text}`;
    let cType = this.cTypes.get(key);
    if (!cType) {
      cType = { kind: p.cKind, tag: p.cName.text, typeId: this.cTypes.size + 1, fields: [], projections: [] };
      this.cTypes.set(key, cType);
    }
    if (p.cKind === "union" && !p.discriminator) {
      this.diags.error(p.name.pos, `union projection '${name}' needs a discriminator to choose the member: projection <union ${p.cName.text}, FIELD> ${name}`);
    }
    const projection: Projection = {
      id: owner ? `${owner}__${name}` : name,
      name,
      scope: owner,
      cType,
      fields: [],
      discriminator: p.discriminator,
      pos: p.pos,
    };
    cType.projections.push(projection);
    scope.projections.set(name, projection);
    this.projections.push(projection);
    this.projectionSyntax.set(projection, p);
    this.scopeOf.set(projection, scope);
  }

  private readonly scopeOf = new Map<Projection, Scope>();

  private resolveFields(p: Projection): void {
    const syntax = this.projectionSyntax.get(p)!;
    const scope = this.scopeOf.get(p)!;
    const place: Place = p.cType.kind === "union" ? "member" : "field";
    const seen = new Map<string, Pos>();
    for (const f of syntax.fields) {
      const earlier = seen.get(f.name.text);
      if (earlier) {
        this.diags.error(f.name.pos, `field '${f.name.text}' is already declared in projection '${p.name}' at line ${earlier.line}`);
        continue;
      }
      seen.set(f.name.text, f.name.pos);
      const v = this.value(f, place, scope);
      if (v) p.fields.push(v);
    }
    this.checkSizes(p.fields, place, `projection '${p.name}'`);
  }

  private lookupProjection(name: string, scope: Scope): Projection | undefined {
    for (let s: Scope | null = scope; s; s = s.parent) {
      const p = s.projections.get(name);
      if (p) return p;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- rpcs

  private resolveRpc(r: RpcSyntax, scope: Scope, shell: Rpc): void {
    const seen = new Map<string, Pos>();
    const args = shell.args;
    for (const a of r.args) {
      const earlier = seen.get(a.name.text);
      if (earlier) {
        this.diags.error(a.name.pos, `argument '${a.name.text}' is already declared at column ${earlier.column}`);
        continue;
      }
      seen.set(a.name.text, a.name.pos);
      const v = this.value(a, "argument", scope);
      if (v) args.push(v);
    }
    this.checkSizes(args, "argument", `${r.kind} '${r.name.text}'`);
    if (!(r.returns.stem.kind === "void" && r.returns.pointers === 0)) {
      const v = this.value({ type: r.returns, name: { text: "ret", pos: r.returns.pos } }, "return", scope);
      if (v?.discriminator) this.diags.error(r.returns.pos, "a union cannot be returned: its discriminator would have no fields or arguments to come from");
      (shell as { returns: Value | null }).returns = v;
    } else if (r.returns.attributes.length > 0) {
      this.diags.error(r.returns.attributes[0].pos, "a void return takes no attributes");
    }
  }

  // ---------------------------------------------------------------- values

  private value(v: VarSyntax, place: Place, scope: Scope): Value | null {
    if (C_KEYWORDS.has(v.name.text)) {
      this.diags.error(v.name.pos, `'${v.name.text}' is a C keyword and cannot name ${place === "argument" ? "an argument" : "a field"}`);
      return null;
    }
    const type = this.valueType(v.type, place, scope, v.name.text);
    if (!type) return null;
    const attrs = this.attributes(v.type.attributes);
    const pos = v.name.pos;
    const what = place === "return" ? "the return value" : `${place} '${v.name.text}'`;

    // Directions.
    let dirs: Directions;
    let unused = false;
    if (place === "return" || place === "member") {
      const d = attrs.in ?? attrs.out ?? attrs.unused;
      if (d) this.diags.error(d.pos, place === "return" ? "the return value always crosses on the reply: it takes no [in], [out] or [unused]" : `union member '${v.name.text}' takes no direction: it crosses with the union`);
      dirs = place === "return" ? { call: false, reply: true } : { call: true, reply: true };
    } else if (attrs.unused) {
      if (attrs.in || attrs.out) this.diags.error(attrs.unused.pos, `[unused] contradicts [${attrs.in ? "in" : "out"}] on ${what}`);
      unused = true;
      dirs = { call: false, reply: false };
    } else {
      dirs = attrs.in || attrs.out ? { call: !!attrs.in, reply: !!attrs.out } : { call: true, reply: false };
    }
    if (place === "argument" && attrs.out) {
      const byValue = type.kind === "int" || type.kind === "string" || type.kind === "fn" || type.kind === "any_of";
      if (byValue) this.diags.error(attrs.out.pos, `[out] on ${what}, which is passed by value: the callee cannot change the caller's copy (pass a pointer)`);
      else if (type.kind === "ref") this.diags.error(attrs.out.pos, `[out] on projection pointer ${what}: the pointer crosses with the call; mark the projection's fields that come back [out] (for an object the callee returns through the argument, write 'projection ${type.projection.name} [out] **${v.name.text}')`);
      else if (type.kind === "object-array") this.diags.error(attrs.out.pos, `[out] on array of projections ${what}: the array crosses with the call; mark the projection's fields that come back [out]`);
      else if ((type.kind === "int-pointer" || type.kind === "array") && type.isConst) this.diags.error(attrs.out.pos, `[out] on ${what}, a pointer to const: the callee's values cannot be written back`);
      else if (type.kind === "array" && type.size.kind === "null") this.diags.error(attrs.out.pos, `[out] on ${what}: the caller's buffer needs a size it knows; array<T, null> is for [in] arrays`);
    }

    // Capabilities: alloc, bind, dealloc.
    const holdsRef = type.kind === "ref" || type.kind === "ref-pointer" || (type.kind === "object-array" && type.element.kind === "ref") ||
      (type.kind === "any_of" && type.members.some((m) => m.kind === "ref"));
    const modes: Record<"caller" | "callee", RefMode> = { caller: "bind", callee: "bind" };
    const dealloc = { caller: false, callee: false };
    for (const kind of ["alloc", "bind", "dealloc"] as const) {
      for (const a of attrs[kind]) {
        if (!holdsRef) {
          this.diags.error(a.pos, `${kind}(${a.side}) on ${what}: alloc, bind and dealloc apply to projection pointers only`);
          continue;
        }
        if (type.kind === "ref-pointer") {
          this.refPointerAttribute(kind, a, type.projection.name, v.name.text, attrs.in !== undefined || attrs.out === undefined, attrs.out !== undefined);
          continue;
        }
        if (kind !== "dealloc") {
          if (place === "argument" && a.side === "caller") this.diags.error(a.pos, `${kind}(caller) on ${what}: the caller does not receive its own argument; did you mean ${kind}(callee)?`);
          if (place === "return" && a.side === "callee") this.diags.error(a.pos, `${kind}(callee) on the return value: only the caller receives it; did you mean ${kind}(caller)?`);
        }
      }
    }
    for (const side of ["caller", "callee"] as const) {
      const alloc = attrs.alloc.find((a) => a.side === side);
      const bind = attrs.bind.find((a) => a.side === side);
      if (alloc && bind) this.diags.error(bind.pos, `bind(${side}) contradicts alloc(${side}): the ${side} either makes a new copy or finds its existing one`);
      if (alloc) modes[side] = "alloc";
      if (attrs.dealloc.some((a) => a.side === side)) dealloc[side] = true;
    }

    const discriminator = (type.kind === "ref" || type.kind === "embed") && type.projection.cType.kind === "union" ? type.projection.discriminator : null;
    return {
      name: v.name.text,
      type,
      dirs,
      unused,
      calleeMode: modes.callee,
      callerMode: modes.caller,
      dealloc,
      discriminator,
      pos,
    };
  }

  /**
   * alloc/bind on `projection p **arg`: the callee receives `*arg` on the call (when the
   * argument is [in]), the caller receives it on the reply (when [out]); each side's
   * attribute applies to what that side receives.
   */
  private refPointerAttribute(kind: "alloc" | "bind" | "dealloc", a: Attribute, projection: string, name: string, call: boolean, reply: boolean): void {
    if (kind === "dealloc") {
      this.diags.error(a.pos, `dealloc(${a.side}) on argument '${name}', a pointer to a projection pointer: not supported; pass the object as 'projection ${projection} [dealloc(${a.side})] *' to an rpc that drops it`);
      return;
    }
    if (a.side === "callee" && !call) {
      this.diags.error(a.pos, `${kind}(callee) on [out] argument '${name}': the callee receives nothing through it; the object it stores in *${name} reaches the caller on the reply, so write ${kind}(caller) (alloc(caller): the caller makes its copy of the callee's new object)`);
    }
    if (a.side === "caller" && !reply) {
      this.diags.error(a.pos, `${kind}(caller) on argument '${name}', which is not [out]: nothing comes back to the caller through it; did you mean ${kind}(callee)?`);
    }
  }

  /** Sorts attributes by kind, reporting repeats. */
  private attributes(list: readonly Attribute[]) {
    const out = { in: undefined as Attribute | undefined, out: undefined as Attribute | undefined, unused: undefined as Attribute | undefined, alloc: [] as Attribute[], bind: [] as Attribute[], dealloc: [] as Attribute[] };
    for (const a of list) {
      if (a.kind === "in" || a.kind === "out" || a.kind === "unused") {
        if (out[a.kind]) this.diags.error(a.pos, `attribute '${a.kind}' is given twice`);
        out[a.kind] = a;
      } else {
        if (out[a.kind].some((b) => b.side === a.side)) this.diags.error(a.pos, `attribute '${a.kind}(${a.side})' is given twice`);
        out[a.kind].push(a);
      }
    }
    return out;
  }

  private valueType(t: TypeSyntax, place: Place, scope: Scope, name: string): ValueType | null {
    const stem = t.stem;
    const what = place === "return" ? "the return value" : place === "any_of member" ? "an any_of member" : `${place} '${name}'`;
    const tooDeep = () => {
      const instead = stem.kind === "int" ? ` (for an integer the callee hands back, use '${stem.name} [out] *'; for several, 'array<${stem.name}, N> [out] *')`
        : stem.kind === "string" ? " (for a string the callee fills in, use 'array<char, N> [out] *')"
        : stem.kind === "array" ? " (an array argument is already 'array<...> *')"
        : "";
      this.diags.error(t.pos, `${what}: pointers to pointers are supported only as 'projection NAME **' arguments${instead}`);
      return null;
    };
    switch (stem.kind) {
      case "int": {
        const int = intType(stem.name);
        if (t.pointers === 0) {
          if (place === "any_of member") break;
          return { kind: "int", int };
        }
        if (t.pointers > 1) return tooDeep();
        if (place !== "argument") {
          this.diags.error(t.pos, `${what}: a pointer to an integer is supported for arguments only (a field can use array<${stem.name}, 1> *)`);
          return null;
        }
        return { kind: "int-pointer", int, isConst: t.isConst };
      }
      case "void":
        this.diags.error(t.pos, t.pointers > 0
          ? `${what}: 'void *' does not say what to copy; use array<u8, N> *, a projection pointer, or any_of<...>`
          : `${what} cannot be void`);
        return null;
      case "string":
        // KSplit writes both `string` and `string *` for a char *; more is a pointer to a pointer.
        if (t.pointers > 1) return tooDeep();
        return { kind: "string", isConst: t.isConst };
      case "array": {
        const e = stem.element;
        if (e.stem.kind === "projection") return this.objectArray(t, e, stem.size, place, scope, what, name);
        if (e.stem.kind !== "int" || e.pointers !== 0) {
          this.diags.error(e.pos, `array elements must be integers (u8..u64, s8..s64, char, bool, int...), projections ('projection NAME') or projection pointers ('projection NAME *')`);
          return null;
        }
        if (e.attributes.length > 0) this.diags.error(e.attributes[0].pos, "attributes go on the array, not on its element type");
        const element = intType(e.stem.name);
        const size = this.sizeSpec(stem.size, element.bytes, what);
        if (!size) return null;
        if (t.pointers > 1) return tooDeep();
        if (place === "return") {
          this.diags.error(t.pos, "an rpc cannot return an array (return a projection pointer that holds it)");
          return null;
        }
        const inline = t.pointers === 0;
        if (inline) {
          if (place === "argument" || place === "any_of member") {
            this.diags.error(t.pos, `${what}: arrays are passed by pointer; write 'array<...> *${place === "argument" ? name : ""}'`);
            return null;
          }
          if (size.kind !== "const") {
            this.diags.error(t.pos, `${what}: an array stored inline needs a constant size; store a pointer ('array<...> *') for a size that varies`);
            return null;
          }
        }
        if (place === "member" && size.kind === "expr") {
          this.diags.error(t.pos, `${what}: an array in a union member needs a constant size or null`);
          return null;
        }
        return { kind: "array", element, size, inline, isConst: t.isConst };
      }
      case "projection": {
        const projection = this.lookupProjection(stem.name.text, scope);
        if (!projection) {
          this.diags.error(stem.name.pos, `unknown projection '${stem.name.text}'`);
          return null;
        }
        if (t.pointers === 2 && place === "argument") {
          if (projection.cType.kind === "union") {
            this.diags.error(t.pos, `${what}: a pointer to a union pointer is not supported (its discriminator could change with the object the callee stores); wrap the union in a struct projection`);
            return null;
          }
          return { kind: "ref-pointer", projection, isConst: t.isConst };
        }
        if (t.pointers > 1) {
          this.diags.error(t.pos, `${what}: 'projection ${stem.name.text} **' is supported for arguments only (an object handed back through an out-parameter); a field holds 'projection ${stem.name.text} *' or 'array<projection ${stem.name.text} *, N> *'`);
          return null;
        }
        if (t.pointers === 1) return { kind: "ref", projection, isConst: t.isConst };
        if (place === "field" || place === "member") return { kind: "embed", projection };
        this.diags.error(t.pos, place === "argument"
          ? `${what}: projections are passed by pointer; write 'projection ${stem.name.text} *${name}'`
          : `${what}: a projection is returned by pointer ('projection ${stem.name.text} *')`);
        return null;
      }
      case "rpc_ptr": {
        const rpcPtr = this.rpcPtrByName.get(stem.name.text);
        if (!rpcPtr) {
          this.diags.error(stem.name.pos, `unknown rpc_ptr '${stem.name.text}'`);
          return null;
        }
        if (t.pointers > 0) {
          this.diags.error(t.pos, `${what}: an rpc_ptr is already a function pointer; write 'rpc_ptr ${stem.name.text} ${name}' without '*'`);
          return null;
        }
        if (place === "return" || place === "any_of member") {
          this.diags.error(t.pos, `${what} cannot be an rpc_ptr`);
          return null;
        }
        return { kind: "fn", rpcPtr };
      }
      case "any_of": {
        if (t.pointers > 0) {
          this.diags.error(t.pos, `${what}: any_of<...> already stands for a 'void *'; write it without '*'`);
          return null;
        }
        if (place === "return" || place === "member" || place === "any_of member") {
          this.diags.error(t.pos, `${what} cannot be an any_of`);
          return null;
        }
        const members: ValueType[] = [];
        for (const m of stem.members) {
          const mt = this.valueType(m, "any_of member", scope, name);
          if (mt) members.push(mt);
        }
        if (members.length !== stem.members.length) return null;
        if (members.length > 0xffff) this.diags.error(t.pos, "too many any_of members");
        return { kind: "any_of", discriminator: stem.discriminator, members };
      }
    }
    // Only an integer reaches here (the other stems return above).
    this.diags.error(t.pos, `any_of member ${(stem as { name?: string }).name ?? "?"}: a member is a pointer (a projection pointer, a string or an array pointer)`);
    return null;
  }

  /** `array<projection p, N>` and `array<projection p *, N>`, inline or through a pointer. */
  private objectArray(t: TypeSyntax, e: TypeSyntax, sizeSyntax: Expr | { kind: "null"; pos: Pos }, place: Place, scope: Scope, what: string, name: string): ValueType | null {
    if (e.stem.kind !== "projection") return null;
    if (e.attributes.length > 0) this.diags.error(e.attributes[0].pos, "attributes go on the array, not on its element type");
    const projection = this.lookupProjection(e.stem.name.text, scope);
    if (!projection) {
      this.diags.error(e.stem.name.pos, `unknown projection '${e.stem.name.text}'`);
      return null;
    }
    if (e.pointers > 1) {
      this.diags.error(e.pos, "array elements can be projections or projection pointers, not pointers to pointers");
      return null;
    }
    if (projection.cType.kind === "union") {
      this.diags.error(e.pos, `an array of union projection '${projection.name}': each element would need a discriminator of its own; make the element a struct projection that holds the union and its discriminator`);
      return null;
    }
    const element = e.pointers === 1 ? { kind: "ref" as const, projection, isConst: e.isConst } : { kind: "embed" as const, projection };
    let size: SizeSpec;
    if (sizeSyntax.kind === "null") {
      if (element.kind === "embed") {
        this.diags.error(sizeSyntax.pos, `${what}: array<projection ${projection.name}, null> has no terminator (a struct is not zero or NULL); give a size, or make the elements pointers: array<projection ${projection.name} *, null>`);
        return null;
      }
      size = { kind: "null" };
    } else {
      const zeroDivisor = findZeroDivisor(sizeSyntax);
      if (zeroDivisor) {
        this.diags.error(zeroDivisor.pos, `${what}: division by zero in the array size`);
        return null;
      }
      const c = constValue(sizeSyntax);
      if (c !== null && (c < 1n || c > BigInt(MAX_OBJECT_ELEMENTS))) {
        this.diags.error(sizeSyntax.pos, `${what}: array size ${c}; an array of projections has 1 to ${MAX_OBJECT_ELEMENTS} elements`);
        return null;
      }
      size = c !== null ? { kind: "const", count: Number(c) } : { kind: "expr", expr: sizeSyntax };
    }
    if (t.pointers > 1) {
      this.diags.error(t.pos, `${what}: pointers to pointers are supported only as 'projection NAME **' arguments (an array argument is already 'array<...> *')`);
      return null;
    }
    if (place === "return" || place === "any_of member") {
      this.diags.error(t.pos, `${what} cannot be an array of projections${place === "return" ? " (return a projection pointer that holds it)" : ""}`);
      return null;
    }
    const inline = t.pointers === 0;
    if (inline && place === "argument") {
      this.diags.error(t.pos, `${what}: arrays are passed by pointer; write 'array<...> *${name}'`);
      return null;
    }
    if (inline && size.kind !== "const") {
      this.diags.error(t.pos, `${what}: an array stored inline needs a constant size; store a pointer ('array<...> *') for a size that varies`);
      return null;
    }
    if (place === "member" && !inline) {
      this.diags.error(t.pos, `${what}: a union member can hold an array of projections inline only (a constant size, no '*')`);
      return null;
    }
    return { kind: "object-array", element, size, inline, isConst: t.isConst };
  }

  private sizeSpec(size: Expr | { kind: "null"; pos: Pos }, elementBytes: number, what: string): SizeSpec | null {
    if (size.kind === "null") return { kind: "null" };
    const zeroDivisor = findZeroDivisor(size);
    if (zeroDivisor) {
      this.diags.error(zeroDivisor.pos, `${what}: division by zero in the array size`);
      return null;
    }
    const c = constValue(size);
    if (c !== null) {
      if (c < 1n) {
        const shown = size.kind === "number" ? `${c}` : `${exprText(size)} = ${c}`;
        this.diags.error(size.pos, `${what}: array size ${shown}; a constant size must be at least 1`);
        return null;
      }
      if (c * BigInt(elementBytes) > BigInt(MAX_INLINE_BYTES)) {
        this.diags.error(size.pos, `${what}: ${c} elements of ${elementBytes} bytes do not fit in one message (at most ${MAX_INLINE_BYTES} bytes)`);
        return null;
      }
      return { kind: "const", count: Number(c) };
    }
    return { kind: "expr", expr: size };
  }

  // ---------------------------------------------------------------- sizes and discriminators

  /**
   * Each name in an array size or a discriminator must be an integer sibling the receiver
   * already holds when it reads the value: declared before it and crossing in each
   * direction it crosses, or, on the reply, sent with the call.
   */
  private checkSizes(values: Value[], place: Place, owner: string): void {
    values.forEach((v, k) => {
      const uses: { expr: Expr; role: string; at?: Pos }[] = [];
      const t = v.type;
      if ((t.kind === "array" || t.kind === "object-array") && t.size.kind === "expr") uses.push({ expr: t.size.expr, role: `the size of '${v.name}'` });
      if (t.kind === "any_of") {
        uses.push({ expr: t.discriminator, role: `the discriminator of '${v.name}'` });
        for (const m of t.members) if (m.kind === "array" && m.size.kind === "expr") uses.push({ expr: m.size.expr, role: `the size of '${v.name}'` });
      }
      // A union's discriminator is declared with the union but resolved where it is used:
      // report its problems at the use.
      if (v.discriminator) uses.push({ expr: v.discriminator, role: `the discriminator of union '${v.name}'`, at: v.pos });
      for (const { expr, role, at } of uses) {
        for (const n of exprNames(expr)) {
          const name = n as Extract<Expr, { kind: "name" }>;
          this.checkSizeName(at ? { ...name, pos: at } : name, values, k, v, place, owner, role);
        }
      }
    });
  }

  private checkSizeName(n: Extract<Expr, { kind: "name" }>, values: Value[], k: number, v: Value, place: Place, owner: string, role: string): void {
    const siblings = place === "argument" ? "arguments of the same rpc" : "fields of the same projection";
    const j = values.findIndex((s) => s.name === n.name);
    if (j < 0) {
      this.diags.error(n.pos, `unknown name '${n.name}' in ${role} (a size or discriminator uses ${siblings}, in ${owner})`);
      return;
    }
    const s = values[j];
    if (s.type.kind !== "int") {
      this.diags.error(n.pos, `'${n.name}' in ${role} is not an integer`);
      return;
    }
    if (j >= k) {
      this.diags.error(n.pos, `'${n.name}' is sent after '${v.name}', but the receiver needs ${role} first: declare '${n.name}' before '${v.name}'`);
      return;
    }
    if (s.unused) {
      this.diags.error(n.pos, `'${n.name}' in ${role} is [unused]: the receiver never gets it`);
      return;
    }
    if (v.dirs.call && !s.dirs.call) this.diags.error(n.pos, `'${n.name}' does not cross on the call, but '${v.name}' does: ${role} must reach the callee with it`);
    if (v.dirs.reply && !s.dirs.reply && !s.dirs.call) this.diags.error(n.pos, `'${n.name}' crosses neither on the call nor on the reply, so the caller cannot check ${role}`);
  }

  // ---------------------------------------------------------------- C types

  /** One layout per C struct: the fields of all its projections, in order of first appearance. */
  private mergeFields(t: CType): void {
    const byName = new Map<string, { field: CField; projection: Projection }>();
    for (const p of t.projections) {
      for (const f of p.fields) {
        const earlier = byName.get(f.name);
        if (!earlier) {
          const field: CField = { name: f.name, type: f.type, pos: f.pos };
          byName.set(f.name, { field, projection: p });
          t.fields.push(field);
        } else if (!sameCType(earlier.field.type, f.type)) {
          this.diags.error(f.pos, `field '${f.name}' of ${t.kind} ${t.tag} is ${describeType(f.type)} here but ${describeType(earlier.field.type)} in projection '${earlier.projection.name}' (line ${earlier.field.pos.line}); one C ${t.kind} has one type per field`);
        }
      }
    }
  }

  private rejectByValueCycles(types: CType[]): void {
    const state = new Map<CType, "visiting" | "done">();
    const visit = (t: CType, path: CType[]): void => {
      if (state.get(t) === "done") return;
      if (state.get(t) === "visiting") {
        const cycle = [...path.slice(path.indexOf(t)), t].map((c) => `${c.kind} ${c.tag}`).join(" -> ");
        const at = t.projections[0]?.pos ?? this.syntax.pos;
        this.diags.error(at, `${t.kind} ${t.tag} contains itself by value (${cycle}); use a pointer ('projection NAME *') for a recursive link`);
        return;
      }
      state.set(t, "visiting");
      for (const f of t.fields) {
        if (f.type.kind === "embed") visit(f.type.projection.cType, [...path, t]);
        if (f.type.kind === "object-array" && f.type.inline && f.type.element.kind === "embed") visit(f.type.element.projection.cType, [...path, t]);
      }
      state.set(t, "done");
    };
    for (const t of types) visit(t, []);
  }
}

function findZeroDivisor(e: Expr): Expr | null {
  if (e.kind !== "binary") return null;
  if (e.op === "/" && constValue(e.right) === 0n) return e;
  return findZeroDivisor(e.left) ?? findZeroDivisor(e.right);
}

/** Whether two field types are the same C type (same layout and meaning). */
function sameCType(a: ValueType, b: ValueType): boolean {
  switch (a.kind) {
    case "int":
    case "int-pointer":
      return b.kind === a.kind && a.int.bytes === b.int.bytes && a.int.signed === b.int.signed && a.int.isBool === b.int.isBool;
    case "string":
      return b.kind === "string";
    case "array":
      return b.kind === "array" && a.element.bytes === b.element.bytes && a.element.signed === b.element.signed && a.inline === b.inline &&
        (!a.inline || (a.size.kind === "const" && b.size.kind === "const" && a.size.count === b.size.count));
    case "ref":
    case "embed":
    case "ref-pointer":
      return b.kind === a.kind && a.projection.cType === b.projection.cType;
    case "object-array":
      return b.kind === "object-array" && a.inline === b.inline && a.element.kind === b.element.kind &&
        a.element.projection.cType === b.element.projection.cType &&
        (!a.inline || (a.size.kind === "const" && b.size.kind === "const" && a.size.count === b.size.count));
    case "fn":
      return b.kind === "fn" && a.rpcPtr === b.rpcPtr;
    case "any_of":
      return b.kind === "any_of";
  }
}

export function describeType(t: ValueType): string {
  switch (t.kind) {
    case "int":
      return t.int.name;
    case "int-pointer":
      return `${t.int.name} *`;
    case "string":
      return "string";
    case "array": {
      const size = t.size.kind === "const" ? String(t.size.count) : t.size.kind === "null" ? "null" : exprText(t.size.expr);
      return `array<${t.element.name}, ${size}>${t.inline ? "" : " *"}`;
    }
    case "ref":
      return `${t.projection.cType.kind} ${t.projection.cType.tag} *`;
    case "ref-pointer":
      return `${t.projection.cType.kind} ${t.projection.cType.tag} **`;
    case "object-array": {
      const size = t.size.kind === "const" ? String(t.size.count) : t.size.kind === "null" ? "null" : exprText(t.size.expr);
      return `array<projection ${t.element.projection.name}${t.element.kind === "ref" ? " *" : ""}, ${size}>${t.inline ? "" : " *"}`;
    }
    case "embed":
      return `${t.projection.cType.kind} ${t.projection.cType.tag}`;
    case "fn":
      return `rpc_ptr ${t.rpcPtr.name}`;
    case "any_of":
      return "any_of<...>";
  }
}
