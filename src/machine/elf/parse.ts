// ELF64 parser: turns the bytes of an x86-64 little-endian relocatable
// object (ET_REL, the shape of a kernel module) or static executable
// (ET_EXEC) into plain data. It checks every offset and index it follows,
// so the linker and loader can trust what they get; anything malformed is
// an ElfError naming the file and the problem.

import {
  EHDR_SIZE,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EM_X86_64,
  ET_EXEC,
  ET_REL,
  PHDR_SIZE,
  RELA_SIZE,
  SHDR_SIZE,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STT_SECTION,
  SYM_SIZE,
  machineName,
  typeName,
} from "./constants.ts";
import { ElfError } from "./error.ts";
import { hex, readS64, readU64 } from "./numbers.ts";

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  /** Low 32 bits of sh_flags (all flags LVD cares about live there). */
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
  /** The section's bytes: a view into the file, not a copy. Empty for NOBITS. */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in .symtab (relocations refer to symbols by this). */
  index: number;
  /** Symbol name; section symbols get their section's name. */
  name: string;
  /** st_value: an address (signed), a section offset, or the alignment of a COMMON symbol. */
  value: number;
  size: number;
  type: number;
  binding: number;
  visibility: number;
  /** Section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON. */
  shndx: number;
}

export interface ElfRela {
  /** Offset of the patched field inside the target section. */
  offset: number;
  type: number;
  /** Index into ElfFile.symbols; 0 means "no symbol" (S = 0). */
  symbol: number;
  addend: number;
}

export interface ElfRelocationSection {
  /** The SHT_RELA section itself (e.g. ".rela.text"). */
  section: ElfSection;
  /** The section the entries patch (e.g. ".text"). */
  target: ElfSection;
  entries: ElfRela[];
}

export interface ElfSegment {
  type: number;
  /** PF_R / PF_W / PF_X bits. */
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
  /** The segment's file bytes (filesz long): a view into the file. */
  data: Uint8Array;
}

export interface ElfFile {
  /** Name used in error messages (file name, or "<elf>"). */
  name: string;
  bytes: Uint8Array;
  /** ET_REL or ET_EXEC. */
  type: number;
  machine: number;
  /** e_entry (0 for relocatable objects). */
  entry: number;
  /** All section headers, indexed by section number (0 is the null section). */
  sections: ElfSection[];
  /** Contents of .symtab (index 0 is the null symbol); empty if there is none. */
  symbols: ElfSymbol[];
  relocations: ElfRelocationSection[];
  /** Program headers (ET_EXEC); empty for relocatable objects. */
  segments: ElfSegment[];
}

const utf8 = new TextDecoder();

