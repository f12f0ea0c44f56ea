// The generated C source, <module>_glue.c: the domain side of the boundary.
//  - A caller stub for each rpc, with the rpc's own C prototype, so driver code calls the
//    kernel exactly as it did before it was isolated: it marshals the arguments into a
//    message, calls the kernel, and unmarshals the reply.
//  - lvd_dispatch, which serves the kernel's calls of rpc_ptrs: it checks the function
//    address (the hidden argument) is one the domain registered as that rpc_ptr,
//    unmarshals the arguments, calls the driver's function and marshals the reply.
//  - A marshal/unmarshal function per projection and selection (plan.ts), reading and
//    writing the driver's struct fields by name.
// Everything goes through the helpers of drivers/include/lvd/glue.h.

import type { CType, CheckedModule, EmbedType, Projection, RefType, Rpc, SizeSpec, Value, ValueType } from "./types.ts";
import { CodeWriter, wrapList } from "./code-writer.ts";
import {
  RESERVED, argumentNames, cDecl, cPrototype, cTypeName, fnTypedef, marshalerName, returnType, rpcConst, typeConst,
} from "./c-names.ts";
import { exprC } from "./expressions.ts";
import { describeType } from "./checker.ts";
import {
  elementMinWords, freshName, hasMarshaler, hasReplyData, marshalersFor, ownsData, selectedFields, subSelection,
  type Marshaler, type Selection,
} from "./plan.ts";

type ObjectArray = Extract<ValueType, { kind: "object-array" }>;

/** How code reaches values: `obj->` for fields, plain names for arguments. */
interface Access {
  /** The C lvalue of a sibling value (fields or arguments) by name. */
  readonly name: (n: string) => string;
  /** C expression: 1 when the message goes to the callee, 0 to the caller. */
  readonly toCallee: string;
}

export function emitC(m: CheckedModule, headerName: string, fileName: string): string {
  return new CEmitter(m, headerName, fileName).emit();
}

class CEmitter {
  private readonly w = new CodeWriter("\t");
  private readonly marshalers: Marshaler[];

  /** C types whose copies own what the glue stores in them: the fields it receives that hold its memory. */
  private readonly released = new Map<CType, Value[]>();
  /** Element types of arrays of projections the glue allocates (free_array_<tag>). */
  private readonly arraysFreed = new Set<CType>();
  /** Types whose release_<tag> something calls. */
  private readonly releaseEmitted = new Set<CType>();
  /** Types of objects a dealloc drops (drop_<tag>). */
  private readonly dropped = new Set<CType>();

  constructor(private readonly m: CheckedModule, private readonly headerName: string, private readonly fileName: string) {
    this.marshalers = marshalersFor(m, "domain");
    this.planMemory();
  }

  // ---------------------------------------------------------------- memory the glue owns

  /** Which types need release_, free_array_ and drop_ functions (glue.h, "memory the glue owns"). */
  private planMemory(): void {
    const owned = (t: ValueType): boolean =>
      t.kind === "string" || (t.kind === "array" && !t.inline) || (t.kind === "object-array" && (!t.inline || t.element.kind === "embed")) || t.kind === "embed";
    for (const x of this.marshalers) {
      if (x.op !== "get" || x.projection.cType.kind === "union") continue;
      const t = x.projection.cType;
      for (const f of selectedFields(x.projection, x.sel)) {
        if (!owned(f.type)) continue;
        if (!this.released.has(t)) this.released.set(t, []);
        const list = this.released.get(t)!;
        if (!list.some((g) => g.name === f.name)) list.push(f);
      }
    }
    // An embedded type whose fields own nothing needs no release: drop those fields.
    let changed = true;
    while (changed) {
      changed = false;
      for (const [t, fields] of this.released) {
        const kept = fields.filter((f) => {
          const ft = f.type;
          if (ft.kind === "embed") return this.released.has(ft.projection.cType);
          if (ft.kind === "object-array" && ft.inline) return this.released.has(ft.element.projection.cType);
          return true;
        });
        if (kept.length !== fields.length) changed = true;
        if (kept.length === 0) this.released.delete(t);
        else this.released.set(t, kept);
      }
    }
    const visitValue = (v: Value, dropSide: "caller" | "callee" | null) => {
      const t = v.type;
      if (t.kind === "object-array" && !t.inline && t.element.kind === "embed" && this.released.has(t.element.projection.cType)) {
        this.arraysFreed.add(t.element.projection.cType);
      }
      if (dropSide && v.dealloc[dropSide]) {
        if (t.kind === "ref") this.dropped.add(t.projection.cType);
        if (t.kind === "object-array" && t.element.kind === "ref") this.dropped.add(t.element.projection.cType);
        if (t.kind === "any_of") for (const mt of t.members) if (mt.kind === "ref") this.dropped.add(mt.projection.cType);
      }
    };
    // The domain drops what it receives as the caller of rpcs and the callee of rpc_ptrs.
    for (const r of this.m.rpcs) for (const v of [...r.args, ...(r.returns ? [r.returns] : [])]) visitValue(v, "caller");
    for (const r of this.m.rpcPtrs) for (const v of [...r.args, ...(r.returns ? [r.returns] : [])]) visitValue(v, "callee");
    for (const p of this.m.projections) for (const f of p.fields) visitValue(f, null);
    for (const t of this.dropped) if (!this.released.has(t)) this.dropped.delete(t);
    // release_<tag> is emitted only where something calls it.
    const needed = new Set<CType>([...this.dropped, ...this.arraysFreed]);
    for (const t of needed) {
      for (const f of this.released.get(t) ?? []) {
        if (f.type.kind === "embed") needed.add(f.type.projection.cType);
        if (f.type.kind === "object-array" && f.type.element.kind === "embed") needed.add(f.type.element.projection.cType);
      }
    }
    for (const t of needed) if (this.released.has(t)) this.releaseEmitted.add(t);
  }

