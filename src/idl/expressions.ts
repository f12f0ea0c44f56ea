// Integer expressions of array sizes and union discriminators: the names they use, their
// value when they are constant, and their text in generated C and TypeScript.

import type { Expr } from "./types.ts";

export function exprNames(e: Expr, into: Expr[] = []): Expr[] {
  if (e.kind === "name") into.push(e);
  else if (e.kind === "binary") {
    exprNames(e.left, into);
    exprNames(e.right, into);
  }
  return into;
}

/** The value of an expression without names, or null (division by zero gives null too). */
export function constValue(e: Expr): bigint | null {
  switch (e.kind) {
    case "number":
      return e.value;
    case "name":
      return null;
    case "binary": {
      const l = constValue(e.left), r = constValue(e.right);
      if (l === null || r === null) return null;
      switch (e.op) {
        case "+": return l + r;
        case "-": return l - r;
        case "*": return l * r;
        case "/": return r === 0n ? null : l / r;
      }
    }
  }
}

/** C text, each name replaced by `name(n)`; computed in u64 like the wire's count word. */
export function exprC(e: Expr, name: (n: string) => string): string {
  switch (e.kind) {
    case "number":
      return `${e.value}ull`;
    case "name":
      return `(u64)${name(e.name)}`;
    case "binary":
      // Division by a zero that came in a message must not fault: lvd_div gives a size no
      // array has, so the receiver refuses it.
      if (e.op === "/") return `lvd_div(${exprC(e.left, name)}, ${exprC(e.right, name)})`;
      return `(${exprC(e.left, name)} ${e.op} ${exprC(e.right, name)})`;
  }
}

/** TypeScript text evaluating to a bigint, each name replaced by `name(n)` (any number or bigint). */
export function exprTs(e: Expr, name: (n: string) => string): string {
  switch (e.kind) {
    case "number":
      return `${e.value}n`;
    case "name":
      return `BigInt(${name(e.name)})`;
    case "binary":
      // A zero divisor from a message is the sender's error (ERROR), not a RangeError.
      if (e.op === "/") return `sizeDiv(${exprTs(e.left, name)}, ${exprTs(e.right, name)})`;
      return `(${exprTs(e.left, name)} ${e.op} ${exprTs(e.right, name)})`;
  }
}

/** The expression as written in the IDL, for comments and messages. */
export function exprText(e: Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "name":
      return e.name;
    case "binary": {
      const wrap = (x: Expr) => (x.kind === "binary" && (e.op === "*" || e.op === "/") && (x.op === "+" || x.op === "-") ? `(${exprText(x)})` : exprText(x));
      const right = e.right.kind === "binary" && (e.op === "-" || e.op === "/" || ((e.op === "*") && (e.right.op === "+" || e.right.op === "-"))) ? `(${exprText(e.right)})` : wrap(e.right);
      return `${wrap(e.left)} ${e.op} ${right}`;
    }
  }
}
