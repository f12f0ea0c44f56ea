// How each supported x86-64 relocation type is computed and stored.
//
// Notation (System V x86-64 psABI): S = symbol address, A = addend,
// P = address of the patched field, G+GOT = address of the symbol's GOT slot.
//
//   type  name                    value       field  overflow check
//   0     R_X86_64_NONE           (nothing)   -      -
//   1     R_X86_64_64             S + A       64     -
//   2     R_X86_64_PC32           S + A - P   32     signed
//   4     R_X86_64_PLT32          S + A - P   32     signed   (no PLT: calls go straight to S)
//   9     R_X86_64_GOTPCREL       G + A - P   32     signed
//   10    R_X86_64_32             S + A       32     unsigned
//   11    R_X86_64_32S            S + A       32     signed
//   12    R_X86_64_16             S + A       16     either   (GNU ld "bitfield": signed or unsigned fits)
//   13    R_X86_64_PC16           S + A - P   16     signed
//   14    R_X86_64_8              S + A       8      either
//   15    R_X86_64_PC8            S + A - P   8      signed
//   24    R_X86_64_PC64           S + A - P   64     -
//   41    R_X86_64_GOTPCRELX      G + A - P   32     signed   (instruction not relaxed)
//   42    R_X86_64_REX_GOTPCRELX  G + A - P   32     signed   (instruction not relaxed)
//
// Everything else (TLS, PLT/GOT-offset forms, dynamic-linker types) is an error.

import {
  R_X86_64_16,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_8,
  R_X86_64_GOTPCREL,
  R_X86_64_GOTPCRELX,
  R_X86_64_NONE,
  R_X86_64_PC16,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PC8,
  R_X86_64_PLT32,
  R_X86_64_REX_GOTPCRELX,
} from "./constants.ts";
import { writeU64 } from "./numbers.ts";

export interface RelocKind {
  /** Bytes patched (0 for R_X86_64_NONE). */
  width: 0 | 1 | 2 | 4 | 8;
  /** Subtract P (the field's own address). */
  pcRelative: boolean;
  /** Use the symbol's GOT slot address instead of the symbol. */
  viaGot: boolean;
  /** Which values fit the field: signed, unsigned, either, or any (64-bit fields). */
  range: "signed" | "unsigned" | "either" | "any";
}

const kind = (width: RelocKind["width"], pcRelative: boolean, range: RelocKind["range"], viaGot = false): RelocKind => ({
  width,
  pcRelative,
  viaGot,
  range,
});

const KINDS: ReadonlyMap<number, RelocKind> = new Map([
  [R_X86_64_NONE, kind(0, false, "any")],
  [R_X86_64_64, kind(8, false, "any")],
  [R_X86_64_PC32, kind(4, true, "signed")],
  [R_X86_64_PLT32, kind(4, true, "signed")],
  [R_X86_64_GOTPCREL, kind(4, true, "signed", true)],
  [R_X86_64_32, kind(4, false, "unsigned")],
  [R_X86_64_32S, kind(4, false, "signed")],
  [R_X86_64_16, kind(2, false, "either")],
  [R_X86_64_PC16, kind(2, true, "signed")],
  [R_X86_64_8, kind(1, false, "either")],
  [R_X86_64_PC8, kind(1, true, "signed")],
  [R_X86_64_PC64, kind(8, true, "any")],
  [R_X86_64_GOTPCRELX, kind(4, true, "signed", true)],
  [R_X86_64_REX_GOTPCRELX, kind(4, true, "signed", true)],
]);

/** Relocation types the linker handles, in numeric order. */
export const SUPPORTED_RELOCATIONS: readonly number[] = [...KINDS.keys()].sort((a, b) => a - b);

/** How a relocation type is computed, or undefined if it is not supported. */
export function relocKind(type: number): RelocKind | undefined {
  return KINDS.get(type);
}

/** The value to store: (S or GOT slot) + A, minus P if PC-relative. */
export function relocValue(k: RelocKind, target: number, addend: number, place: number): number {
  return target + addend - (k.pcRelative ? place : 0);
}

/** Does `value` fit the field? (A description of the allowed range if not.) */
export function relocFits(k: RelocKind, value: number): string | undefined {
  if (!Number.isSafeInteger(value)) return "is not an exact 64-bit integer";
  if (k.range === "any" || k.width === 0) return undefined;
  const bits = k.width * 8;
  const signedMin = -(2 ** (bits - 1));
  const signedMax = 2 ** (bits - 1) - 1;
  const unsignedMax = 2 ** bits - 1;
  switch (k.range) {
    case "signed":
      return value >= signedMin && value <= signedMax ? undefined : `does not fit in signed ${bits} bits`;
    case "unsigned":
      return value >= 0 && value <= unsignedMax ? undefined : `does not fit in unsigned ${bits} bits`;
    case "either":
      return value >= signedMin && value <= unsignedMax ? undefined : `does not fit in ${bits} bits`;
  }
}

/** Store an already range-checked value into the field at `offset`. */
export function relocWrite(view: DataView, offset: number, k: RelocKind, value: number): void {
  switch (k.width) {
    case 0:
      return;
    case 1:
      view.setUint8(offset, value & 0xff);
      return;
    case 2:
      view.setUint16(offset, value & 0xffff, true);
      return;
    case 4:
      view.setUint32(offset, value >>> 0, true);
      return;
    case 8:
      writeU64(view, offset, value);
      return;
  }
}