  /** Frees an array of projections the glue allocated (its elements by value release what they own first). */
  private freeArray(t: ObjectArray, lv: string): string {
    const e = t.element.projection.cType;
    return t.element.kind === "embed" && this.arraysFreed.has(e) ? `${freeArrayName(e)}(${lv});` : `lvd_free_objects(${lv});`;
  }

  private releaseFunction(t: CType, fields: Value[]): void {
    const { w } = this;
    w.line(`/* ${cTypeName(t)}: frees what the glue stored in a copy of it (before the copy itself is freed). */`);
    w.line(`static void ${releaseName(t)}(${cTypeName(t)} *obj)`);
    w.line("{");
    w.indented(() => {
      if (fields.some((f) => f.type.kind === "object-array" && f.type.inline)) w.line("u64 lvd_k;\n");
      for (const f of fields) {
        const ft = f.type;
        const lv = `obj->${f.name}`;
        if (ft.kind === "string" || ft.kind === "array") w.line(`lvd_replace(&${lv}, NULL, 1);`);
        else if (ft.kind === "embed") w.line(`${releaseName(ft.projection.cType)}(&${lv});`);
        else if (ft.kind === "object-array" && ft.inline) {
          w.line(`for (lvd_k = 0; lvd_k < ${ft.size.kind === "const" ? ft.size.count : 0}; lvd_k++)`);
          w.indented(() => w.line(`${releaseName(ft.element.projection.cType)}(${ft.isConst ? `(${cTypeName(ft.element.projection.cType)} *)` : ""}&${lv}[lvd_k]);`));
        } else if (ft.kind === "object-array") {
          w.line(this.freeArray(ft, lv));
          w.line(`${lv} = NULL;`);
        }
      }
    });
    w.line("}");
    w.line();
  }

  /** free_array_<tag>: frees an array of elements by value the glue allocated, releasing each element first. */
  private freeArrayFunction(t: CType): void {
    const { w } = this;
    const ct = cTypeName(t);
    w.line(`/* Frees an array of ${ct} the glue allocated, with what its elements own. */`);
    w.line(`static void ${freeArrayName(t)}(const ${ct} *arr)`);
    w.line("{");
    w.indented(() => {
      w.line("u64 lvd_k, lvd_n = lvd_objects_count(arr);");
      w.line("");
      w.line("for (lvd_k = 0; lvd_k < lvd_n; lvd_k++)");
      w.indented(() => w.line(`${releaseName(t)}((${ct} *)&arr[lvd_k]);`));
      w.line("lvd_free_objects(arr);");
    });
    w.line("}");
    w.line();
  }

  /** dealloc of one object: drop_<tag> when its copies own memory, else lvd_drop. */
  private drop(t: CType, obj: string): string {
    return this.dropped.has(t) ? `${dropName(t)}(${obj});` : `lvd_drop(${obj}, ${typeConst(t)});`;
  }

  private dropFunction(t: CType): void {
    const { w } = this;
    w.line(`/* dealloc of ${cTypeName(t)}: forget its name; free a glue copy${this.released.has(t) ? " with what it owns" : ""}. */`);
    w.line(`static void ${dropName(t)}(const ${cTypeName(t)} *obj)`);
    w.line("{");
    w.indented(() => w.block(`if (lvd_forget(obj, ${typeConst(t)})) {`, () => {
      w.line(`${releaseName(t)}((${cTypeName(t)} *)obj);`);
      w.line("lvd_glue_free((void *)obj);");
    }));
    w.line("}");
    w.line();
  }

  emit(): string {
    const { w, m } = this;
    w.comment(
      `${this.fileName}: the domain side of module '${m.name}', generated by the LVD IDL\n` +
      `compiler from ${m.fileName}. Do not edit: change the IDL and regenerate.\n` +
      `\n` +
      wrapList("rpcs (the kernel implements them): ", m.rpcs.map((r) => r.name)) +
      wrapList("rpc_ptrs (the kernel calls the driver's functions): ", m.rpcPtrs.map((r) => r.name)) +
      `The wire format is in docs/glue-abi.md; the helpers in <lvd/glue.h>.`,
    );
    w.line(`#include "${this.headerName}"`);
    w.line();
    if (this.marshalers.length > 0) {
      w.line("/* Marshaling of projections: one function per projection and direction. */");
      for (const x of this.marshalers) w.line(`${this.marshalerSignature(x)};`);
      for (const t of this.releaseEmitted) w.line(`static void ${releaseName(t)}(${cTypeName(t)} *obj);`);
      for (const t of this.arraysFreed) w.line(`static void ${freeArrayName(t)}(const ${cTypeName(t)} *arr);`);
      w.line();
      for (const x of this.marshalers) this.marshaler(x);
    }
    for (const t of this.releaseEmitted) this.releaseFunction(t, this.released.get(t)!);
    for (const t of this.arraysFreed) this.freeArrayFunction(t);
    for (const t of this.dropped) this.dropFunction(t);
    for (const r of m.rpcs) this.callerStub(r);
    for (const r of m.rpcPtrs) this.calleeStub(r);
    this.dispatcher();
    return w.text();
  }

  // ---------------------------------------------------------------- projections

