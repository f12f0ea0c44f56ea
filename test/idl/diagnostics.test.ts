// Malformed IDL: each case's exact diagnostics (file:line:column and message). The
// parser recovers after an error, so one run reports several; the checker runs only on
// a file that parsed.

import { describe, it, expect } from "vitest";
import { checkIdl, compileIdl } from "../../src/idl/compile.ts";
import { IdlError, formatDiagnostic } from "../../src/idl/diagnostics.ts";

function diagnostics(source: string, file = "t.idl"): string[] {
  return checkIdl(source, file).diagnostics.map(formatDiagnostic);
}

const lines = (...l: string[]) => l.join("\n") + "\n";

describe("lexer and parser errors", () => {
  it("an unexpected character, an unterminated comment, a missing brace", () => {
    expect(diagnostics(lines("module m {", "  rpc void f(u32 x) @;", "  /* never closed"))).toEqual([
      "t.idl:2:21: error: unexpected character '@'",
      "t.idl:3:3: error: unterminated comment: '/*' has no matching '*/'",
      "t.idl:4:1: error: expected '}' to close module 'm', found end of file",
    ]);
  });

  it("a missing semicolon is reported where the next field starts, and parsing goes on", () => {
    expect(diagnostics(lines("module m {", "  projection <struct s> p {", "    u32 a", "    u32 b;", "  }", "  rpc void f(u32 x) {}", "}"))).toEqual([
      "t.idl:4:5: error: expected ';' after field 'a', found 'u32'",
    ]);
  });

  it("several errors in one file: each declaration recovers on its own", () => {
    expect(diagnostics(lines(
      "module m {",
      "  rpc void f(u32 x, ) {}",
      "  projection <struct s> p { u32 [inn] a; }",
      "  rpc void g(float y);",
      "  rpc void h(struct s *x);",
      "  rpc void k(u32 int);",
      "}",
    ))).toEqual([
      "t.idl:2:21: error: expected a type, found ')'",
      "t.idl:3:34: error: unknown attribute 'inn' (attributes: in, out, unused, alloc(caller|callee), dealloc(caller|callee), bind(caller|callee))",
      "t.idl:4:14: error: unknown type 'float' (types: u8..u64, s8..s64, char, bool, int, long, unsigned..., void, string, array<T, N>, projection NAME, rpc_ptr NAME, any_of<...>)",
      "t.idl:5:14: error: 'struct s' is C; name a projection instead: projection <struct s> NAME, then 'projection NAME *'",
      "t.idl:6:18: error: 'int' is a keyword and cannot be used as an argument name",
    ]);
  });

  it("C integer spellings are checked", () => {
    expect(diagnostics(lines("module m {", "  rpc void f(unsigned long long long x);", "}"))).toEqual([
      "t.idl:2:33: error: 'long' cannot qualify this type",
    ]);
    expect(diagnostics(lines("module m {", "  rpc void f(unsigned long long a, long int b, signed char c, unsigned d, short int e);", "}"))).toEqual([]);
  });

  it("one module per file, and at least one", () => {
    expect(diagnostics("module a {}\nmodule b {}\n")).toEqual(["t.idl:2:1: error: a file holds one module; 'a' is already defined"]);
    expect(diagnostics("// nothing\n")).toEqual(["t.idl:2:1: error: the file defines no module"]);
  });

  it("only a union takes a discriminator", () => {
    expect(diagnostics(lines("module m {", "  projection <struct s, k> p { u32 a; }", "}"))).toEqual([
      "t.idl:2:23: error: only a union projection takes a discriminator",
    ]);
  });
});

