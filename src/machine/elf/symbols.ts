// Symbol resolution for the relocatable linker.
//
// Global rules (as GNU ld for static links):
//   - a strong (STB_GLOBAL / STB_GNU_UNIQUE) definition beats a COMMON one,
//     which beats a weak (STB_WEAK) one;
//   - two strong definitions of one name are an error;
//   - several COMMON symbols of one name merge (largest size, largest alignment);
//   - among weak definitions the first one wins.
// References that no object defines go to symbols the linker itself
// provides (_GLOBAL_OFFSET_TABLE_, which the assembler references whenever
// GOT relocations are used), then to the caller's `resolve` (the kernel's
// export table); an undefined weak reference that stays unresolved is 0,
// any other is an error.

import {
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  STB_LOCAL,
  STB_WEAK,
  STT_GNU_IFUNC,
  STT_TLS,
} from "./constants.ts";
import { ElfError } from "./error.ts";
import type { ElfFile, ElfSymbol } from "./parse.ts";

/** The winning definition of a global name. */
export interface GlobalDefinition {
  name: string;
  /** 3 = strong, 2 = COMMON, 1 = weak. */
  rank: 1 | 2 | 3;
  object: number;
  symbol: ElfSymbol;
  /** For COMMON winners: merged size and alignment. */
  commonSize: number;
  commonAlign: number;
}

export function isGlobal(symbol: ElfSymbol): boolean {
  return symbol.binding !== STB_LOCAL;
}

/** Pick the winning definition for every global name defined by the objects. */
export function collectGlobals(objects: readonly ElfFile[]): Map<string, GlobalDefinition> {
  const globals = new Map<string, GlobalDefinition>();
  objects.forEach((file, object) => {
    for (const symbol of file.symbols) {
      if (!isGlobal(symbol) || symbol.shndx === SHN_UNDEF) continue;
      const isCommon = symbol.shndx === SHN_COMMON;
      const rank = isCommon ? 2 : symbol.binding === STB_WEAK ? 1 : 3;
      const candidate: GlobalDefinition = {
        name: symbol.name,
        rank,
        object,
        symbol,
        // For COMMON symbols st_value holds the required alignment.
        commonSize: isCommon ? symbol.size : 0,
        commonAlign: isCommon ? symbol.value : 0,
      };
      const current = globals.get(symbol.name);
      if (!current || rank > current.rank) {
        globals.set(symbol.name, candidate);
      } else if (rank === 3 && current.rank === 3) {
        throw new ElfError(
          file.name,
          `duplicate definition of '${symbol.name}': already defined in ${objects[current.object]!.name}`,
        );
      } else if (rank === 2 && current.rank === 2) {
        current.commonSize = Math.max(current.commonSize, candidate.commonSize);
        current.commonAlign = Math.max(current.commonAlign, candidate.commonAlign);
      }
    }
  });
  return globals;
}

/**
 * Final addresses of symbols, once sections and COMMON symbols are placed.
 * `sectionAddress[object].get(sectionIndex)` is the address of a placed
 * (SHF_ALLOC) section; `commonAddress` maps COMMON winners to their bss slot.
 */
export class SymbolResolver {
  private readonly externals = new Map<string, number | undefined>();

  constructor(
    private readonly objects: readonly ElfFile[],
    private readonly globals: ReadonlyMap<string, GlobalDefinition>,
    private readonly sectionAddress: ReadonlyArray<ReadonlyMap<number, number>>,
    private readonly commonAddress: ReadonlyMap<string, number>,
    private readonly linkerSymbols: ReadonlyMap<string, number>,
    private readonly resolve?: (name: string) => number | undefined,
  ) {}

  /** Address of a symbol defined in `object` itself (undefined if it is not placed in the image). */
  definedAddress(object: number, symbol: ElfSymbol): number | undefined {
    if (symbol.shndx === SHN_ABS) return symbol.value;
    if (symbol.shndx === SHN_COMMON) return this.commonAddress.get(symbol.name);
    if (symbol.shndx === SHN_UNDEF || symbol.shndx >= SHN_LORESERVE) return undefined;
    const section = this.sectionAddress[object]!.get(symbol.shndx);
    return section === undefined ? undefined : section + symbol.value;
  }

  /** Address a global name resolves to from outside the objects: linker-provided, or via `resolve` (cached). */
  external(name: string): number | undefined {
    const provided = this.linkerSymbols.get(name);
    if (provided !== undefined) return provided;
    if (!this.externals.has(name)) {
      const value = this.resolve?.(name);
      if (value !== undefined && !Number.isSafeInteger(value)) {
        throw new ElfError("<link>", `resolve('${name}') returned ${value}, not an integer address`);
      }
      this.externals.set(name, value);
    }
    return this.externals.get(name);
  }

  /** Throw one ElfError listing every strong reference nothing defines. */
  checkUndefined(): void {
    const missing: { name: string; object: string }[] = [];
    for (const file of this.objects) {
      for (const symbol of file.symbols) {
        if (symbol.index === 0 || symbol.shndx !== SHN_UNDEF || symbol.binding === STB_WEAK) continue;
        if (!isGlobal(symbol) || this.globals.has(symbol.name) || this.external(symbol.name) !== undefined) continue;
        if (!missing.some((m) => m.name === symbol.name && m.object === file.name)) {
          missing.push({ name: symbol.name, object: file.name });
        }
      }
    }
    if (missing.length > 0) {
      const list = missing.map((m) => `undefined symbol '${m.name}' referenced by ${m.object}`).join("; ");
      throw new ElfError(missing[0]!.object, list);
    }
  }

  /** Final address S of symbol `index` of `object`, as a relocation sees it. */
  address(object: number, index: number): number {
    const file = this.objects[object]!;
    const symbol = file.symbols[index]!;
    if (index === 0) return 0; // "no symbol": S = 0
    if (symbol.type === STT_TLS) throw new ElfError(file.name, `thread-local symbol '${symbol.name}' is not supported`);
    if (symbol.type === STT_GNU_IFUNC) throw new ElfError(file.name, `IFUNC symbol '${symbol.name}' is not supported`);
    if (isGlobal(symbol)) {
      const winner = this.globals.get(symbol.name);
      if (winner) return this.placed(winner.object, winner.symbol);
      const value = this.external(symbol.name);
      if (value !== undefined) return value;
      if (symbol.binding === STB_WEAK) return 0;
      throw new ElfError(file.name, `undefined symbol '${symbol.name}' referenced by ${file.name}`);
    }
    if (symbol.shndx === SHN_UNDEF) throw new ElfError(file.name, `local symbol '${symbol.name}' is undefined`);
    return this.placed(object, symbol);
  }

  private placed(object: number, symbol: ElfSymbol): number {
    const address = this.definedAddress(object, symbol);
    if (address === undefined) {
      const file = this.objects[object]!;
      const section = file.sections[symbol.shndx]?.name ?? `section ${symbol.shndx}`;
      throw new ElfError(file.name, `symbol '${symbol.name}' is defined in ${section}, which is not loaded (not SHF_ALLOC)`);
    }
    return address;
  }
}