  private marshalerSignature(x: Marshaler): string {
    const p = x.projection;
    const which = p.cType.kind === "union" ? ", u64 which" : "";
    // own (unmarshalers): the object is the glue's copy, so what the glue stores in it is its own.
    const own = x.op === "get" ? ", int own" : "";
    return `static void ${marshalerName(x.op, p, x.sel)}(struct lvd_cursor *c, ${cTypeName(p.cType)} *obj${which}, int to_callee${own})`;
  }

  private marshaler(x: Marshaler): void {
    const { w } = this;
    const p = x.projection;
    const fields = selectedFields(p, x.sel);
    const scope = p.scope ? ` (in ${p.scope})` : "";
    const what = p.cType.kind === "union"
      ? `the member 'which' selects`
      : x.sel === "in" ? "the [in] fields (an argument's on the call; a new object's on the reply)" : "the [out] fields, on the reply";
    w.line(`/* projection <${cTypeName(p.cType)}> ${p.name}${scope}: ${x.op === "put" ? "writes" : "reads"} ${what}. */`);
    w.line(this.marshalerSignature(x));
    w.line("{");
    w.indented(() => {
      const access: Access = { name: (n) => `obj->${n}`, toCallee: "to_callee" };
      if (p.cType.kind === "union") {
        this.unionBody(x, fields, access);
      } else {
        for (const f of fields) {
          if (x.op === "put") this.putField(f, `obj->${f.name}`, access, x.sel);
          else this.getField(f, `obj->${f.name}`, access, x.sel, "own");
        }
      }
    });
    w.line("}");
    w.line();
  }

  private unionBody(x: Marshaler, members: Value[], access: Access): void {
    const { w } = this;
    if (x.op === "put") w.line("lvd_put(c, which);");
    else {
      w.block("if (lvd_get(c) != which) {", () => {
        w.line("if (!c->error)");
        w.indented(() => w.line("c->error = LVD_ERR_VALUE;"));
        w.line("return;");
      });
    }
    w.block("switch (which) {", () => {
      members.forEach((f, k) => {
        w.line(`case ${k}: /* ${describeType(f.type)} ${f.name} */`);
        w.indented(() => {
          // A member travels whole, whichever way its union crosses; what it holds is not
          // owned (which member a union holds can change behind the glue's back).
          if (x.op === "put") this.putField(f, `obj->${f.name}`, access, "in");
          else this.getField(f, `obj->${f.name}`, access, "in", "0");
          w.line("break;");
        });
      });
      w.line("default:");
      w.indented(() => w.line("c->error = LVD_ERR_VALUE;"));
    });
  }

  /** Writes one field (or union member) crossing in `sel`. */
  private putField(f: Value, lv: string, a: Access, sel: Selection): void {
    const { w } = this;
    const t = f.type;
    switch (t.kind) {
      case "int":
        return w.line(`lvd_put(c, (u64)${lv});`);
      case "string":
        return w.line(`lvd_put_string(c, ${lv});`);
      case "array":
        return w.line(`lvd_put_array(c, ${lv}, ${this.count(t, lv, a)}, ${t.element.bytes});`);
      case "ref":
      case "embed":
      case "any_of":
        return this.putObject(f, t, lv, a, subSelection(f, sel));
      case "object-array":
        return this.putObjectArray(f, t, lv, a, subSelection(f, sel));
      case "fn":
        return w.line(`lvd_put(c, lvd_fn_word((void *)${lv}, ${rpcConst(t.rpcPtr)}));`);
      case "int-pointer":
      case "ref-pointer":
        throw new Error("unreachable: arguments only");
    }
  }

  /**
   * Reads one field (or union member) crossing in `sel` into `lv`. `own`: C expression,
   * nonzero when the object is the glue's copy, whose old strings and arrays the glue frees.
   */
  private getField(f: Value, lv: string, a: Access, sel: Selection, own: string): void {
    const { w } = this;
    const t = f.type;
    switch (t.kind) {
      case "int":
        return w.line(`${lv} = (${t.int.c})lvd_get(c);`);
      case "string":
        return w.line(own === "0" ? `${lv} = lvd_get_string(c);` : `lvd_replace(&${lv}, lvd_get_string(c), ${own});`);
      case "array":
        if (t.inline) return w.line(`lvd_get_array_into(c, ${lv}, ${this.count(t, lv, a)}, ${t.element.bytes});`);
        w.block("{", () => {
          w.line("u64 n;");
          w.line("");
          const get = this.getArrayCall(t, a, true, "&n");
          w.line(own === "0" ? `${lv} = ${get};` : `lvd_replace(&${lv}, ${get}, ${own});`);
        });
        return;
      case "ref":
      case "embed":
      case "any_of":
        return this.getObject(f, t, lv, a, subSelection(f, sel), own);
      case "object-array":
        return this.getObjectArray(f, t, lv, a, subSelection(f, sel), own, null);
      case "fn":
        w.block("{", () => {
          w.line("u64 address = lvd_get(c);");
          w.line("");
          w.line(`if (!lvd_fn_known(address, ${rpcConst(t.rpcPtr)}))`);
          w.indented(() => w.line("c->error = LVD_ERR_FUNCTION;"));
          w.line("else");
          w.indented(() => w.line(`${lv} = (${fnTypedef(t.rpcPtr)})(unsigned long)address;`));
        });
        return;
      case "int-pointer":
      case "ref-pointer":
        throw new Error("unreachable: arguments only");
    }
  }