describe("checker errors", () => {
  it("unknown projections and rpc_ptrs; a local projection is visible only in its rpc", () => {
    expect(diagnostics(lines(
      "module m {",
      "  rpc void f(projection nope *p, rpc_ptr nofn cb);",
      "  rpc void g(projection local *p) {",
      "    projection <struct s> local { projection other *o; }",
      "  }",
      "  rpc void h(projection local *p);",
      "}",
    ))).toEqual([
      "t.idl:2:25: error: unknown projection 'nope'",
      "t.idl:2:42: error: unknown rpc_ptr 'nofn'",
      "t.idl:4:46: error: unknown projection 'other'",
      "t.idl:6:25: error: unknown projection 'local'",
    ]);
  });

  it("[out] needs something the callee can write through", () => {
    expect(diagnostics(lines("module m {", "  rpc void f(u32 [out] x, string [out] s, const u32 [out] *p, array<u8, null> [out] *a);", "}"))).toEqual([
      "t.idl:2:19: error: [out] on argument 'x', which is passed by value: the callee cannot change the caller's copy (pass a pointer)",
      "t.idl:2:35: error: [out] on argument 's', which is passed by value: the callee cannot change the caller's copy (pass a pointer)",
      "t.idl:2:54: error: [out] on argument 'p', a pointer to const: the callee's values cannot be written back",
      "t.idl:2:80: error: [out] on argument 'a': the caller's buffer needs a size it knows; array<T, null> is for [in] arrays",
    ]);
  });

  it("alloc, bind and dealloc apply to projection pointers, on the side that receives them", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct s> p { u32 [alloc(callee)] a; }",
      "  rpc void f(projection p [alloc(caller)] *x);",
      "  rpc projection p [bind(callee)] *g();",
      "  rpc void h(projection p [alloc(callee), bind(callee)] *x);",
      "}",
    ))).toEqual([
      "t.idl:2:34: error: alloc(callee) on field 'a': alloc, bind and dealloc apply to projection pointers only",
      "t.idl:3:28: error: alloc(caller) on argument 'x': the caller does not receive its own argument; did you mean alloc(callee)?",
      "t.idl:4:21: error: bind(callee) on the return value: only the caller receives it; did you mean bind(caller)?",
      "t.idl:5:43: error: bind(callee) contradicts alloc(callee): the callee either makes a new copy or finds its existing one",
    ]);
  });

  it("attributes: contradictions and repeats", () => {
    expect(diagnostics(lines("module m {", "  projection <struct s> p { u32 [unused, in] a; u32 [in, in] b; string [in] in; u64 default; }", "  rpc void f(projection p *x);", "}"))).toEqual([
      "t.idl:2:34: error: [unused] contradicts [in] on field 'a'",
      "t.idl:2:58: error: attribute 'in' is given twice",
      "t.idl:2:85: error: 'default' is a C keyword and cannot name a field",
    ]);
  });

  it("array sizes use integers the receiver has already read, in the same direction", () => {
    expect(diagnostics(lines(
      "module m {",
      "  rpc void f(array<u8, len> *buf, u32 len);",
      "  rpc void g(u32 n, array<u8, n + m> *buf);",
      "  rpc void h(string s, array<u8, s> *buf);",
      "  projection <struct s> p {",
      "    u32 [out] len;",
      "    array<u8, len> [in] *data;",
      "  }",
      "  rpc void k(projection p *x);",
      "  rpc void ok(u32 len, array<u8, len> [out] *buf, u32 n, array<u16, (n + 1) * 2> *more);",
      "}",
    ))).toEqual([
      "t.idl:2:24: error: 'len' is sent after 'buf', but the receiver needs the size of 'buf' first: declare 'len' before 'buf'",
      "t.idl:3:35: error: unknown name 'm' in the size of 'buf' (a size or discriminator uses arguments of the same rpc, in rpc 'g')",
      "t.idl:4:34: error: 's' in the size of 'buf' is not an integer",
      "t.idl:7:15: error: 'len' does not cross on the call, but 'data' does: the size of 'data' must reach the callee with it",
    ]);
  });

  it("constant sizes: at least 1, within a message, no division by zero", () => {
    expect(diagnostics(lines("module m {", "  rpc void f(array<u8, 2 - 2> *a, array<u64, 600> *big, u32 n, array<u8, n / 0> *c);", "}"))).toEqual([
      "t.idl:2:26: error: argument 'a': array size 2 - 2 = 0; a constant size must be at least 1",
      "t.idl:2:46: error: argument 'big': 600 elements of 8 bytes do not fit in one message (at most 4096 bytes)",
      "t.idl:2:76: error: argument 'c': division by zero in the array size",
    ]);
  });

  it("duplicate names", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct s> p { u32 a; u32 a; }",
      "  projection <struct s> p { u32 b; }",
      "  rpc void f(u32 x, u32 x);",
      "  rpc void f();",
      "}",
    ))).toEqual([
      "t.idl:2:40: error: field 'a' is already declared in projection 'p' at line 2",
      "t.idl:3:25: error: projection 'p' is already declared in this module at line 2",
      "t.idl:4:25: error: argument 'x' is already declared at column 18",
      "t.idl:5:12: error: 'f' is already declared at line 4",
    ]);
  });

  it("recursion by value is rejected, through pointers it is fine", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct a> pa { projection pb b; }",
      "  projection <struct b> pb { projection pa a; }",
      "  projection <struct c> pc { projection pc *next; }",
      "  rpc void f(projection pa *x, projection pc *y);",
      "}",
    ))).toEqual([
      "t.idl:2:3: error: struct a contains itself by value (struct a -> struct b -> struct a); use a pointer ('projection NAME *') for a recursive link",
    ]);
  });

  it("unions: a discriminator, sent before the union, no directions on members, not returned", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <union u> nodisc { u32 a; }",
      "  projection <union v, kind> pv { u32 [in] a; s8 b; }",
      "  projection <struct t> pt { projection pv v; u32 kind; }",
      "  rpc void f(projection pt *x, projection nodisc *y);",
      "  rpc projection pv *g();",
      "}",
    ))).toEqual([
      "t.idl:2:24: error: union projection 'nodisc' needs a discriminator to choose the member: projection <union u, FIELD> nodisc",
      "t.idl:3:40: error: union member 'a' takes no direction: it crosses with the union",
      "t.idl:4:44: error: 'kind' is sent after 'v', but the receiver needs the discriminator of union 'v' first: declare 'kind' before 'v'",
      "t.idl:6:7: error: a union cannot be returned: its discriminator would have no fields or arguments to come from",
    ]);
  });

  it("any_of: pointer members, a known discriminator, no '*'", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct s> p { u32 a; }",
      "  rpc void f(u32 k, any_of<k, u32, projection p *> x);",
      "  rpc void g(any_of<z, string> x);",
      "  rpc void h(u32 k, any_of<k, string> *x);",
      "}",
    ))).toEqual([
      "t.idl:3:31: error: any_of member u32: a member is a pointer (a projection pointer, a string or an array pointer)",
      "t.idl:4:21: error: unknown name 'z' in the discriminator of 'x' (a size or discriminator uses arguments of the same rpc, in rpc 'g')",
      "t.idl:5:21: error: argument 'x': any_of<...> already stands for a 'void *'; write it without '*'",
    ]);
  });

  it("types in the wrong place", () => {
    expect(diagnostics(lines(
      "module m {",
      "  rpc void f(void *p, u32 **q);",
      "  rpc array<u8, 4> *g();",
      "  rpc void h(array<u8, 4> a);",
      "  projection <struct s> p { array<u8, n> inl; u32 *ip; rpc_ptr cb *f; }",
      "  rpc void k(projection p *x) {",
      "    rpc_ptr void cb(u32 [out] x);",
      "  }",
      "  rpc rpc_ptr cb get();",
      "}",
    ))).toEqual([
      "t.idl:2:14: error: argument 'p': 'void *' does not say what to copy; use array<u8, N> *, a projection pointer, or any_of<...>",
      "t.idl:2:23: error: argument 'q': pointers to pointers are supported only as 'projection NAME **' arguments (for an integer the callee hands back, use 'u32 [out] *'; for several, 'array<u32, N> [out] *')",
      "t.idl:3:7: error: an rpc cannot return an array (return a projection pointer that holds it)",
      "t.idl:4:14: error: argument 'a': arrays are passed by pointer; write 'array<...> *a'",
      "t.idl:5:29: error: field 'inl': an array stored inline needs a constant size; store a pointer ('array<...> *') for a size that varies",
      "t.idl:5:47: error: field 'ip': a pointer to an integer is supported for arguments only (a field can use array<u32, 1> *)",
      "t.idl:5:56: error: field 'f': an rpc_ptr is already a function pointer; write 'rpc_ptr cb f' without '*'",
      "t.idl:7:26: error: [out] on argument 'x', which is passed by value: the callee cannot change the caller's copy (pass a pointer)",
      "t.idl:9:7: error: the return value cannot be an rpc_ptr",
    ]);
  });

  it("projections of one C struct agree on each field's C type", () => {
    expect(diagnostics(lines("module m {", "  projection <struct s> p1 { u32 a; }", "  projection <struct s> p2 { u64 a; }", "  rpc void f(projection p1 *x, projection p2 *y);", "}"))).toEqual([
      "t.idl:3:34: error: field 'a' of struct s is u64 here but u32 in projection 'p1' (line 2); one C struct has one type per field",
    ]);
  });
});

