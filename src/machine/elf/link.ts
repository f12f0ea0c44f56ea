// Static linker for relocatable objects (ET_REL), e.g. a driver built from
// several .c files, loaded like a kernel module at a chosen base address.
//
// Steps: pick the winning definition of every global name; lay out every
// SHF_ALLOC section of every object plus a small GOT and the COMMON
// symbols (see layout.ts); check that every reference resolves, inside the
// objects or through `resolve`; copy section bytes into one image; fill the
// GOT; apply the RELA relocations (supported types: see relocate.ts).

import { ET_REL, SHF_ALLOC, SHN_COMMON, SHF_EXECINSTR, SHF_TLS, SHF_WRITE, SHT_NOBITS, STB_WEAK, STT_FILE, STT_SECTION, relocName } from "./constants.ts";
import { ElfError } from "./error.ts";
import { type Chunk, type Region, PAGE_SIZE, layoutChunks } from "./layout.ts";
import { hex, writeU64 } from "./numbers.ts";
import type { ElfFile, ElfSection } from "./parse.ts";
import { permsFor } from "./perms.ts";
import { relocFits, relocKind, relocValue, relocWrite } from "./relocate.ts";
import { type IndexEntry, type SymbolLocation, SymbolIndex } from "./symbol-index.ts";
import { SymbolResolver, collectGlobals, isGlobal } from "./symbols.ts";

export interface LinkOptions {
  /** Virtual address of the image's first byte; must be 4 KB aligned. May be negative (upper half). */
  base: number;
  /** Address of a symbol no object defines (the kernel's exports), or undefined. */
  resolve?: (name: string) => number | undefined;
}

export interface PlacedSection {
  /** Name of the object file the section comes from. */
  object: string;
  name: string;
  address: number;
  size: number;
}

export interface LinkedImage {
  /** The linked bytes; image[0] is at address `base`. Zero-filled where no section data lands. */
  image: Uint8Array;
  base: number;
  /** image.length: from base to the end of the last region, a whole number of pages. */
  size: number;
  /** Page-aligned address ranges and the permissions their pages should get. */
  regions: Region[];
  /** Defined global (and weak, COMMON) symbols: name -> final address. */
  symbols: Map<string, number>;
  /** Defined local symbols (statics): "object:name" -> final address. */
  locals: Map<string, number>;
  /** Where each SHF_ALLOC section (and the GOT, as object "<linker>") was placed. */
  sections: PlacedSection[];
  /** Nearest symbol at or below an address inside the image, for traces. */
  symbolAt(address: number): SymbolLocation | undefined;
}

const GOT_ENTRY_SIZE = 8;

