// Address layout for the relocatable linker. Pure arithmetic: given the
// chunks to place (sections, the GOT, COMMON symbols) it decides where each
// one goes. Chunks are grouped executable, then read-only, then writable;
// each group starts on a 4 KB page so the groups can get page-granular
// permissions. Inside a group chunks keep their order, except zero-filled
// (NOBITS) chunks go last so the writable group ends in one bss run.

import type { Perms } from "./perms.ts";
import { alignUp } from "./numbers.ts";

export const PAGE_SIZE = 4096;

export interface Chunk {
  perms: Perms;
  size: number;
  /** Required alignment in bytes (0 or 1 = none). */
  align: number;
  /** True for zero-filled memory with no file bytes (.bss, COMMON). */
  nobits: boolean;
}

export interface Region {
  /** Virtual address of the first byte (page aligned). */
  start: number;
  /** Length in bytes, a whole number of pages. */
  size: number;
  perms: Perms;
}

export interface Layout {
  /** Address of each chunk, same order as the input. */
  addresses: number[];
  /** Bytes from base to the end of the last region (page multiple). */
  size: number;
  regions: Region[];
}

const GROUP_ORDER: Perms[] = ["rx", "r", "rw"];

/** Place chunks starting at `base`, which must be page aligned. */
export function layoutChunks(chunks: Chunk[], base: number): Layout {
  const addresses: number[] = new Array(chunks.length).fill(0);
  const regions: Region[] = [];
  let cursor = base;
  for (const perms of GROUP_ORDER) {
    const members = chunks.map((chunk, index) => ({ chunk, index })).filter((m) => m.chunk.perms === perms);
    const ordered = [...members.filter((m) => !m.chunk.nobits), ...members.filter((m) => m.chunk.nobits)];
    const start = alignUp(cursor, PAGE_SIZE);
    cursor = start;
    for (const { chunk, index } of ordered) {
      cursor = alignUp(cursor, chunk.align);
      addresses[index] = cursor;
      cursor += chunk.size;
    }
    // Round the region out to whole pages; an empty group gets no region
    // (and does not advance the cursor past its page boundary).
    const end = alignUp(cursor, PAGE_SIZE);
    if (end > start) regions.push({ start, size: end - start, perms });
    cursor = end;
  }
  return { addresses, size: cursor - base, regions };
}
