// ELF64 support for LVD: parse x86-64 objects and static executables, link
// relocatable objects (drivers, loaded like kernel modules) into one image at
// a chosen address, and describe static executables for loading.
//
// Browser-safe: works on Uint8Array/DataView only, no Node APIs.
//
// Supported relocations (details in elf/relocate.ts):
//   R_X86_64_NONE (0), 64 (1), PC32 (2), PLT32 (4, as PC32), GOTPCREL (9),
//   32 (10), 32S (11), 16 (12), PC16 (13), 8 (14), PC8 (15), PC64 (24),
//   GOTPCRELX (41), REX_GOTPCRELX (42). The GOT forms use a small GOT built in
//   the image; instructions are not relaxed.

export { ElfError } from "./elf/error.ts";
export { parseElf, findSection } from "./elf/parse.ts";
export type { ElfFile, ElfSection, ElfSymbol, ElfRela, ElfRelocationSection, ElfSegment } from "./elf/parse.ts";
export { linkObjects } from "./elf/link.ts";
export type { LinkOptions, LinkedImage, PlacedSection } from "./elf/link.ts";
export { loadExecutable } from "./elf/exec.ts";
export type { LoadSegment, LoadedExecutable } from "./elf/exec.ts";
export type { Region } from "./elf/layout.ts";
export { PAGE_SIZE } from "./elf/layout.ts";
export type { Perms } from "./elf/perms.ts";
export type { SymbolLocation } from "./elf/symbol-index.ts";
export { SUPPORTED_RELOCATIONS } from "./elf/relocate.ts";
export * from "./elf/constants.ts";
