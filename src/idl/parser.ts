// Parser: tokens -> syntax tree (types.ts), by recursive descent over the KSplit IDL
// grammar (reference/lvds.md §8, and KSplit's own grammar for the details):
//
//   file       = module
//   module     = "module" NAME "{" item* "}"
//   item       = header | projection | rpc
//   header     = "header" (STRING | <path>) ";"
//   projection = "projection" "<" ("struct" | "union") TAG ["," expr] ">" NAME "{" (type NAME ";")* "}"
//   rpc        = ("rpc" | "rpc_ptr") type NAME "(" [type NAME ("," type NAME)*] ")" ("{" (projection | rpc)* "}" | ";")
//   type       = ["const"] stem [attrs] ("*" [attrs] ["const"])*
//   stem       = integer | "void" | "string" | "projection" NAME | "rpc_ptr" NAME
//              | "array" "<" type "," ("null" | expr) ">" | "any_of" "<" expr ("," type)+ ">"
//   attrs      = "[" attr ("," attr)* "]"
//   attr       = "in" | "out" | "unused" | ("alloc" | "dealloc" | "bind") "(" ("caller" | "callee") ")"
//   expr       = term (("+" | "-") term)*;  term = factor (("*" | "/") factor)*;  factor = NUMBER | NAME | "(" expr ")"
//
// Errors do not stop the parse: the parser reports, skips to the next `;` or `}` that
// closes the broken declaration, and goes on, so one run shows several mistakes.

import type {
  ArraySize, Attribute, AttributeKind, Expr, HeaderSyntax, Identifier, IntName, ModuleSyntax, Pos,
  ProjectionSyntax, RpcSyntax, TypeStem, TypeSyntax, VarSyntax,
} from "./types.ts";
import type { Token } from "./lexer.ts";
import type { DiagnosticBag } from "./diagnostics.ts";

/** Words that name types or start declarations: never usable as names. */
export const KEYWORDS = new Set([
  "module", "rpc", "rpc_ptr", "projection", "struct", "union", "header", "const", "void", "string", "array",
  "null", "any_of", "unsigned", "signed", "char", "short", "int", "long", "bool", "size_t",
  "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
]);

const FIXED_INTS: ReadonlyMap<string, IntName> = new Map<string, IntName>([
  ["u8", "u8"], ["u16", "u16"], ["u32", "u32"], ["u64", "u64"],
  ["s8", "s8"], ["s16", "s16"], ["s32", "s32"], ["s64", "s64"], ["bool", "bool"], ["size_t", "size_t"],
]);
const C_INT_WORDS = new Set(["unsigned", "signed", "char", "short", "int", "long"]);

/** Thrown to abandon a declaration after reporting it; caught where the parser resynchronises. */
class Abandon extends Error {}

