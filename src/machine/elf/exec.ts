// Loader view of a static executable (ET_EXEC, e.g. linked with
// `gcc -static -nostdlib -Wl,-e,lvd_main`): the PT_LOAD segments to copy into
// memory, the entry point, and its symbols. Nothing is relocated: a static
// executable already runs at the addresses it was linked for.

import { ET_EXEC, PF_W, PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_TLS, SHN_UNDEF, STB_LOCAL, STB_WEAK, STT_FILE, STT_SECTION } from "./constants.ts";
import { ElfError } from "./error.ts";
import { hex } from "./numbers.ts";
import type { ElfFile } from "./parse.ts";
import { type Perms, permsFor } from "./perms.ts";
import { type IndexEntry, type SymbolLocation, SymbolIndex } from "./symbol-index.ts";

export interface LoadSegment {
  /** Virtual address of the segment's first byte. */
  vaddr: number;
  /** Bytes from the file (p_filesz); the rest up to memsz is zero-filled. */
  data: Uint8Array;
  /** Bytes of memory the segment occupies (>= data.length). */
  memsz: number;
  perms: Perms;
}

export interface LoadedExecutable {
  entry: number;
  /** PT_LOAD segments in file order. */
  segments: LoadSegment[];
  /** Defined global and weak symbols: name -> address (empty if the file is stripped). */
  symbols: Map<string, number>;
  /** Nearest symbol at or below an address inside a segment, for traces. */
  symbolAt(address: number): SymbolLocation | undefined;
}

export function loadExecutable(file: ElfFile): LoadedExecutable {
  const fail = (problem: string) => new ElfError(file.name, problem);
  if (file.type !== ET_EXEC) throw fail("not a static executable (ET_EXEC)");

  const segments: LoadSegment[] = [];
  file.segments.forEach((ph, i) => {
    if (ph.type === PT_INTERP || ph.type === PT_DYNAMIC) throw fail("dynamically linked executables are not supported; link with -static");
    if (ph.type === PT_TLS) throw fail("thread-local storage (PT_TLS) is not supported");
    if (ph.type !== PT_LOAD) return;
    if (ph.memsz < ph.filesz) throw fail(`program header ${i}: p_memsz ${hex(ph.memsz)} is smaller than p_filesz ${hex(ph.filesz)}`);
    const perms = permsFor((ph.flags & PF_W) !== 0, (ph.flags & PF_X) !== 0);
    if (!perms) throw fail(`program header ${i} at ${hex(ph.vaddr)} is both writable and executable, which is not supported`);
    segments.push({ vaddr: ph.vaddr, data: ph.data, memsz: ph.memsz, perms });
  });
  if (segments.length === 0) throw fail("no PT_LOAD segments");
  if (!segments.some((s) => s.perms === "rx" && file.entry >= s.vaddr && file.entry < s.vaddr + s.memsz)) {
    throw fail(`entry point ${hex(file.entry)} is not inside an executable segment`);
  }

  const symbols = new Map<string, number>();
  const entries: IndexEntry[] = [];
  for (const symbol of file.symbols) {
    if (symbol.index === 0 || symbol.name === "" || symbol.shndx === SHN_UNDEF) continue;
    if (symbol.type === STT_SECTION || symbol.type === STT_FILE) continue;
    const local = symbol.binding === STB_LOCAL;
    if (!local) symbols.set(symbol.name, symbol.value);
    entries.push({ name: symbol.name, address: symbol.value, priority: local ? 1 : symbol.binding === STB_WEAK ? 2 : 3 });
  }
  const start = Math.min(...segments.map((s) => s.vaddr));
  const end = Math.max(...segments.map((s) => s.vaddr + s.memsz));
  const index = new SymbolIndex(entries, start, end);

  return { entry: file.entry, segments, symbols, symbolAt: (address) => index.lookup(address) };
}
