// Calls across the boundary on the kernel side: serving the domain's rpcs (the
// dispatcher's ERROR replies), calling the domain's functions (rpc_ptrs) and the
// trampolines that make a domain function address look like a TS function.

import type { Box, GlueChannel, GlueResult, KernelPath } from "./channel.ts";
import { GlueError } from "./glue-error.ts";
import { WordReader } from "./words.ts";
import { ERR_MESSAGE, ERR_VALUE, KIND_ERROR, KIND_REPLY, ERROR_NAMES, header } from "../wire.ts";

export type { Box };

/** The value of a kernel implementation's answer, running it first when it is a kernel path. */
export function* settle<T>(result: GlueResult<T>): KernelPath<T> {
  if (isPath(result)) return yield* result;
  return result as T;
}

function isPath<T>(v: GlueResult<T>): v is KernelPath<T> {
  return typeof v === "object" && v !== null && typeof (v as { next?: unknown }).next === "function" && typeof (v as { throw?: unknown }).throw === "function";
}

/** An ERROR reply for the request `index`: the header and the reason. */
export function errorReply(index: number, code: number): bigint[] {
  return [header(KIND_ERROR, index, 2), BigInt(code)];
}

/**
 * Runs one request through a callee stub; a GlueError (the domain sent something the
 * glue refuses, or a domain callback the kernel made refused) becomes an ERROR reply.
 */
export function* serve(index: number, stub: () => KernelPath<bigint[]>): KernelPath<bigint[]> {
  try {
    return yield* stub();
  } catch (e) {
    if (e instanceof GlueError) return errorReply(index, e.code);
    throw e;
  }
}

/** Sends a call into the domain and checks the reply is the reply to it; ERROR throws. */
export function* callDomain(ch: GlueChannel, words: bigint[], what: string): KernelPath<WordReader> {
  const index = Number(words[0] & 0xffffn);
  const reply = new WordReader(yield* ch.callDomain(words));
  if (reply.kind === KIND_ERROR) {
    const code = reply.words.length > 1 ? Number(reply.words[1]) : 0;
    throw new GlueError(code, `the domain refused ${what} (${ERROR_NAMES[code] ?? code})`);
  }
  if (reply.kind !== KIND_REPLY || reply.index !== index) {
    throw new GlueError(ERR_MESSAGE, `the domain answered ${what} with kind 0x${reply.kind.toString(16)} index ${reply.index}`);
  }
  return reply;
}

/** A domain function as the kernel holds it: callable, and still knowing its address. */
export interface DomainFunction {
  readonly address: number;
}

export function trampoline<F extends (...args: never[]) => unknown>(address: number, call: F): F & DomainFunction {
  return Object.assign(call, { address });
}

/** The word for a function pointer: its address (0 for NULL). */
export function functionWord(f: DomainFunction | null): bigint {
  return f === null ? 0n : BigInt.asUintN(64, BigInt(f.address));
}

/** A received function address (upper-half addresses as negative numbers, like GuestMemory); 0 is NULL. */
export function functionAddress(word: bigint): number {
  return Number(BigInt.asIntN(64, word));
}

/** For a union or any_of: the member the sender's discriminator selects, which must exist. */
export function memberIndex(value: number | bigint, members: number, what: string): number {
  const v = BigInt(value);
  if (v < 0n || v >= BigInt(members)) throw new GlueError(ERR_VALUE, `${what} selects member ${v} of ${members}`);
  return Number(v);
}

/** The member index word a receiver read: it must be the one its own copy of the discriminator selects. */
export function checkMember(word: bigint, expected: number | bigint, members: number, what: string): number {
  if (word !== BigInt(expected) || word >= BigInt(members)) {
    throw new GlueError(ERR_VALUE, `${what}: member ${word} sent, the discriminator selects ${expected} of ${members}`);
  }
  return Number(word);
}

/** Division in an array size: a zero divisor (it came in a message) is a bad value. */
export function sizeDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new GlueError(ERR_VALUE, "an array size divides by zero");
  return a / b;
}
