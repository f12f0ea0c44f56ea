// ELF64 constants used by the parser, linker and executable loader.
// Only what LVD needs: x86-64, little-endian, ET_REL and ET_EXEC.

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const EM_X86_64 = 62;

// Section header types.
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;

// Section flags.
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_TLS = 0x400;

// Special section indices.
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// Symbol bindings.
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

// Symbol types.
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

// Symbol visibility (low two bits of st_other).
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// Program header types and flags.
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_TLS = 7;
export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

// x86-64 relocation types (System V psABI numbering).
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

// Sizes of the fixed-layout ELF64 structures.
export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SYM_SIZE = 24;
export const RELA_SIZE = 24;

const MACHINE_NAMES: Record<number, string> = {
  0: "EM_NONE",
  2: "EM_SPARC",
  3: "EM_386",
  8: "EM_MIPS",
  20: "EM_PPC",
  21: "EM_PPC64",
  22: "EM_S390",
  40: "EM_ARM",
  43: "EM_SPARCV9",
  50: "EM_IA_64",
  62: "EM_X86_64",
  183: "EM_AARCH64",
  243: "EM_RISCV",
  258: "EM_LOONGARCH",
};

const TYPE_NAMES: Record<number, string> = {
  0: "ET_NONE",
  1: "ET_REL",
  2: "ET_EXEC",
  3: "ET_DYN",
  4: "ET_CORE",
};

// Names for every x86-64 relocation type, so errors about unsupported
// ones can say what they are (e.g. a TLS relocation) and not just a number.
const RELOC_NAMES: Record<number, string> = {
  0: "R_X86_64_NONE",
  1: "R_X86_64_64",
  2: "R_X86_64_PC32",
  3: "R_X86_64_GOT32",
  4: "R_X86_64_PLT32",
  5: "R_X86_64_COPY",
  6: "R_X86_64_GLOB_DAT",
  7: "R_X86_64_JUMP_SLOT",
  8: "R_X86_64_RELATIVE",
  9: "R_X86_64_GOTPCREL",
  10: "R_X86_64_32",
  11: "R_X86_64_32S",
  12: "R_X86_64_16",
  13: "R_X86_64_PC16",
  14: "R_X86_64_8",
  15: "R_X86_64_PC8",
  16: "R_X86_64_DTPMOD64",
  17: "R_X86_64_DTPOFF64",
  18: "R_X86_64_TPOFF64",
  19: "R_X86_64_TLSGD",
  20: "R_X86_64_TLSLD",
  21: "R_X86_64_DTPOFF32",
  22: "R_X86_64_GOTTPOFF",
  23: "R_X86_64_TPOFF32",
  24: "R_X86_64_PC64",
  25: "R_X86_64_GOTOFF64",
  26: "R_X86_64_GOTPC32",
  27: "R_X86_64_GOT64",
  28: "R_X86_64_GOTPCREL64",
  29: "R_X86_64_GOTPC64",
  30: "R_X86_64_GOTPLT64",
  31: "R_X86_64_PLTOFF64",
  32: "R_X86_64_SIZE32",
  33: "R_X86_64_SIZE64",
  34: "R_X86_64_GOTPC32_TLSDESC",
  35: "R_X86_64_TLSDESC_CALL",
  36: "R_X86_64_TLSDESC",
  37: "R_X86_64_IRELATIVE",
  38: "R_X86_64_RELATIVE64",
  41: "R_X86_64_GOTPCRELX",
  42: "R_X86_64_REX_GOTPCRELX",
};

/** "EM_386 (3)", or "unknown machine (1234)". */
export function machineName(machine: number): string {
  const name = MACHINE_NAMES[machine];
  return name ? `${name} (${machine})` : `unknown machine (${machine})`;
}

/** "ET_DYN (3)", or "unknown type (99)". */
export function typeName(type: number): string {
  const name = TYPE_NAMES[type];
  return name ? `${name} (${type})` : `unknown type (${type})`;
}

/** "R_X86_64_PC32", or "unknown relocation type 99". */
export function relocName(type: number): string {
  return RELOC_NAMES[type] ?? `unknown relocation type ${type}`;
}