  /** A projection pointer, an embedded projection or an any_of: writes it (the name word first for pointers). */
  private putObject(v: Value, t: ValueType, lv: string, a: Access, sel: Selection): void {
    const { w } = this;
    if (t.kind === "ref") {
      const p = t.projection;
      w.line(`lvd_put(c, lvd_name_of(${lv}, ${typeConst(p.cType)}, ${this.allocFlag(v, a)}));`);
      if (hasMarshaler(this.marshalers, "put", p, sel)) {
        const obj = t.isConst ? `(${cTypeName(p.cType)} *)${lv}` : lv;
        w.line(`if (${lv})`);
        w.indented(() => w.line(`${marshalerName("put", p, sel)}(c, ${obj}${this.which(v, a)}, ${a.toCallee});`));
      }
    } else if (t.kind === "embed") {
      if (hasMarshaler(this.marshalers, "put", t.projection, sel)) w.line(`${marshalerName("put", t.projection, sel)}(c, &${lv}${this.which(v, a)}, ${a.toCallee});`);
    } else if (t.kind === "any_of") {
      w.block("{", () => {
        w.line(`u64 which = ${exprC(t.discriminator, a.name)};`);
        w.line("");
        w.line("lvd_put(c, which);");
        w.block("switch (which) {", () => {
          t.members.forEach((mt, k) => {
            w.line(`case ${k}: /* ${describeType(mt)} */`);
            w.indented(() => {
              if (mt.kind === "string") w.line(`lvd_put_string(c, (const char *)${lv});`);
              else if (mt.kind === "array") w.line(`lvd_put_array(c, ${lv}, ${this.count(mt, `((${cDecl(mt, "")})${lv})`, a)}, ${mt.element.bytes});`);
              else this.putObject(v, mt, lv, a, sel);
              w.line("break;");
            });
          });
          w.line("default:");
          w.indented(() => w.line("c->error = LVD_ERR_VALUE;"));
        });
      });
    }
  }

  /**
   * Reads a projection pointer (a name, then the fields into the object it stands for),
   * an embedded projection, or an any_of, into `lv`.
   */
  private getObject(v: Value, t: ValueType, lv: string, a: Access, sel: Selection, own: string): void {
    const { w } = this;
    if (t.kind === "ref") {
      const p = t.projection;
      const ct = cTypeName(p.cType);
      const read = (name: string) => `lvd_object_of(c, ${name}, ${typeConst(p.cType)}, sizeof(${ct}), ${this.allocFlag(v, a)})`;
      if (!hasMarshaler(this.marshalers, "get", p, sel)) {
        w.line(`${lv} = ${read("lvd_get(c)")};`);
        return;
      }
      // The object's own strings and arrays are the glue's when it is the glue's copy.
      const owns = ownsData(p, sel);
      w.block("{", () => {
        if (owns) w.line("u64 lvd_name = lvd_get(c);");
        w.line(`${ct} *p = ${read(owns ? "lvd_name" : "lvd_get(c)")};`);
        w.line("");
        w.line("if (p)");
        w.indented(() => w.line(`${marshalerName("get", p, sel)}(c, p${this.which(v, a)}, ${a.toCallee}, ${owns ? "lvd_is_copy(lvd_name)" : "0"});`));
        w.line(`${lv} = p;`);
      });
    } else if (t.kind === "embed") {
      if (hasMarshaler(this.marshalers, "get", t.projection, sel)) w.line(`${marshalerName("get", t.projection, sel)}(c, &${lv}${this.which(v, a)}, ${a.toCallee}, ${own});`);
    } else if (t.kind === "any_of") {
      w.block("{", () => {
        w.line(`u64 which = ${exprC(t.discriminator, a.name)};`);
        w.line("");
        w.line("if (lvd_get(c) != which && !c->error)");
        w.indented(() => w.line("c->error = LVD_ERR_VALUE;"));
        w.block("switch (c->error ? LVD_NULL_COUNT : which) {", () => {
          t.members.forEach((mt, k) => {
            w.line(`case ${k}: /* ${describeType(mt)} */`);
            w.indented(() => {
              if (mt.kind === "string") w.line(`${lv} = lvd_get_string(c);`);
              else if (mt.kind === "array") {
                w.block("{", () => {
                  w.line("u64 n;");
                  w.line(`${lv} = ${this.getArrayCall(mt, a, true, "&n")};`);
                });
              } else this.getObject(v, mt, lv, a, sel, own);
              w.line("break;");
            });
          });
          w.line("default:");
          w.indented(() => {
            w.line("if (!c->error)");
            w.indented(() => w.line("c->error = LVD_ERR_VALUE;"));
          });
        });
      });
    }
  }

  // ---------------------------------------------------------------- arrays of projections

  /** The element count a sender sends for an array of projections (the pointer is not NULL). */
  private objectCount(t: ObjectArray, lv: string, a: Access): string {
    return sizeC(t.size, a, () => `lvd_count_pointers((const void *const *)${lv})`);
  }

  /** The count word, then each element: by value its fields, by reference its name and fields. */
  private putObjectArray(v: Value, t: ObjectArray, lv: string, a: Access, sel: Selection): void {
    const { w } = this;
    const e = t.element;
    const count = t.inline ? this.objectCount(t, lv, a) : `${lv} ? ${this.objectCount(t, lv, a)} : LVD_NULL_COUNT`;
    const loop = e.kind === "ref" || hasMarshaler(this.marshalers, "put", e.projection, sel);
    w.block("{", () => {
      w.line(`u64 ${loop ? "lvd_k, " : ""}lvd_n = ${count};`);
      w.line("");
      w.line("lvd_put(c, lvd_n);");
      const element = `${lv}[lvd_k]`;
      if (!loop) return;
      w.block(`for (lvd_k = 0; ${t.inline ? "" : "lvd_n != LVD_NULL_COUNT && "}lvd_k < lvd_n; lvd_k++) {`, () => {
        if (e.kind === "embed") {
          const obj = t.isConst ? `(${cTypeName(e.projection.cType)} *)&${element}` : `&${element}`;
          w.line(`${marshalerName("put", e.projection, sel)}(c, ${obj}, ${a.toCallee});`);
        } else {
          this.putObject(v, e, element, a, sel);
        }
      });
    });
  }