describe("compileIdl", () => {
  it("throws an IdlError whose message lists the diagnostics, one a line", () => {
    let error: unknown;
    try {
      compileIdl("module m {\n  rpc void f(float a, u32 b)\n}\n", "bad.idl");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IdlError);
    expect((error as IdlError).diagnostics).toHaveLength(1);
    expect((error as IdlError).message).toBe("bad.idl:2:14: error: unknown type 'float' (types: u8..u64, s8..s64, char, bool, int, long, unsigned..., void, string, array<T, N>, projection NAME, rpc_ptr NAME, any_of<...>)");
  });

  it("accepts KSplit's spellings: attributes before and after '*', const, string *, rpc_ptr fields, nested rpc_ptrs, ';' or '{}'", () => {
    const { diagnostics: d, module } = checkIdl(lines(
      "module kernel {",
      "  rpc projection ret_dev [alloc(caller)]* alloc_dev(s32 size, const string [unused]* name, rpc_ptr setup setup) {",
      "    projection < struct net_device > ret_dev {",
      "      u64 features;",
      "      const projection ops [alloc(caller)]* [out] netdev_ops;",
      "    }",
      "    rpc_ptr void setup(projection ret_dev [alloc(callee)] *dev) {}",
      "  }",
      "  projection <struct net_device_ops> ops { rpc_ptr setup init; }",
      "  rpc void done();",
      "}",
    ), "k.idl");
    expect(d).toEqual([]);
    expect(module!.rpcs.map((r) => r.name)).toEqual(["alloc_dev", "done"]);
    expect(module!.rpcPtrs.map((r) => `${r.name}#${r.index}`)).toEqual(["setup#0"]);
    const field = module!.projections.find((p) => p.id === "alloc_dev__ret_dev")!.fields[1];
    expect(field.dirs).toEqual({ call: false, reply: true });
    expect(field.callerMode).toBe("alloc");
  });
});

