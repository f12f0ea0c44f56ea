// Reading and writing a message's words on the kernel side (docs/glue-abi.md, Encoding).
// Words are bigints holding the unsigned 64-bit value; integers narrower than 64 bits
// travel zero- or sign-extended and are truncated again by the receiver.

import {
  ERR_LENGTH, ERR_MESSAGE, EXT_WORDS, MAX_WORDS, NULL_COUNT, header, headerIndex, headerKind,
} from "../wire.ts";
import { GlueError } from "./glue-error.ts";

/** Integer arrays as the kernel sees them: bytes for 1-byte elements, else numbers or bigints. */
export type IntArray = Uint8Array | number[] | bigint[];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WordWriter {
  private readonly words: bigint[] = [0n];

  put(w: bigint): void {
    if (this.words.length >= MAX_WORDS) throw new GlueError(ERR_LENGTH, `message longer than ${MAX_WORDS} words`);
    this.words.push(BigInt.asUintN(64, w));
  }

  /** Any integer value (a negative one sign-extends); booleans as 0/1. */
  putInt(v: number | bigint | boolean): void {
    this.put(typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v));
  }

  /** Bytes packed little-endian into words, the last one padded with zeros. */
  putBytes(bytes: Uint8Array): void {
    for (let k = 0; k < bytes.length; k += 8) {
      let w = 0n;
      for (let j = Math.min(7, bytes.length - k - 1); j >= 0; j--) w = (w << 8n) | BigInt(bytes[k + j]);
      this.put(w);
    }
  }

  /** A string: its byte length (UTF-8, no NUL) or NULL_COUNT, then its bytes. */
  putString(s: string | null): void {
    if (s === null) return this.put(NULL_COUNT);
    const bytes = encoder.encode(s);
    this.put(BigInt(bytes.length));
    this.putBytes(bytes);
  }

  /** An array: its element count (or NULL_COUNT for a NULL pointer), then its packed elements. */
  putArray(values: IntArray | null, elementBytes: number): void {
    if (values === null) return this.put(NULL_COUNT);
    this.put(BigInt(values.length));
    this.putBytes(packInts(values, elementBytes));
  }

  /** The words, with the header (its count field included) filled in. */
  finish(kind: number, index: number): bigint[] {
    this.words[0] = header(kind, index, this.words.length);
    return this.words;
  }
}

export class WordReader {
  private pos = 1;
  readonly kind: number;
  readonly index: number;

  constructor(readonly words: readonly bigint[]) {
    if (words.length < 1) throw new GlueError(ERR_MESSAGE, "empty message");
    this.kind = headerKind(words[0]);
    this.index = headerIndex(words[0]);
  }

  get(): bigint {
    if (this.pos >= this.words.length) throw new GlueError(ERR_LENGTH, `the message ends at word ${this.pos}`);
    return this.words[this.pos++];
  }

  /** An integer of `bytes` (1, 2 or 4) as a number, truncated like a C cast. */
  getInt(bytes: 1 | 2 | 4, signed: boolean): number {
    const w = this.get();
    return Number(signed ? BigInt.asIntN(bytes * 8, w) : BigInt.asUintN(bytes * 8, w));
  }
  getInt64(signed: boolean): bigint {
    const w = this.get();
    return signed ? BigInt.asIntN(64, w) : w;
  }
  getBool(): boolean {
    return (this.get() & 0xffn) !== 0n;
  }

  /** A count word: null for NULL_COUNT; larger than what the rest of the message can hold is an error. */
  getCount(elementBytes: number): number | null {
    const n = this.get();
    if (n === NULL_COUNT) return null;
    const left = BigInt(this.words.length - this.pos) * 8n;
    if (n * BigInt(elementBytes) > left) throw new GlueError(ERR_LENGTH, `a count of ${n} does not fit in the message`);
    return Number(n);
  }

  getBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k += 8) {
      let w = this.get();
      for (let j = 0; j < 8 && k + j < n; j++) {
        out[k + j] = Number(w & 0xffn);
        w >>= 8n;
      }
    }
    return out;
  }

  getString(): string | null {
    const n = this.getCount(1);
    return n === null ? null : decoder.decode(this.getBytes(n));
  }

  /**
   * An array's count (checked against `expected` when the IDL fixes it) and its elements'
   * bytes. With `withData` false (an [out] array on the call) only the count crosses, and
   * the elements come back zero-filled for the callee to fill.
   */
  private getArrayBytes(elementBytes: number, expected: number | null, withData: boolean): Uint8Array | null {
    const n = withData ? this.getCount(elementBytes) : this.getOutCount(elementBytes);
    if (n === null) return null;
    if (expected !== null && n !== expected) throw new GlueError(ERR_LENGTH, `array of ${n} elements, expected ${expected}`);
    return withData ? this.getBytes(n * elementBytes) : new Uint8Array(n * elementBytes);
  }

  /** An array of 1-byte elements. */
  getByteArray(expected: number | null, withData = true): Uint8Array | null {
    return this.getArrayBytes(1, expected, withData);
  }
  /** An array of 2- or 4-byte elements. */
  getNumberArray(elementBytes: 2 | 4, signed: boolean, expected: number | null, withData = true): number[] | null {
    const bytes = this.getArrayBytes(elementBytes, expected, withData);
    return bytes && (unpackInts(bytes, elementBytes, signed) as number[]);
  }
  /** An array of 8-byte elements. */
  getBigIntArray(signed: boolean, expected: number | null, withData = true): bigint[] | null {
    const bytes = this.getArrayBytes(8, expected, withData);
    return bytes && (unpackInts(bytes, 8, signed) as bigint[]);
  }

  /**
   * An array copied into the caller's own `target` (an [out] array coming back on the
   * reply): the count must be its length.
   */
  getArrayInto(target: IntArray, elementBytes: number, signed: boolean): void {
    const bytes = this.getArrayBytes(elementBytes, target.length, true);
    if (bytes === null) throw new GlueError(ERR_LENGTH, "a NULL array came back for a buffer");
    const values = unpackInts(bytes, elementBytes, signed);
    for (let k = 0; k < target.length; k++) target[k] = values[k];
  }

  /** An array stored inline in an object: it always has its constant count. */
  getInlineArray<T extends IntArray>(array: T | null): T {
    if (array === null) throw new GlueError(ERR_LENGTH, "a NULL array for an inline one");
    return array;
  }

  private getOutCount(elementBytes: number): number | null {
    const n = this.get();
    if (n === NULL_COUNT) return null;
    if (n * BigInt(elementBytes) > BigInt(EXT_WORDS * 8)) throw new GlueError(ERR_LENGTH, `an [out] array of ${n} elements cannot come back in one message`);
    return Number(n);
  }

  /**
   * The count of an array of projections: null for NULL (refused unless `nullable`),
   * `expected` when not null, at most 512 elements, and no more than the rest of the
   * message holds when each element takes at least `minWords` words.
   */
  getObjectCount(expected: number | null, nullable: boolean, minWords: number): number | null {
    const n = this.get();
    if (n === NULL_COUNT) {
      if (!nullable) throw new GlueError(ERR_LENGTH, "a NULL array for an inline one");
      return null;
    }
    if (expected !== null && n !== BigInt(expected)) throw new GlueError(ERR_LENGTH, `array of ${n} elements, expected ${expected}`);
    if (n > BigInt(EXT_WORDS) || (minWords > 0 && n * BigInt(minWords) > BigInt(this.words.length - this.pos))) {
      throw new GlueError(ERR_LENGTH, `an array of ${n} projections does not fit in the message`);
    }
    return Number(n);
  }

  /** The 0/1 word that says whether a pointer argument is NULL. */
  getPresence(): boolean {
    return this.get() !== 0n;
  }
}

export function packInts(values: IntArray, elementBytes: number): Uint8Array {
  if (values instanceof Uint8Array) return values;
  const out = new Uint8Array(values.length * elementBytes);
  const view = new DataView(out.buffer);
  values.forEach((v: number | bigint, k: number) => {
    const at = k * elementBytes;
    if (elementBytes === 8) view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
    else if (elementBytes === 4) view.setUint32(at, Number(v) >>> 0, true);
    else if (elementBytes === 2) view.setUint16(at, Number(v) & 0xffff, true);
    else view.setUint8(at, Number(v) & 0xff);
  });
  return out;
}

export function unpackInts(bytes: Uint8Array, elementBytes: number, signed: boolean): IntArray {
  if (elementBytes === 1) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / elementBytes;
  if (elementBytes === 8) {
    const out: bigint[] = [];
    for (let k = 0; k < n; k++) out.push(signed ? view.getBigInt64(k * 8, true) : view.getBigUint64(k * 8, true));
    return out;
  }
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const at = k * elementBytes;
    if (elementBytes === 4) out.push(signed ? view.getInt32(at, true) : view.getUint32(at, true));
    else out.push(signed ? view.getInt16(at, true) : view.getUint16(at, true));
  }
  return out;
}