  /**
   * Reads an array of projections. Inline: into the array in place. Behind a pointer: into
   * a new array the glue allocates, stored in `lv` (a field: replacing the old one, freed
   * when `own`), its count in `countOut` (a callee's argument).
   */
  private getObjectArray(v: Value, t: ObjectArray, lv: string, a: Access, sel: Selection, own: string, countOut: string | null): void {
    const { w } = this;
    const e = t.element;
    const ct = cTypeName(e.projection.cType);
    const minWords = elementMinWords(e, sel);
    const check = t.size.kind !== "null";
    const expected = t.size.kind === "const" ? String(t.size.count) : t.size.kind === "expr" ? exprC(t.size.expr, a.name) : "0";
    const loop = e.kind === "ref" || hasMarshaler(this.marshalers, "get", e.projection, sel);
    w.block("{", () => {
      w.line(`u64 ${loop ? "lvd_k, " : ""}lvd_n = lvd_get_object_count(c, ${expected}, ${check ? 1 : 0}, ${t.inline ? 0 : 1}, ${minWords});`);
      if (t.inline) {
        w.line("");
        this.getElements(v, e, lv, "1", a, sel, t.isConst, own);
        if (!loop) w.line("(void)lvd_n;");
        return;
      }
      const elementType = e.kind === "ref" ? `${ct} *` : ct;
      w.line(`${elementType} *lvd_arr = lvd_n == LVD_NULL_COUNT ? NULL : lvd_alloc_objects(c, lvd_n, sizeof(${elementType}), ${t.size.kind === "null" ? 1 : 0});`);
      w.line("");
      // The elements of a new array are the glue's: what they hold goes when the array goes.
      this.getElements(v, e, "lvd_arr", "lvd_arr", a, sel, false, "1");
      if (countOut) w.line(`${countOut} = lvd_arr ? lvd_n : 0;`);
      if (own !== "0") {
        w.line(`if (${own})`);
        w.indented(() => w.line(this.freeArray(t, `${lv}`)));
      }
      w.line(`${lv} = (${cDecl(t, "")})lvd_arr;`);
    });
  }

  private getElements(v: Value, e: RefType | EmbedType, arr: string, guard: string, a: Access, sel: Selection, isConst: boolean, own: string): void {
    const { w } = this;
    const element = `${arr}[lvd_k]`;
    if (e.kind === "embed" && !hasMarshaler(this.marshalers, "get", e.projection, sel)) return;
    w.block(`for (lvd_k = 0; ${guard === "1" ? "" : `${guard} && `}lvd_k < lvd_n; lvd_k++) {`, () => {
      if (e.kind === "embed") {
        const obj = isConst ? `(${cTypeName(e.projection.cType)} *)&${element}` : `&${element}`;
        w.line(`${marshalerName("get", e.projection, sel)}(c, ${obj}, ${a.toCallee}, ${own});`);
      } else {
        this.getObject(v, e, element, a, sel, own);
      }
    });
  }

  /** An array of projections argument's reply: each element's [out] fields, in order (both sides know the count). */
  private objectArrayReply(t: ObjectArray, arr: string, count: string, op: "put" | "get"): void {
    const { w } = this;
    const e = t.element;
    const p = e.projection;
    if (!hasMarshaler(this.marshalers, op, p, "out")) return;
    const ct = cTypeName(p.cType);
    w.block(`if (${arr}) {`, () => {
      w.line(`u64 lvd_k, lvd_n = ${count};`);
      w.line("");
      w.line("for (lvd_k = 0; lvd_k < lvd_n; lvd_k++)");
      w.indented(() => {
        const element = `${arr}[lvd_k]`;
        const own = op === "get" && e.kind === "ref" && ownsData(p, "out") ? `, lvd_owns(${element}, ${typeConst(p.cType)})` : op === "get" ? ", 0" : "";
        if (e.kind === "embed") w.line(`${marshalerName(op, p, "out")}(c, (${ct} *)&${element}, 0${own});`);
        else {
          w.line(`if (${element})`);
          w.indented(() => w.line(`${marshalerName(op, p, "out")}(c, (${ct} *)${element}, 0${own});`));
        }
      });
    });
  }

  /** For a union: the extra `which` argument, the discriminator evaluated where the union is used. */
  private which(v: Value, a: Access): string {
    return v.discriminator ? `, ${exprC(v.discriminator, a.name)}` : "";
  }

  /**
   * 1 when the receiver of this message makes a new copy (alloc on its side), so an object
   * without a name must get one; folded to a constant where it does not depend on the message.
   */
  private allocFlag(v: Value, a: Access): string {
    const callee = v.calleeMode === "alloc", caller = v.callerMode === "alloc";
    if (callee === caller) return callee ? "1" : "0";
    if (a.toCallee === "1" || a.toCallee === "0") return (a.toCallee === "1") === callee ? "1" : "0";
    return callee ? a.toCallee : `!${a.toCallee}`;
  }