export function parse(tokens: Token[], diags: DiagnosticBag): ModuleSyntax | null {
  return new Parser(tokens, diags).file();
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly diags: DiagnosticBag) {}

  // ---------------------------------------------------------------- token helpers

  private get tok(): Token {
    return this.tokens[this.i];
  }
  private peek(k = 1): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }
  private advance(): Token {
    const t = this.tok;
    if (t.kind !== "eof") this.i++;
    return t;
  }
  private is(text: string): boolean {
    return (this.tok.kind === "punct" || this.tok.kind === "ident") && this.tok.text === text;
  }
  private accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.advance();
    return true;
  }
  private expect(text: string, context: string): Token {
    if (this.is(text)) return this.advance();
    this.fail(this.tok, `expected '${text}' ${context}, found ${describe(this.tok)}`);
  }
  private fail(at: Token | Pos, message: string): never {
    this.diags.error("pos" in at ? at.pos : at, message);
    throw new Abandon();
  }

  /** A name (not a keyword). */
  private name(what: string): Identifier {
    const t = this.tok;
    if (t.kind !== "ident") this.fail(t, `expected ${what}, found ${describe(t)}`);
    if (KEYWORDS.has(t.text)) this.fail(t, `'${t.text}' is a keyword and cannot be used as ${what}`);
    this.advance();
    return { text: t.text, pos: t.pos };
  }

  /**
   * Skips to just after the `;` that ends the current declaration, or to (not past) the
   * `}` that closes the enclosing block, stepping over nested braces.
   */
  private syncDeclaration(): void {
    let depth = 0;
    while (this.tok.kind !== "eof") {
      if (this.is("{")) depth++;
      else if (this.is("}")) {
        if (depth === 0) return;
        depth--;
        if (depth === 0) {
          this.advance();
          this.accept(";");
          return;
        }
      } else if (this.is(";") && depth === 0) {
        this.advance();
        return;
      }
      this.advance();
    }
  }

  // ---------------------------------------------------------------- file and module

  file(): ModuleSyntax | null {
    let module: ModuleSyntax | null = null;
    while (this.tok.kind !== "eof") {
      if (!this.is("module")) {
        this.diags.error(this.tok.pos, `expected 'module', found ${describe(this.tok)}`);
        this.syncDeclaration();
        if (this.is("}")) this.advance();
        continue;
      }
      const start = this.tok;
      try {
        const m = this.module();
        if (module) this.diags.error(start.pos, `a file holds one module; '${module.name.text}' is already defined`);
        else module = m;
      } catch (e) {
        if (!(e instanceof Abandon)) throw e;
        return module;
      }
    }
    if (!module && !this.diags.hasErrors) this.diags.error(this.tok.pos, "the file defines no module");
    return module;
  }

  private module(): ModuleSyntax {
    const start = this.expect("module", "");
    const name = this.name("a module name");
    this.expect("{", `after 'module ${name.text}'`);
    const headers: HeaderSyntax[] = [];
    const rpcs: RpcSyntax[] = [];
    const projections: ProjectionSyntax[] = [];
    while (!this.is("}")) {
      if (this.tok.kind === "eof") this.fail(this.tok, `expected '}' to close module '${name.text}', found end of file`);
      try {
        if (this.is("header")) headers.push(this.header());
        else if (this.is("projection")) projections.push(this.projection());
        else if (this.is("rpc") || this.is("rpc_ptr")) rpcs.push(this.rpc());
        else this.fail(this.tok, `expected 'rpc', 'rpc_ptr', 'projection' or 'header', found ${describe(this.tok)}`);
      } catch (e) {
        if (!(e instanceof Abandon)) throw e;
        this.syncDeclaration();
      }
    }
    this.advance();
    this.accept(";");
    return { name, headers, rpcs, projections, pos: start.pos };
  }

  private header(): HeaderSyntax {
    const start = this.advance();
    const t = this.tok;
    if (t.kind !== "string" && t.kind !== "path") this.fail(t, `expected a header path ("file.h" or <file.h>) after 'header', found ${describe(t)}`);
    this.advance();
    this.expect(";", "after the header path");
    return { kind: "header", path: t.kind === "string" ? `"${t.text}"` : `<${t.text}>`, pos: start.pos };
  }

  // ---------------------------------------------------------------- projections

  private projection(): ProjectionSyntax {
    const start = this.advance();
    this.expect("<", "after 'projection' (a projection names its C type: projection <struct T> name)");
    const kindTok = this.tok;
    if (!this.is("struct") && !this.is("union")) this.fail(kindTok, `expected 'struct' or 'union', found ${describe(kindTok)}`);
    this.advance();
    const cKind = kindTok.text as "struct" | "union";
    const cName = this.name(`a ${cKind} tag`);
    let discriminator: Expr | null = null;
    if (this.accept(",")) {
      if (cKind !== "union") this.fail(this.tokens[this.i - 1], `only a union projection takes a discriminator`);
      discriminator = this.expr();
    }
    this.expect(">", `after '${cKind} ${cName.text}'`);
    const name = this.name("a projection name");
    this.expect("{", `to open projection '${name.text}'`);
    const fields: VarSyntax[] = [];
    while (!this.is("}")) {
      if (this.tok.kind === "eof") this.fail(this.tok, `expected '}' to close projection '${name.text}', found end of file`);
      try {
        const type = this.type();
        const fieldName = this.name("a field name");
        this.expect(";", `after field '${fieldName.text}'`);
        fields.push({ type, name: fieldName });
      } catch (e) {
        if (!(e instanceof Abandon)) throw e;
        this.syncDeclaration();
      }
    }
    this.advance();
    this.accept(";");
    return { kind: "projection", cKind, cName, discriminator, name, fields, pos: start.pos };
  }

  // ---------------------------------------------------------------- rpcs

  private rpc(): RpcSyntax {
    const start = this.advance();
    const kind = start.text as "rpc" | "rpc_ptr";
    const returns = this.type();
    const name = this.name(`the ${kind}'s name`);
    this.expect("(", `after ${kind} '${name.text}'`);
    const args: VarSyntax[] = [];
    if (!this.is(")")) {
      for (;;) {
        const type = this.type();
        args.push({ type, name: this.name("an argument name") });
        if (this.accept(",")) continue;
        if (this.is(")")) break;
        this.fail(this.tok, `expected ',' or ')' after argument '${args[args.length - 1].name.text}', found ${describe(this.tok)}`);
      }
    }
    this.advance();
    const projections: ProjectionSyntax[] = [];
    const rpcPtrs: RpcSyntax[] = [];
    if (this.accept(";")) return { kind, returns, name, args, projections, rpcPtrs, pos: start.pos };
    this.expect("{", `after the arguments of ${kind} '${name.text}' (its local projections, or ';')`);
    while (!this.is("}")) {
      if (this.tok.kind === "eof") this.fail(this.tok, `expected '}' to close ${kind} '${name.text}', found end of file`);
      try {
        if (this.is("projection")) projections.push(this.projection());
        else if (this.is("rpc_ptr")) rpcPtrs.push(this.rpc());
        else this.fail(this.tok, `expected a projection or an rpc_ptr inside ${kind} '${name.text}', found ${describe(this.tok)}`);
      } catch (e) {
        if (!(e instanceof Abandon)) throw e;
        this.syncDeclaration();
      }
    }
    this.advance();
    this.accept(";");
    return { kind, returns, name, args, projections, rpcPtrs, pos: start.pos };
  }

  // ---------------------------------------------------------------- types

  private type(): TypeSyntax {
    const start = this.tok;
    const isConst = this.accept("const");
    const stem = this.stem();
    const attributes: Attribute[] = [];
    let pointers = 0;
    this.attributes(attributes);
    while (this.is("*")) {
      this.advance();
      pointers++;
      this.attributes(attributes);
      this.accept("const");
      this.attributes(attributes);
    }
    return { isConst, stem, pointers, attributes, pos: start.pos };
  }

  private stem(): TypeStem {
    const t = this.tok;
    if (t.kind !== "ident") this.fail(t, `expected a type, found ${describe(t)}`);
    const pos = t.pos;
    switch (t.text) {
      case "void":
        this.advance();
        return { kind: "void", pos };
      case "string":
        this.advance();
        return { kind: "string", pos };
      case "projection":
        this.advance();
        return { kind: "projection", name: this.name("a projection name after 'projection'"), pos };
      case "rpc_ptr":
        this.advance();
        return { kind: "rpc_ptr", name: this.name("an rpc_ptr name after 'rpc_ptr'"), pos };
      case "array": {
        this.advance();
        this.expect("<", "after 'array' (array<T, N>)");
        const element = this.type();
        this.expect(",", "between the element type and the size of an array");
        let size: ArraySize;
        if (this.is("null")) size = { kind: "null", pos: this.advance().pos };
        else size = this.expr();
        this.expect(">", "to close array<...>");
        return { kind: "array", element, size, pos };
      }
      case "any_of": {
        this.advance();
        this.expect("<", "after 'any_of' (any_of<discriminator, T1, T2...>)");
        const discriminator = this.expr();
        const members: TypeSyntax[] = [];
        while (this.accept(",")) members.push(this.type());
        if (members.length === 0) this.fail(this.tok, `expected ',' and the member types of any_of, found ${describe(this.tok)}`);
        this.expect(">", "to close any_of<...>");
        return { kind: "any_of", discriminator, members, pos };
      }
      case "struct":
      case "union":
        this.fail(t, `'${t.text} ${this.peek().text}' is C; name a projection instead: projection <${t.text} ${this.peek().text}> NAME, then 'projection NAME *'`);
    }
    const fixed = FIXED_INTS.get(t.text);
    if (fixed) {
      this.advance();
      return { kind: "int", name: fixed, pos };
    }
    if (C_INT_WORDS.has(t.text)) return { kind: "int", name: this.cInteger(), pos };
    this.fail(t, `unknown type '${t.text}'${t.text === "long" ? "" : " (types: u8..u64, s8..s64, char, bool, int, long, unsigned..., void, string, array<T, N>, projection NAME, rpc_ptr NAME, any_of<...>)"}`);
  }

  /** C's integer spellings: unsigned long long, signed char, short int... */
  private cInteger(): IntName {
    const start = this.tok;
    let sign: "signed" | "unsigned" | null = null;
    let base: "char" | "short" | "int" | null = null;
    let longs = 0;
    let sawInt = false;
    while (this.tok.kind === "ident" && C_INT_WORDS.has(this.tok.text)) {
      const w = this.advance();
      if (w.text === "signed" || w.text === "unsigned") {
        if (sign) this.fail(w, `'${w.text}' repeats or contradicts '${sign}'`);
        sign = w.text;
      } else if (w.text === "long") {
        if (++longs > 2 || base === "char" || base === "short") this.fail(w, `'long' cannot qualify this type`);
      } else if (w.text === "int") {
        if (sawInt || base === "char") this.fail(w, `'int' cannot follow here`);
        sawInt = true;
      } else {
        if (base || longs > 0 || (w.text === "char" && sawInt)) this.fail(w, `'${w.text}' cannot combine with the words before it`);
        base = w.text as "char" | "short";
      }
    }
    const u = sign === "unsigned";
    if (base === "char") return sign === null ? "char" : u ? "unsigned char" : "signed char";
    if (base === "short") return u ? "unsigned short" : "short";
    if (longs === 2) return u ? "unsigned long long" : "long long";
    if (longs === 1) return u ? "unsigned long" : "long";
    if (!sawInt && sign === null) this.fail(start, `expected an integer type`);
    return u ? "unsigned int" : "int";
  }

  private attributes(into: Attribute[]): void {
    if (!this.is("[")) return;
    this.advance();
    for (;;) {
      const t = this.tok;
      if (t.kind !== "ident") this.fail(t, `expected an attribute (in, out, unused, alloc(...), dealloc(...), bind(...)), found ${describe(t)}`);
      switch (t.text) {
        case "in":
        case "out":
        case "unused":
          this.advance();
          into.push({ kind: t.text, pos: t.pos });
          break;
        case "alloc":
        case "dealloc":
        case "bind": {
          this.advance();
          this.expect("(", `after '${t.text}' (${t.text}(caller) or ${t.text}(callee))`);
          const side = this.tok;
          if (side.text !== "caller" && side.text !== "callee") this.fail(side, `expected 'caller' or 'callee' in ${t.text}(...), found ${describe(side)}`);
          this.advance();
          this.expect(")", `after '${t.text}(${side.text}'`);
          into.push({ kind: t.text as AttributeKind, side: side.text, pos: t.pos });
          break;
        }
        default:
          this.fail(t, `unknown attribute '${t.text}' (attributes: in, out, unused, alloc(caller|callee), dealloc(caller|callee), bind(caller|callee))`);
      }
      if (this.accept(",")) continue;
      this.expect("]", "to close the attribute list");
      return;
    }
  }

  // ---------------------------------------------------------------- expressions

  private expr(): Expr {
    let left = this.term();
    while (this.is("+") || this.is("-")) {
      const op = this.advance();
      left = { kind: "binary", op: op.text as "+" | "-", left, right: this.term(), pos: op.pos };
    }
    return left;
  }

  private term(): Expr {
    let left = this.factor();
    while (this.is("*") || this.is("/")) {
      const op = this.advance();
      left = { kind: "binary", op: op.text as "*" | "/", left, right: this.factor(), pos: op.pos };
    }
    return left;
  }

  private factor(): Expr {
    const t = this.tok;
    if (t.kind === "number") {
      this.advance();
      return { kind: "number", value: t.value!, pos: t.pos };
    }
    if (this.accept("(")) {
      const e = this.expr();
      this.expect(")", "to close the parenthesised expression");
      return e;
    }
    if (t.kind === "ident" && t.text === "null") this.fail(t, "'null' is an array size on its own, not part of an expression");
    if (t.kind === "ident") {
      const id = this.name("a field or argument name");
      return { kind: "name", name: id.text, pos: id.pos };
    }
    this.fail(t, `expected a number, a name or '(', found ${describe(t)}`);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of file";
    case "string":
      return `"${t.text}"`;
    case "path":
      return `<${t.text}>`;
    default:
      return `'${t.text}'`;
  }
}
