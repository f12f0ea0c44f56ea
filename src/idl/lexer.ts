// Lexer: IDL text -> tokens, skipping blanks and comments (// to the end of the line,
// /* ... */). Keywords are ordinary identifiers here; the parser decides by context, so
// `in` or `out` remain usable as field names outside attribute brackets.
//
// One special form: after the word `header`, `<path/to/file.h>` is a single path token
// (a C include path is not made of IDL tokens).

import type { Pos } from "./types.ts";
import type { DiagnosticBag } from "./diagnostics.ts";

export type TokenKind = "ident" | "number" | "string" | "path" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The text (for strings and paths: without the quotes or angle brackets). */
  readonly text: string;
  /** For numbers. */
  readonly value?: bigint;
  readonly pos: Pos;
}

const PUNCTUATION = "{}()[]<>,;*+-/";

export function tokenize(source: string, diags: DiagnosticBag): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (offset: number): Pos => ({ line, column: offset - lineStart + 1, offset });
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };

  while (i < source.length) {
    const ch = source[i];
    if (ch === "\n") {
      newline(i);
      i++;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v") {
      i++;
      continue;
    }
    if (ch === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && source[i + 1] === "*") {
      const start = pos(i);
      i += 2;
      while (i < source.length && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") newline(i);
        i++;
      }
      if (i >= source.length) {
        diags.error(start, "unterminated comment: '/*' has no matching '*/'");
        break;
      }
      i += 2;
      continue;
    }
    const start = i;
    if (isIdentStart(ch)) {
      while (i < source.length && isIdentPart(source[i])) i++;
      tokens.push({ kind: "ident", text: source.slice(start, i), pos: pos(start) });
      continue;
    }
    if (ch >= "0" && ch <= "9") {
      const hex = ch === "0" && (source[i + 1] === "x" || source[i + 1] === "X");
      i += hex ? 2 : 0;
      const digits = hex ? /[0-9a-fA-F]/ : /[0-9]/;
      while (i < source.length && digits.test(source[i])) i++;
      const text = source.slice(start, i);
      if (i < source.length && isIdentPart(source[i])) {
        while (i < source.length && isIdentPart(source[i])) i++;
        diags.error(pos(start), `malformed number '${source.slice(start, i)}'`);
        continue;
      }
      if (hex && text.length === 2) {
        diags.error(pos(start), `malformed number '${text}': no hexadecimal digits`);
        continue;
      }
      tokens.push({ kind: "number", text, value: BigInt(text), pos: pos(start) });
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < source.length && source[i] !== '"' && source[i] !== "\n") i++;
      if (source[i] !== '"') {
        diags.error(pos(start), "unterminated string: missing closing '\"'");
        continue;
      }
      i++;
      tokens.push({ kind: "string", text: source.slice(start + 1, i - 1), pos: pos(start) });
      continue;
    }
    if (ch === "<" && tokens.length > 0 && tokens[tokens.length - 1].kind === "ident" && tokens[tokens.length - 1].text === "header") {
      i++;
      while (i < source.length && source[i] !== ">" && source[i] !== "\n") i++;
      if (source[i] !== ">") {
        diags.error(pos(start), "unterminated header path: missing '>'");
        continue;
      }
      i++;
      tokens.push({ kind: "path", text: source.slice(start + 1, i - 1), pos: pos(start) });
      continue;
    }
    if (PUNCTUATION.includes(ch)) {
      i++;
      tokens.push({ kind: "punct", text: ch, pos: pos(start) });
      continue;
    }
    diags.error(pos(start), `unexpected character '${printable(ch)}'`);
    i++;
  }
  tokens.push({ kind: "eof", text: "end of file", pos: pos(i) });
  return tokens;
}

function isIdentStart(ch: string): boolean {
  return (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || ch === "_";
}

function isIdentPart(ch: string): boolean {
  return isIdentStart(ch) || (ch >= "0" && ch <= "9");
}

function printable(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
}