  /** The element count a sender sends for an array. */
  private count(t: Extract<ValueType, { kind: "array" }>, lv: string, a: Access): string {
    return sizeC(t.size, a, () => `lvd_count_terminated(${lv}, ${t.element.bytes})`);
  }

  /** lvd_get_array(...) for a received array of varying size, checked against what the receiver expects. */
  private getArrayCall(t: Extract<ValueType, { kind: "array" }>, a: Access, withData: boolean, countOut: string): string {
    const check = t.size.kind !== "null";
    const expected = t.size.kind === "const" ? String(t.size.count) : t.size.kind === "expr" ? exprC(t.size.expr, a.name) : "0";
    return `lvd_get_array(c, ${t.element.bytes}, ${expected}, ${check ? 1 : 0}, ${withData ? 1 : 0}, ${t.size.kind === "null" ? 1 : 0}, ${countOut})`;
  }

  // ---------------------------------------------------------------- rpcs: the domain calls the kernel

  private callerStub(r: Rpc): void {
    const { w } = this;
    const names = argumentNames(r);
    const access: Access = { name: (n) => names.get(n)!, toCallee: "1" };
    const replyAccess: Access = { name: (n) => names.get(n)!, toCallee: "0" };
    w.line(`/* rpc ${r.name}: the kernel implements it; this stub carries the call. */`);
    w.line(cPrototype(r, r.name, names));
    w.line("{");
    w.indented(() => {
      w.line("struct lvd_msg m;");
      w.line("struct lvd_cursor cursor, *c = &cursor;");
      if (r.returns) w.line(`${declare(returnType(r.returns), "ret")} = ${zero(r.returns.type)};`);
      w.line("");
      w.line("lvd_start(c, &m);");
      for (const v of r.args) if (!v.unused) this.putArgument(v, names.get(v.name)!, access);
      w.line(`if (lvd_call(c, LVD_KIND_RPC, ${rpcConst(r)}))`);
      w.indented(() => w.line(r.returns ? "return ret;" : "return;"));
      if (r.returns) this.getReturn(r.returns, "ret", replyAccess);
      for (const v of r.args) if (!v.unused) this.getArgumentReply(v, names.get(v.name)!, replyAccess);
      this.deallocs(r, names, "caller", replyAccess, (v, n) => (v.type.kind === "object-array" ? this.objectCount(v.type, n, access) : "0"));
      if (r.returns?.type.kind === "ref" && r.returns.dealloc.caller) w.line(this.drop(r.returns.type.projection.cType, "ret"));
      if (r.returns) w.line("return ret;");
    });
    w.line("}");
    w.line();
  }

  private putArgument(v: Value, n: string, a: Access): void {
    const { w } = this;
    const t = v.type;
    switch (t.kind) {
      case "int":
        return w.line(`lvd_put(c, (u64)${n});`);
      case "int-pointer":
        w.line(`lvd_put(c, ${n} != NULL);`);
        if (v.dirs.call) {
          w.line(`if (${n})`);
          w.indented(() => w.line(`lvd_put(c, (u64)*${n});`));
        }
        return;
      case "ref-pointer":
        w.line(`lvd_put(c, ${n} != NULL);`);
        if (v.dirs.call) w.block(`if (${n}) {`, () => this.putObject(v, refOf(t), `*${n}`, a, "in"));
        return;
      case "string":
        return w.line(`lvd_put_string(c, ${n});`);
      case "array":
        if (v.dirs.call) return w.line(`lvd_put_array(c, ${n}, ${this.count(t, n, a)}, ${t.element.bytes});`);
        return w.line(`lvd_put(c, ${n} ? ${this.count(t, n, a)} : LVD_NULL_COUNT); /* [out]: only the size goes */`);
      case "object-array":
        return this.putObjectArray(v, t, n, a, "in");
      case "fn":
        return w.line(`lvd_put(c, lvd_fn_word((void *)${n}, ${rpcConst(t.rpcPtr)}));`);
      case "ref":
      case "any_of":
        return this.putObject(v, t, n, a, "in");
      case "embed":
        throw new Error("unreachable: projections are passed by pointer");
    }
  }

  private getReturn(v: Value, ret: string, a: Access): void {
    const t = v.type;
    if (t.kind === "int") this.w.line(`${ret} = (${t.int.c})lvd_get(c);`);
    // A returned string is the caller's: it frees it with lvd_glue_free.
    else if (t.kind === "string") this.w.line(`${ret} = lvd_get_string(c);`);
    else if (t.kind === "ref") this.getObject(v, t, ret, a, "in", "0");
  }

  /** The reply's data for an argument: [out] integers and arrays, [out] fields of projections, objects handed back. */
  private getArgumentReply(v: Value, n: string, a: Access): void {
    const { w } = this;
    const t = v.type;
    if (t.kind === "int-pointer" && v.dirs.reply) {
      w.line(`if (${n})`);
      w.indented(() => w.line(`*${n} = (${t.int.c})lvd_get(c);`));
    } else if (t.kind === "array" && v.dirs.reply) {
      w.line(`if (${n})`);
      w.indented(() => w.line(`lvd_get_array_into(c, ${n}, ${this.count(t, n, a)}, ${t.element.bytes});`));
    } else if (t.kind === "ref" && hasReplyData(t.projection) && hasMarshaler(this.marshalers, "get", t.projection, "out")) {
      const p = t.projection;
      const own = ownsData(p, "out") ? `lvd_owns(${n}, ${typeConst(p.cType)})` : "0";
      w.line(`if (${n})`);
      w.indented(() => w.line(`${marshalerName("get", p, "out")}(c, ${t.isConst ? `(${cTypeName(p.cType)} *)` : ""}${n}${this.which(v, a)}, 0, ${own});`));
    } else if (t.kind === "object-array") {
      this.objectArrayReply(t, n, this.objectCount(t, n, a), "get");
    } else if (t.kind === "ref-pointer" && v.dirs.reply) {
      // The object the callee stored in *n, whole, as a returned object would come.
      w.block(`if (${n}) {`, () => this.getObject(v, refOf(t), `*${n}`, a, "in", "0"));
    }
  }

