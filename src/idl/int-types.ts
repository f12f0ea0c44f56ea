// The integer types of the IDL: their C spelling, size and signedness on x86-64
// (LP64: long is 8 bytes; char is signed).

import type { IntName, IntType } from "./types.ts";

const TABLE: Record<IntName, Omit<IntType, "name" | "isBool">> = {
  u8: { c: "u8", bytes: 1, signed: false },
  u16: { c: "u16", bytes: 2, signed: false },
  u32: { c: "u32", bytes: 4, signed: false },
  u64: { c: "u64", bytes: 8, signed: false },
  s8: { c: "s8", bytes: 1, signed: true },
  s16: { c: "s16", bytes: 2, signed: true },
  s32: { c: "s32", bytes: 4, signed: true },
  s64: { c: "s64", bytes: 8, signed: true },
  char: { c: "char", bytes: 1, signed: true },
  "signed char": { c: "signed char", bytes: 1, signed: true },
  "unsigned char": { c: "unsigned char", bytes: 1, signed: false },
  // _Bool rather than bool: a driver header may define bool itself (Linux does).
  bool: { c: "_Bool", bytes: 1, signed: false },
  short: { c: "short", bytes: 2, signed: true },
  "unsigned short": { c: "unsigned short", bytes: 2, signed: false },
  int: { c: "int", bytes: 4, signed: true },
  "unsigned int": { c: "unsigned int", bytes: 4, signed: false },
  long: { c: "long", bytes: 8, signed: true },
  "unsigned long": { c: "unsigned long", bytes: 8, signed: false },
  "long long": { c: "long long", bytes: 8, signed: true },
  "unsigned long long": { c: "unsigned long long", bytes: 8, signed: false },
  size_t: { c: "size_t", bytes: 8, signed: false },
};

export function intType(name: IntName): IntType {
  return { name, ...TABLE[name], isBool: name === "bool" };
}
