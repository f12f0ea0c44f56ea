// The wire format's numbers (docs/glue-abi.md), shared by the generators, the kernel-side
// runtime and tests. drivers/include/lvd/glue.h has the same numbers for C.

/** Message kinds: the header's bits 23:16. */
export const KIND_RPC = 1; // domain -> kernel
export const KIND_RPC_PTR = 2; // kernel -> domain
export const KIND_INIT = 3;
export const KIND_EXIT = 4;
export const KIND_SYSCALL = 5;
export const KIND_REPLY = 0x80;
export const KIND_ERROR = 0x81;

/** Words 0..7 travel in registers, 8..519 in the extended register page. */
export const REGISTER_WORDS = 8;
export const EXT_WORDS = 512;
export const MAX_WORDS = REGISTER_WORDS + EXT_WORDS;

/** Why a receiver refused a message: word 1 of an ERROR reply. */
export const ERR_CAPABILITY = 1; // a name that is not an object of the expected type
export const ERR_LENGTH = 2; // the message ends early, or a count is wrong or too large
export const ERR_MESSAGE = 3; // unknown kind or index
export const ERR_FUNCTION = 4; // an rpc_ptr address the domain never registered
export const ERR_MEMORY = 5; // the receiver could not allocate a copy, or its CSpace is full
export const ERR_VALUE = 6; // a union member index out of range or not matching its discriminator

export const ERROR_NAMES: Record<number, string> = {
  [ERR_CAPABILITY]: "bad capability",
  [ERR_LENGTH]: "bad length",
  [ERR_MESSAGE]: "bad message",
  [ERR_FUNCTION]: "unknown function",
  [ERR_MEMORY]: "out of memory",
  [ERR_VALUE]: "bad value",
};

/** A NULL string or array pointer, in the place of its length. */
export const NULL_COUNT = 0xffff_ffff_ffff_ffffn;

/**
 * Object names (capabilities on the wire): a cptr in the CSpace of the side that first
 * shared the object, with this bit set when that side is the domain. 0 is NULL.
 */
export const DOMAIN_NAME_BIT = 1n << 32n;
export const MAX_CPTR = 0xffff_ffffn;

/** CSpace type numbers of rpc_ptrs (registered domain functions): FN_TYPE_BASE + rpc_ptr index. */
export const FN_TYPE_BASE = 0x10000;

/** Header: index in bits 15:0, kind in 23:16, number of words (header included) in 47:32. */
export function header(kind: number, index: number, count: number): bigint {
  return (BigInt(count) << 32n) | (BigInt(kind) << 16n) | BigInt(index);
}
export function headerKind(w: bigint): number {
  return Number((w >> 16n) & 0xffn);
}
export function headerIndex(w: bigint): number {
  return Number(w & 0xffffn);
}
export function headerCount(w: bigint): number {
  return Number((w >> 32n) & 0xffffn);
}

export function isDomainName(name: bigint): boolean {
  return (name & DOMAIN_NAME_BIT) !== 0n;
}