describe("arrays of projections and pointers to pointers", () => {
  it("what an array of projections can hold, and where", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct s> p { u32 n; array<projection p, null> *a; array<projection p, 0> b; }",
      "  projection <union u, k> v { u32 x; }",
      "  rpc void f(array<projection v, 2> *a, array<projection p **, 2> *b, array<projection p, 2> c);",
      "  rpc void g(array<projection p, 2> [out] *a);",
      "}",
    ))).toEqual([
      "t.idl:2:56: error: field 'a': array<projection p, null> has no terminator (a struct is not zero or NULL); give a size, or make the elements pointers: array<projection p *, null>",
      "t.idl:2:86: error: field 'b': array size 0; an array of projections has 1 to 512 elements",
      "t.idl:4:20: error: an array of union projection 'v': each element would need a discriminator of its own; make the element a struct projection that holds the union and its discriminator",
      "t.idl:4:47: error: array elements can be projections or projection pointers, not pointers to pointers",
      "t.idl:4:71: error: argument 'c': arrays are passed by pointer; write 'array<...> *c'",
      "t.idl:5:38: error: [out] on array of projections argument 'a': the array crosses with the call; mark the projection's fields that come back [out]",
    ]);
  });

  it("'projection p **' is for arguments; alloc and bind name the side that receives *arg", () => {
    expect(diagnostics(lines(
      "module m {",
      "  projection <struct s> p { u32 n; projection p **next; }",
      "  rpc s32 make(projection p [out, alloc(callee)] **r);",
      "  rpc s32 use(projection p [alloc(caller)] **r);",
      "  rpc s32 drop(projection p [in, dealloc(callee)] **r);",
      "  rpc void ints(u64 **a, string **s);",
      "}",
    ))).toEqual([
      "t.idl:2:36: error: field 'next': 'projection p **' is supported for arguments only (an object handed back through an out-parameter); a field holds 'projection p *' or 'array<projection p *, N> *'",
      "t.idl:3:35: error: alloc(callee) on [out] argument 'r': the callee receives nothing through it; the object it stores in *r reaches the caller on the reply, so write alloc(caller) (alloc(caller): the caller makes its copy of the callee's new object)",
      "t.idl:4:29: error: alloc(caller) on argument 'r', which is not [out]: nothing comes back to the caller through it; did you mean alloc(callee)?",
      "t.idl:5:34: error: dealloc(callee) on argument 'r', a pointer to a projection pointer: not supported; pass the object as 'projection p [dealloc(callee)] *' to an rpc that drops it",
      "t.idl:6:17: error: argument 'a': pointers to pointers are supported only as 'projection NAME **' arguments (for an integer the callee hands back, use 'u64 [out] *'; for several, 'array<u64, N> [out] *')",
      "t.idl:6:26: error: argument 's': pointers to pointers are supported only as 'projection NAME **' arguments (for a string the callee fills in, use 'array<char, N> [out] *')",
    ]);
  });
});