  // ---------------------------------------------------------------- rpc_ptrs: the kernel calls the domain

  private calleeStub(r: Rpc): void {
    const { w } = this;
    const names = argumentNames(r);
    const taken = new Set([...names.values(), ...RESERVED]);
    const access: Access = { name: (n) => names.get(n)!, toCallee: "1" };
    const replyAccess: Access = { name: (n) => names.get(n)!, toCallee: "0" };
    /** What the glue allocated for this call: freed when it is over (or refused). */
    const temporaries: string[] = [];
    const counts = new Map<string, string>();
    const values = new Map<string, string>();
    const args = r.args.map((v) => ({ v, n: names.get(v.name)! }));

    w.line(`/* rpc_ptr ${r.name}: the kernel calls a driver function through it; its address comes first. */`);
    w.line(`static int serve_${r.name}(struct lvd_cursor *c)`);
    w.line("{");
    w.indented(() => {
      w.line("u64 fn = lvd_get(c);");
      for (const { v, n } of args) {
        const t = v.type;
        if (t.kind === "int-pointer") {
          const value = freshName(`${n}_value`, taken);
          values.set(v.name, value);
          w.line(`${t.int.c} ${value} = 0;`);
          w.line(`${t.int.c} *${n} = NULL;`);
        } else if (t.kind === "ref-pointer") {
          // The callee stores the object it hands back in a slot of the stub's.
          const slot = freshName(`${n}_slot`, taken);
          values.set(v.name, slot);
          w.line(`${cDecl(refOf(t), slot)} = NULL;`);
          w.line(`${cDecl(t, n)} = NULL;`);
        } else if (t.kind === "array") {
          const count = freshName(`${n}_count`, taken);
          counts.set(v.name, count);
          w.line(`${t.element.c} *${n} = NULL;`);
          w.line(`u64 ${count} = 0;`);
          temporaries.push(`lvd_glue_free(${n});`);
        } else if (t.kind === "object-array") {
          const count = freshName(`${n}_count`, taken);
          counts.set(v.name, count);
          w.line(`${cDecl(t, n)} = NULL;`);
          w.line(`u64 ${count} = 0;`);
          temporaries.push(this.freeArray(t, n));
        } else if (t.kind === "string") {
          w.line(`char *${n} = NULL;`);
          temporaries.push(`lvd_glue_free(${n});`);
        } else {
          w.line(`${declare(cDecl(t, ""), n)} = ${zero(t)};`);
          if (t.kind === "any_of") {
            t.members.forEach((mt, k) => {
              if (mt.kind === "string" || mt.kind === "array") temporaries.push(`if (${exprC(t.discriminator, access.name)} == ${k})\n\tlvd_glue_free(${n});`);
            });
          }
        }
      }
      if (r.returns) w.line(`${declare(returnType(r.returns), "ret")};`);
      w.line("");
      w.line(`if (!fn || !lvd_fn_known(fn, ${rpcConst(r)}))`);
      w.indented(() => w.line("return lvd_refuse(c, LVD_ERR_FUNCTION);"));
      for (const { v, n } of args) {
        if (v.unused) continue;
        const t = v.type;
        if (t.kind === "int") w.line(`${n} = (${t.int.c})lvd_get(c);`);
        else if (t.kind === "int-pointer") {
          w.block("if (lvd_get(c)) {", () => {
            w.line(`${n} = &${values.get(v.name)};`);
            if (v.dirs.call) w.line(`${values.get(v.name)} = (${t.int.c})lvd_get(c);`);
          });
        } else if (t.kind === "ref-pointer") {
          const slot = values.get(v.name)!;
          w.block("if (lvd_get(c)) {", () => {
            w.line(`${n} = &${slot};`);
            if (v.dirs.call) this.getObject(v, refOf(t), slot, access, "in", "0");
          });
        } else if (t.kind === "string") w.line(`${n} = lvd_get_string(c);`);
        else if (t.kind === "array") w.line(`${n} = ${this.getArrayCall(t, access, v.dirs.call, `&${counts.get(v.name)}`)};`);
        else if (t.kind === "object-array") this.getObjectArray(v, t, n, access, "in", "0", counts.get(v.name)!);
        else if (t.kind === "fn") this.getField(v, n, access, "in", "0");
        else this.getObject(v, t, n, access, "in", "0");
      }
      const freeTemporaries = () => {
        for (const t of temporaries) for (const l of t.split("\n")) w.line(l);
      };
      if (temporaries.length === 0) {
        w.line("if (c->error)");
        w.indented(() => w.line("return lvd_refuse(c, c->error);"));
      } else {
        w.block("if (c->error) {", () => {
          w.line("u32 error = c->error;");
          w.line("");
          freeTemporaries();
          w.line("return lvd_refuse(c, error);");
        });
      }
      const call = `((${fnTypedef(r)})(unsigned long)fn)(${args.map((a) => a.n).join(", ")})`;
      w.line(r.returns ? `ret = ${call};` : `${call};`);
      w.line("lvd_start_reply(c);");
      if (r.returns) {
        const t = r.returns.type;
        if (t.kind === "int") w.line("lvd_put(c, (u64)ret);");
        else if (t.kind === "string") w.line("lvd_put_string(c, ret);");
        else if (t.kind === "ref") this.putObject(r.returns, t, "ret", replyAccess, "in");
      }
      for (const { v, n } of args) {
        if (v.unused) continue;
        const t = v.type;
        if (t.kind === "int-pointer" && v.dirs.reply) {
          w.line(`if (${n})`);
          w.indented(() => w.line(`lvd_put(c, (u64)*${n});`));
        } else if (t.kind === "array" && v.dirs.reply) {
          w.line(`if (${n})`);
          w.indented(() => w.line(`lvd_put_array(c, ${n}, ${counts.get(v.name)}, ${t.element.bytes});`));
        } else if (t.kind === "ref" && hasMarshaler(this.marshalers, "put", t.projection, "out")) {
          w.line(`if (${n})`);
          w.indented(() => w.line(`${marshalerName("put", t.projection, "out")}(c, ${n}${this.which(v, replyAccess)}, 0);`));
        } else if (t.kind === "object-array") {
          this.objectArrayReply(t, n, counts.get(v.name)!, "put");
        } else if (t.kind === "ref-pointer" && v.dirs.reply) {
          w.block(`if (${n}) {`, () => this.putObject(v, refOf(t), `*${n}`, replyAccess, "in"));
        }
      }
      this.deallocs(r, names, "callee", replyAccess, (v) => counts.get(v.name) ?? "0");
      if (r.returns?.type.kind === "ref" && r.returns.dealloc.callee) w.line(this.drop(r.returns.type.projection.cType, "ret"));
      freeTemporaries();
      w.line("return lvd_finish_reply(c);");
    });
    w.line("}");
    w.line();
  }

