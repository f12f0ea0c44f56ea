// Address -> "symbol+offset" lookup for disassembly and traces.

import { hex } from "./numbers.ts";

export interface SymbolLocation {
  /** Name of the nearest symbol at or below the address. */
  name: string;
  /** Address of that symbol. */
  address: number;
  /** Bytes from the symbol to the looked-up address. */
  offset: number;
  /** "name" or "name+0x1f", ready to print. */
  label: string;
}

export interface IndexEntry {
  name: string;
  address: number;
  /** Which name to show when several share an address: higher wins. */
  priority: number;
}

export class SymbolIndex {
  private readonly entries: IndexEntry[];

  /** Lookups outside [start, end) return undefined. */
  constructor(
    entries: IndexEntry[],
    private readonly start: number,
    private readonly end: number,
  ) {
    const sorted = [...entries].sort((a, b) => a.address - b.address || b.priority - a.priority);
    // Keep only the preferred name at each address.
    this.entries = sorted.filter((e, i) => i === 0 || sorted[i - 1]!.address !== e.address);
  }

  lookup(address: number): SymbolLocation | undefined {
    if (!(address >= this.start && address < this.end)) return undefined;
    // Binary search for the last entry whose address is <= the one asked for.
    let lo = 0;
    let hi = this.entries.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.address <= address) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return undefined;
    const entry = this.entries[found]!;
    const offset = address - entry.address;
    return { name: entry.name, address: entry.address, offset, label: offset === 0 ? entry.name : `${entry.name}+${hex(offset)}` };
  }
}
