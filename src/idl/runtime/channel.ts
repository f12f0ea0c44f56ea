// What generated kernel-side glue needs from the kernel, for one domain: a way to send a
// message into the domain, the domain's CSpace, and guest memory with an allocator for
// the kernel's copies of shared objects (DESIGN.md: what a domain could attack lives in
// guest memory, so the kernel's objects do too).

import type { KernelPath } from "../../kernel/thread.ts";
import type { CSpace } from "./cspace.ts";

export type { KernelPath };

/** Guest memory as kernel code sees it (src/kernel/guest-memory.ts GuestMemory fits). Reads are unsigned. */
export interface GlueMemory {
  read8(va: number): number;
  read16(va: number): number;
  read32(va: number): number;
  write8(va: number, v: number): void;
  write16(va: number, v: number): void;
  write32(va: number, v: number): void;
  readBytes(va: number, n: number): Uint8Array;
  writeBytes(va: number, data: Uint8Array): void;
}

export interface GlueChannel {
  /** Sends a message (words, header first) into the domain; returns its reply's words. */
  callDomain(words: bigint[]): KernelPath<bigint[]>;
  readonly cspace: CSpace;
  readonly mem: GlueMemory;
  /** Kernel heap in guest memory: 8-byte aligned; throws when exhausted. */
  alloc(bytes: number): number;
  free(va: number): void;
}

/** A kernel implementation may answer directly or run a kernel path (to block, or call the domain back). */
export type GlueResult<T> = T | KernelPath<T>;

/** A pointer to an integer argument: the callee reads and writes `value`. */
export interface Box<T> {
  value: T;
}