  /** dealloc(side): the side drops its copies of the arguments' objects after the call. */
  private deallocs(r: Rpc, names: Map<string, string>, side: "caller" | "callee", a: Access, count: (v: Value, n: string) => string): void {
    const { w } = this;
    for (const v of r.args) {
      if (!v.dealloc[side]) continue;
      const n = names.get(v.name)!;
      const t = v.type;
      if (t.kind === "ref") w.line(this.drop(t.projection.cType, n));
      if (t.kind === "object-array" && t.element.kind === "ref") {
        w.block(`if (${n}) {`, () => {
          w.line(`u64 lvd_k, lvd_n = ${count(v, n)};`);
          w.line("");
          w.line("for (lvd_k = 0; lvd_k < lvd_n; lvd_k++)");
          w.indented(() => w.line(this.drop(t.element.projection.cType, `${n}[lvd_k]`)));
        });
      }
      if (t.kind === "any_of") {
        t.members.forEach((mt, k) => {
          if (mt.kind !== "ref") return;
          w.line(`if (${exprC(t.discriminator, a.name)} == ${k})`);
          w.indented(() => w.line(this.drop(mt.projection.cType, n)));
        });
      }
    }
  }

  private dispatcher(): void {
    const { w } = this;
    w.comment(
      "The kernel's calls into the domain arrive here (the LVD runtime's entry code\n" +
      "passes the message); the reply replaces the message. 0: a REPLY, else the reason\n" +
      "of the ERROR reply.",
    );
    w.line("int lvd_dispatch(struct lvd_msg *m)");
    w.line("{");
    w.indented(() => {
      w.line("struct lvd_cursor cursor, *c = &cursor;");
      w.line("");
      w.line("lvd_start_read(c, m);");
      w.line("if (c->error || LVD_HEADER_KIND(m->w[0]) != LVD_KIND_RPC_PTR)");
      w.indented(() => w.line("return lvd_refuse(c, c->error ? c->error : LVD_ERR_MESSAGE);"));
      w.block("switch (c->index) {", () => {
        for (const r of this.m.rpcPtrs) {
          w.line(`case ${rpcConst(r)}:`);
          w.indented(() => w.line(`return serve_${r.name}(c);`));
        }
        w.line("default:");
        w.indented(() => w.line("return lvd_refuse(c, LVD_ERR_MESSAGE);"));
      });
    });
    w.line("}");
  }

}

/** `T name` for a type spelled on its own (`struct x *` + p -> `struct x *p`). */
function declare(type: string, name: string): string {
  return type.endsWith("*") ? `${type}${name}` : `${type} ${name}`;
}

/** The projection pointer a `projection p **` points at. */
function refOf(t: Extract<ValueType, { kind: "ref-pointer" }>): RefType {
  return { kind: "ref", projection: t.projection, isConst: t.isConst };
}

function zero(t: ValueType): string {
  return t.kind === "int" ? "0" : "NULL";
}

function releaseName(t: CType): string {
  return `release_${t.kind === "union" ? "union_" : ""}${t.tag}`;
}

function freeArrayName(t: CType): string {
  return `free_array_${t.kind === "union" ? "union_" : ""}${t.tag}`;
}

function dropName(t: CType): string {
  return `drop_${t.kind === "union" ? "union_" : ""}${t.tag}`;
}

/** An array's element count in C: its constant, its expression, or (null-terminated) what `terminated` counts. */
function sizeC(size: SizeSpec, a: Access, terminated: () => string): string {
  switch (size.kind) {
    case "const":
      return String(size.count);
    case "expr":
      return exprC(size.expr, a.name);
    case "null":
      return terminated();
  }
}