/** Parse an ELF64 x86-64 little-endian ET_REL or ET_EXEC file. */
export function parseElf(bytes: Uint8Array, name = "<elf>"): ElfFile {
  function fail(problem: string): never {
    throw new ElfError(name, problem);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // --- Identification and header -------------------------------------------
  if (bytes.length < 16) fail(`truncated file: ${bytes.length} bytes, too short for an ELF identification`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail("bad magic: not an ELF file (expected 7f 45 4c 46)");
  }
  const cls = bytes[4];
  if (cls !== ELFCLASS64) {
    fail(`not ELF64: EI_CLASS is ${cls}${cls === ELFCLASS32 ? " (ELFCLASS32, a 32-bit file)" : ""}`);
  }
  const data = bytes[5];
  if (data !== ELFDATA2LSB) {
    fail(`not little-endian: EI_DATA is ${data}${data === ELFDATA2MSB ? " (ELFDATA2MSB, big-endian)" : ""}`);
  }
  if (bytes.length < EHDR_SIZE) fail(`truncated header: ${bytes.length} bytes, the ELF64 header needs ${EHDR_SIZE}`);

  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) fail(`wrong machine ${machineName(machine)}, expected EM_X86_64 (62)`);
  if (type !== ET_REL && type !== ET_EXEC) {
    fail(`unsupported type ${typeName(type)}: only ET_REL (1) and ET_EXEC (2) are supported`);
  }
  const entry = readS64(view, 24);
  const phoff = readU64(view, 32);
  const shoff = readU64(view, 40);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);

  // A range of the file that a header points at must lie inside the file.
  const checkRange = (what: string, offset: number, size: number) => {
    if (offset + size > bytes.length) {
      fail(`${what} out of range: offset ${hex(offset)} + size ${hex(size)} is past the end of the file (${hex(bytes.length)} bytes)`);
    }
  };

  // --- Section headers --------------------------------------------------------
  const sections: ElfSection[] = [];
  if (shoff !== 0) {
    if (shnum === 0) fail("extended section numbering (e_shnum = 0) is not supported");
    if (shentsize !== SHDR_SIZE) fail(`bad e_shentsize ${shentsize}, expected ${SHDR_SIZE}`);
    if (shoff + shnum * SHDR_SIZE > bytes.length) {
      fail(`truncated section table: ${shnum} headers at ${hex(shoff)} run past the end of the file (${hex(bytes.length)} bytes)`);
    }
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR_SIZE;
      const section: ElfSection = {
        index: i,
        name: "",
        type: view.getUint32(at + 4, true),
        flags: view.getUint32(at + 8, true),
        addr: readS64(view, at + 16),
        offset: readU64(view, at + 24),
        size: readU64(view, at + 32),
        link: view.getUint32(at + 40, true),
        info: view.getUint32(at + 44, true),
        align: readU64(view, at + 48),
        entsize: readU64(view, at + 56),
        data: new Uint8Array(0),
      };
      if (section.type !== SHT_NOBITS && section.size > 0) {
        checkRange(`section ${i} data`, section.offset, section.size);
        section.data = bytes.subarray(section.offset, section.offset + section.size);
      }
      sections.push(section);
    }
  }

  // Look up a NUL-terminated string in a string table section.
  const stringAt = (table: ElfSection, offset: number, what: string): string => {
    if (offset >= table.data.length) {
      fail(`string table index out of range: ${what} name offset ${offset} is outside section ${table.index} (size ${table.data.length})`);
    }
    const end = table.data.indexOf(0, offset);
    if (end < 0) fail(`string table section ${table.index} is not NUL-terminated (${what} name at ${offset})`);
    return utf8.decode(table.data.subarray(offset, end));
  };
  const sectionAt = (index: number, what: string): ElfSection => {
    const section = sections[index];
    if (section === undefined) fail(`${what} refers to section index ${index}, out of range (${sections.length} sections)`);
    return section;
  };

  if (sections.length > 0 && shstrndx !== SHN_UNDEF) {
    if (shstrndx === SHN_XINDEX) fail("extended section numbering (e_shstrndx = SHN_XINDEX) is not supported");
    if (shstrndx >= sections.length) {
      fail(`string table index out of range: e_shstrndx ${shstrndx} but there are ${sections.length} sections`);
    }
    const shstrtab = sections[shstrndx]!;
    for (const section of sections) {
      const nameOffset = view.getUint32(shoff + section.index * SHDR_SIZE, true);
      section.name = stringAt(shstrtab, nameOffset, `section ${section.index}`);
    }
  }

  // --- Symbol table -----------------------------------------------------------
  const symbols: ElfSymbol[] = [];
  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) fail(`more than one symbol table (sections ${symtabs.map((s) => s.index).join(", ")})`);
  const symtab = symtabs[0];
  if (symtab) {
    if (symtab.entsize !== SYM_SIZE) fail(`symbol table ${symtab.name} has entry size ${symtab.entsize}, expected ${SYM_SIZE}`);
    if (symtab.size % SYM_SIZE !== 0) fail(`symbol table ${symtab.name} size ${symtab.size} is not a multiple of ${SYM_SIZE}`);
    if (sections.some((s) => s.type === SHT_SYMTAB_SHNDX)) fail("extended symbol section indices (SHT_SYMTAB_SHNDX) are not supported");
    const strtab = sectionAt(symtab.link, `symbol table ${symtab.name}`);
    const count = symtab.size / SYM_SIZE;
    for (let i = 0; i < count; i++) {
      const at = symtab.offset + i * SYM_SIZE;
      const info = bytes[at + 4]!;
      const symbol: ElfSymbol = {
        index: i,
        name: stringAt(strtab, view.getUint32(at, true), `symbol ${i}`),
        value: readS64(view, at + 8),
        size: readU64(view, at + 16),
        type: info & 0xf,
        binding: info >> 4,
        visibility: bytes[at + 5]! & 0x3,
        shndx: view.getUint16(at + 6, true),
      };
      if (symbol.shndx === SHN_XINDEX) fail(`symbol ${i} '${symbol.name}' uses SHN_XINDEX, which is not supported`);
      if (symbol.shndx !== SHN_UNDEF && symbol.shndx < SHN_LORESERVE) {
        const section = sectionAt(symbol.shndx, `symbol ${i} '${symbol.name}'`);
        if (symbol.type === STT_SECTION && symbol.name === "") symbol.name = section.name;
      }
      symbols.push(symbol);
    }
  }

  // --- Relocations -------------------------------------------------------------
  const relocations: ElfRelocationSection[] = [];
  for (const section of sections) {
    if (section.type === SHT_REL) fail(`section ${section.name} is SHT_REL; x86-64 objects use SHT_RELA only`);
    if (section.type !== SHT_RELA) continue;
    if (section.entsize !== RELA_SIZE) fail(`relocation section ${section.name} has entry size ${section.entsize}, expected ${RELA_SIZE}`);
    if (section.size % RELA_SIZE !== 0) fail(`relocation section ${section.name} size ${section.size} is not a multiple of ${RELA_SIZE}`);
    if (!symtab || section.link !== symtab.index) {
      fail(`relocation section ${section.name} links to section ${section.link}, which is not the symbol table`);
    }
    const target = sectionAt(section.info, `relocation section ${section.name}`);
    const entries: ElfRela[] = [];
    for (let at = section.offset; at < section.offset + section.size; at += RELA_SIZE) {
      const entry: ElfRela = {
        offset: readU64(view, at),
        type: view.getUint32(at + 8, true),
        symbol: view.getUint32(at + 12, true),
        addend: readS64(view, at + 16),
      };
      const where = `${section.name} entry ${(at - section.offset) / RELA_SIZE}`;
      if (entry.symbol >= symbols.length) {
        fail(`symbol index out of range: ${where} refers to symbol ${entry.symbol}, but ${symtab.name} has ${symbols.length} symbols`);
      }
      // Field widths depend on the type and are checked by the linker; here
      // at least the first byte must be inside the section.
      if (entry.offset >= target.size) {
        fail(`relocation offset out of section: ${where} patches ${target.name}+${hex(entry.offset)}, but ${target.name} is ${hex(target.size)} bytes`);
      }
      entries.push(entry);
    }
    relocations.push({ section, target, entries });
  }

  // --- Program headers --------------------------------------------------------
  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize !== PHDR_SIZE) fail(`bad e_phentsize ${phentsize}, expected ${PHDR_SIZE}`);
    if (phoff + phnum * PHDR_SIZE > bytes.length) {
      fail(`truncated program header table: ${phnum} headers at ${hex(phoff)} run past the end of the file (${hex(bytes.length)} bytes)`);
    }
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * PHDR_SIZE;
      const segment: ElfSegment = {
        type: view.getUint32(at, true),
        flags: view.getUint32(at + 4, true),
        offset: readU64(view, at + 8),
        vaddr: readS64(view, at + 16),
        paddr: readS64(view, at + 24),
        filesz: readU64(view, at + 32),
        memsz: readU64(view, at + 40),
        align: readU64(view, at + 48),
        data: new Uint8Array(0),
      };
      if (segment.filesz > 0) {
        checkRange(`program header ${i} data`, segment.offset, segment.filesz);
        segment.data = bytes.subarray(segment.offset, segment.offset + segment.filesz);
      }
      segments.push(segment);
    }
  }

  return { name, bytes, type, machine, entry, sections, symbols, relocations, segments };
}

/** First section with the given name, if any. */
export function findSection(file: ElfFile, name: string): ElfSection | undefined {
  return file.sections.find((s) => s.name === name);
}