export function linkObjects(objects: ElfFile[], options: LinkOptions): LinkedImage {
  const { base } = options;
  if (!Number.isSafeInteger(base) || base % PAGE_SIZE !== 0) {
    throw new ElfError("<link>", `base address ${hex(base)} is not a 4 KB aligned integer`);
  }
  for (const file of objects) {
    if (file.type !== ET_REL) throw new ElfError(file.name, "not a relocatable object (ET_REL); cannot link it");
  }

  const globals = collectGlobals(objects);

  // GOT slots: one per distinct symbol referenced through a GOT relocation.
  // Globals share a slot by name; locals get one per (object, symbol).
  const gotKey = (object: number, index: number) => {
    const symbol = objects[object]!.symbols[index]!;
    return isGlobal(symbol) ? `global:${symbol.name}` : `local:${object}:${index}`;
  };
  const gotSlots = new Map<string, { object: number; index: number; slot: number }>();
  objects.forEach((file, object) => {
    for (const rela of file.relocations) {
      if (!(rela.target.flags & SHF_ALLOC)) continue;
      for (const entry of rela.entries) {
        if (!relocKind(entry.type)?.viaGot) continue;
        const key = gotKey(object, entry.symbol);
        if (!gotSlots.has(key)) gotSlots.set(key, { object, index: entry.symbol, slot: gotSlots.size });
      }
    }
  });

  // Everything that needs an address, in order: sections, the GOT, COMMON symbols.
  const chunks: Chunk[] = [];
  const sectionChunks: { object: number; section: ElfSection; chunk: number }[] = [];
  objects.forEach((file, object) => {
    for (const section of file.sections) {
      if (!(section.flags & SHF_ALLOC)) continue;
      if (section.flags & SHF_TLS) throw new ElfError(file.name, `thread-local section ${section.name} is not supported`);
      const perms = permsFor((section.flags & SHF_WRITE) !== 0, (section.flags & SHF_EXECINSTR) !== 0);
      if (!perms) throw new ElfError(file.name, `section ${section.name} is both writable and executable, which is not supported`);
      sectionChunks.push({ object, section, chunk: chunks.length });
      chunks.push({ perms, size: section.size, align: section.align, nobits: section.type === SHT_NOBITS });
    }
  });
  // The GOT is only written here, at link time, so it can be read-only.
  const gotChunk = chunks.length;
  chunks.push({ perms: "r", size: gotSlots.size * GOT_ENTRY_SIZE, align: GOT_ENTRY_SIZE, nobits: false });
  const commons = [...globals.values()].filter((g) => g.rank === 2);
  const firstCommonChunk = chunks.length;
  for (const common of commons) {
    chunks.push({ perms: "rw", size: common.commonSize, align: common.commonAlign, nobits: true });
  }

  const layout = layoutChunks(chunks, base);
  const sectionAddress = objects.map(() => new Map<number, number>());
  for (const { object, section, chunk } of sectionChunks) sectionAddress[object]!.set(section.index, layout.addresses[chunk]!);
  const gotAddress = layout.addresses[gotChunk]!;
  const commonAddress = new Map(commons.map((c, i) => [c.name, layout.addresses[firstCommonChunk + i]!]));

  const linkerSymbols = new Map([["_GLOBAL_OFFSET_TABLE_", gotAddress]]);
  const resolver = new SymbolResolver(objects, globals, sectionAddress, commonAddress, linkerSymbols, options.resolve);
  resolver.checkUndefined();

  // Copy section bytes (NOBITS stays zero) and fill the GOT.
  const image = new Uint8Array(layout.size);
  const view = new DataView(image.buffer);
  for (const { section, chunk } of sectionChunks) {
    if (section.type !== SHT_NOBITS) image.set(section.data, layout.addresses[chunk]! - base);
  }
  for (const { object, index, slot } of gotSlots.values()) {
    writeU64(view, gotAddress - base + slot * GOT_ENTRY_SIZE, resolver.address(object, index));
  }

  // Apply relocations to every placed section.
  objects.forEach((file, object) => {
    for (const rela of file.relocations) {
      const sectionStart = sectionAddress[object]!.get(rela.target.index);
      if (sectionStart === undefined) continue; // e.g. .rela.debug_*: target not loaded
      for (const entry of rela.entries) {
        const symbol = file.symbols[entry.symbol]!;
        const symbolName = entry.symbol === 0 ? "<no symbol>" : symbol.name;
        const where = `${rela.target.name}+${hex(entry.offset)}`;
        const kind = relocKind(entry.type);
        if (!kind) {
          const known = relocName(entry.type);
          const what = known.startsWith("unknown") ? known : `unsupported relocation type ${entry.type} (${known})`;
          throw new ElfError(file.name, `${what} at ${where} against '${symbolName}'`);
        }
        if (entry.offset + kind.width > rela.target.size) {
          throw new ElfError(
            file.name,
            `relocation offset out of section: ${relocName(entry.type)} at ${where} patches ${kind.width} bytes, but ${rela.target.name} is ${hex(rela.target.size)} bytes`,
          );
        }
        const place = sectionStart + entry.offset;
        const target = kind.viaGot
          ? gotAddress + gotSlots.get(gotKey(object, entry.symbol))!.slot * GOT_ENTRY_SIZE
          : resolver.address(object, entry.symbol);
        const value = relocValue(kind, target, entry.addend, place);
        const problem = relocFits(kind, value);
        if (problem) {
          throw new ElfError(
            file.name,
            `relocation ${relocName(entry.type)} at ${where} against '${symbolName}' overflows: value ${hex(value)} ${problem}`,
          );
        }
        relocWrite(view, place - base, kind, value);
      }
    }
  });

  // Symbol tables and the address -> name index.
  const symbols = new Map<string, number>();
  const locals = new Map<string, number>();
  const indexEntries: IndexEntry[] = [];
  objects.forEach((file, object) => {
    for (const symbol of file.symbols) {
      if (symbol.index === 0 || symbol.name === "" || symbol.type === STT_SECTION || symbol.type === STT_FILE) continue;
      const address = resolver.definedAddress(object, symbol);
      if (address === undefined) continue;
      const winner = isGlobal(symbol) ? globals.get(symbol.name) : undefined;
      if (winner && winner.object === object && winner.symbol === symbol) {
        symbols.set(symbol.name, address);
        indexEntries.push({ name: symbol.name, address, priority: symbol.binding === STB_WEAK ? 2 : 3 });
      } else if (!isGlobal(symbol)) {
        locals.set(`${file.name}:${symbol.name}`, address);
        indexEntries.push({ name: symbol.name, address, priority: 1 });
      } else if (symbol.shndx !== SHN_COMMON) {
        // An overridden weak (or merged COMMON) definition: still in the image, name it for traces.
        indexEntries.push({ name: `${file.name}:${symbol.name}`, address, priority: 1 });
      }
    }
  });
  const sections: PlacedSection[] = sectionChunks.map(({ object, section, chunk }) => ({
    object: objects[object]!.name,
    name: section.name,
    address: layout.addresses[chunk]!,
    size: section.size,
  }));
  if (gotSlots.size > 0) sections.push({ object: "<linker>", name: ".got", address: gotAddress, size: gotSlots.size * GOT_ENTRY_SIZE });
  for (const s of sections) indexEntries.push({ name: `${s.object}:${s.name}`, address: s.address, priority: 0 });
  const index = new SymbolIndex(indexEntries, base, base + layout.size);

  return {
    image,
    base,
    size: layout.size,
    regions: layout.regions,
    symbols,
    locals,
    sections,
    symbolAt: (address) => index.lookup(address),
  };
}
