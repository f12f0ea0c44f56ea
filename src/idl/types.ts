// The IDL compiler's central types: the syntax tree the parser builds, and the checked
// model the checker derives from it for the generators (like the TypeScript compiler's
// types.ts: every phase reads and writes these, and nothing else).
//
// Phases: lexer.ts (text -> tokens), parser.ts (tokens -> syntax tree), checker.ts
// (syntax tree -> checked model, with every name resolved and every rule of
// docs/glue-abi.md enforced), layout.ts (the kernel's struct layouts), emit-c.ts and
// emit-ts.ts (checked model -> glue). compile.ts runs them in order.

// ------------------------------------------------------------------ positions

/** A place in a source file; line and column count from 1 (columns in characters). */
export interface Pos {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export interface Identifier {
  readonly text: string;
  readonly pos: Pos;
}

// ------------------------------------------------------------------ syntax tree

/** The C integer spellings the IDL accepts, normalised (u8..u64, s8..s64 and the C names). */
export type IntName =
  | "u8" | "u16" | "u32" | "u64" | "s8" | "s16" | "s32" | "s64"
  | "char" | "signed char" | "unsigned char" | "bool"
  | "short" | "unsigned short" | "int" | "unsigned int"
  | "long" | "unsigned long" | "long long" | "unsigned long long" | "size_t";

/** An integer expression: array sizes and union discriminators. */
export type Expr =
  | { readonly kind: "number"; readonly value: bigint; readonly pos: Pos }
  | { readonly kind: "name"; readonly name: string; readonly pos: Pos }
  | { readonly kind: "binary"; readonly op: "+" | "-" | "*" | "/"; readonly left: Expr; readonly right: Expr; readonly pos: Pos };

/** The size of an array<T, N>: an expression, or `null` (up to the first zero element). */
export type ArraySize = Expr | { readonly kind: "null"; readonly pos: Pos };

/** A type as written, before `*`s: the part that names what is pointed at. */
export type TypeStem =
  | { readonly kind: "int"; readonly name: IntName; readonly pos: Pos }
  | { readonly kind: "void"; readonly pos: Pos }
  | { readonly kind: "string"; readonly pos: Pos }
  | { readonly kind: "array"; readonly element: TypeSyntax; readonly size: ArraySize; readonly pos: Pos }
  | { readonly kind: "projection"; readonly name: Identifier; readonly pos: Pos }
  | { readonly kind: "rpc_ptr"; readonly name: Identifier; readonly pos: Pos }
  | { readonly kind: "any_of"; readonly discriminator: Expr; readonly members: readonly TypeSyntax[]; readonly pos: Pos };

export type AttributeKind = "in" | "out" | "unused" | "alloc" | "dealloc" | "bind";
export type Side = "caller" | "callee";

export interface Attribute {
  readonly kind: AttributeKind;
  /** For alloc, dealloc and bind. */
  readonly side?: Side;
  readonly pos: Pos;
}

/** `const stem [attrs] * [attrs] ...`: attributes may stand before or after each `*`; all apply to the declaration. */
export interface TypeSyntax {
  readonly isConst: boolean;
  readonly stem: TypeStem;
  /** Number of `*`s. */
  readonly pointers: number;
  readonly attributes: readonly Attribute[];
  readonly pos: Pos;
}

/** An argument of an rpc or a field of a projection. */
export interface VarSyntax {
  readonly type: TypeSyntax;
  readonly name: Identifier;
}

export interface ProjectionSyntax {
  readonly kind: "projection";
  readonly cKind: "struct" | "union";
  /** The C tag: `struct net_device` -> net_device. */
  readonly cName: Identifier;
  /** `projection <union U, expr> name`: selects the member, evaluated where the union is used. */
  readonly discriminator: Expr | null;
  readonly name: Identifier;
  readonly fields: readonly VarSyntax[];
  readonly pos: Pos;
}

export interface RpcSyntax {
  readonly kind: "rpc" | "rpc_ptr";
  readonly returns: TypeSyntax;
  readonly name: Identifier;
  readonly args: readonly VarSyntax[];
  /** Projections declared in the rpc's braces: visible only inside it. */
  readonly projections: readonly ProjectionSyntax[];
  /** rpc_ptrs declared in the rpc's braces (hoisted to the module by the checker). */
  readonly rpcPtrs: readonly RpcSyntax[];
  readonly pos: Pos;
}

export interface HeaderSyntax {
  readonly kind: "header";
  /** As written: `"nullnet.h"` or `<linux/netdevice.h>`. */
  readonly path: string;
  readonly pos: Pos;
}

export interface ModuleSyntax {
  readonly name: Identifier;
  readonly headers: readonly HeaderSyntax[];
  readonly rpcs: readonly RpcSyntax[];
  readonly projections: readonly ProjectionSyntax[];
  readonly pos: Pos;
}

// ------------------------------------------------------------------ checked model

/** An integer C type with what marshaling needs to know about it. */
export interface IntType {
  readonly name: IntName;
  /** Its spelling in generated C (u32, unsigned long, _Bool...). */
  readonly c: string;
  readonly bytes: 1 | 2 | 4 | 8;
  readonly signed: boolean;
  readonly isBool: boolean;
}

/** Which way a value crosses: on the call (caller -> callee), on the reply, or both. */
export interface Directions {
  readonly call: boolean;
  readonly reply: boolean;
}

/** What the receiving side does with a projection pointer (docs/glue-abi.md, Capabilities). */
export type RefMode = "bind" | "alloc";

/** The size of a checked array: constant, an expression over earlier values, or null-terminated. */
export type SizeSpec =
  | { readonly kind: "const"; readonly count: number }
  | { readonly kind: "expr"; readonly expr: Expr }
  | { readonly kind: "null" };

/** A type as the generators see it: resolved, with its C and wire shape. */
export type ValueType =
  | { readonly kind: "int"; readonly int: IntType }
  /** `T *` with T an integer: crosses as a presence word and the value. */
  | { readonly kind: "int-pointer"; readonly int: IntType; readonly isConst: boolean }
  | { readonly kind: "string"; readonly isConst: boolean }
  /** `array<T, N>` inline in a struct (constant N), or `array<T, N> *`. */
  | { readonly kind: "array"; readonly element: IntType; readonly size: SizeSpec; readonly inline: boolean; readonly isConst: boolean }
  /** `projection p *`: a capability, then the fields. */
  | RefType
  /** `projection p` inside a struct: the fields, no capability. */
  | EmbedType
  /**
   * `array<projection p, N>` (elements by value) or `array<projection p *, N>` (elements
   * are references): inline in a struct (constant N), or `array<...> *`. Each element
   * crosses as an embedded projection or a projection pointer would.
   */
  | { readonly kind: "object-array"; readonly element: RefType | EmbedType; readonly size: SizeSpec; readonly inline: boolean; readonly isConst: boolean }
  /** `projection p **` (arguments): a presence word, then `*p` as a projection pointer on the call and/or the reply. */
  | { readonly kind: "ref-pointer"; readonly projection: Projection; readonly isConst: boolean }
  /** `rpc_ptr f`: a domain function's address. */
  | { readonly kind: "fn"; readonly rpcPtr: Rpc }
  /** `any_of<e, T...>`: a `void *` that points at one of the members, chosen by e. */
  | { readonly kind: "any_of"; readonly discriminator: Expr; readonly members: readonly ValueType[] };

export type RefType = { readonly kind: "ref"; readonly projection: Projection; readonly isConst: boolean };
export type EmbedType = { readonly kind: "embed"; readonly projection: Projection };

/** An argument or a field, checked. */
export interface Value {
  readonly name: string;
  readonly type: ValueType;
  /** Explicit [in]/[out]/[in,out], or the default ([in]); [unused]: neither. */
  readonly dirs: Directions;
  readonly unused: boolean;
  /** For projection pointers: what the callee / the caller does on receiving it. */
  readonly calleeMode: RefMode;
  readonly callerMode: RefMode;
  /** For projection pointers: who drops its copy after the call. */
  readonly dealloc: { readonly caller: boolean; readonly callee: boolean };
  /** For unions: the member selector, resolved at this use. */
  readonly discriminator: Expr | null;
  readonly pos: Pos;
}

export interface Projection {
  /** Unique across the module: `dev` declared in rpc `setup` is `setup__dev`. */
  readonly id: string;
  readonly name: string;
  /** The rpc whose braces declare it, or null at module level. */
  readonly scope: string | null;
  readonly cType: CType;
  readonly fields: Value[];
  /** Unions: the member selector as declared (resolved at each use). */
  readonly discriminator: Expr | null;
  readonly pos: Pos;
}

/** A C struct or union the projections describe; one per tag, shared by all its projections. */
export interface CType {
  readonly kind: "struct" | "union";
  readonly tag: string;
  /** The CSpace type number (docs/glue-abi.md): structs and unions numbered from 1 in order of appearance. */
  readonly typeId: number;
  /** Every field any projection of it names, merged in order of first appearance. */
  readonly fields: CField[];
  readonly projections: Projection[];
}

export interface CField {
  readonly name: string;
  readonly type: ValueType;
  readonly pos: Pos;
}

export interface Rpc {
  readonly kind: "rpc" | "rpc_ptr";
  readonly name: string;
  /** Position among the module's rpcs, or among its rpc_ptrs: the header's index field. */
  readonly index: number;
  /** null: void. */
  readonly returns: Value | null;
  readonly args: Value[];
  readonly pos: Pos;
}

export interface CheckedModule {
  readonly name: string;
  readonly fileName: string;
  readonly headers: readonly string[];
  readonly rpcs: Rpc[];
  readonly rpcPtrs: Rpc[];
  readonly projections: Projection[];
  /** In type-number order. */
  readonly cTypes: CType[];
}
