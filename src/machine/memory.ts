// Physical memory: RAM from address 0, plus memory-mapped I/O regions above it.
//
// Physical addresses are plain numbers (below 2^52, exact in a double). RAM is one
// Uint8Array read through a DataView, little-endian. Reads of addresses that hit
// neither RAM nor a device return all ones and writes there are dropped, as on an
// open bus.
//
// The CPU caches decoded instructions per physical page. A page that holds decoded
// code is marked in `codePage`; any write to it (by a CPU, or by a device doing DMA)
// drops that page's cached decodes, so self-modifying and freshly loaded code is
// always seen.
//
// Native gates: a physical address can be bound to host code. When a processor fetches
// an instruction there (and paging and EPT permit the fetch), the handler runs instead
// of decoding the bytes, as if it were one instruction: it sees the processor with RIP
// at the gate and sets cpu.nextRip to where execution continues. This is how the
// trusted kernel, written in TypeScript, is bound to the machine (DESIGN.md): its entry
// points are gates in kernel-only executable pages, so code reaches it only where the
// hardware lets it fetch. The bytes under a gate stay whatever the loader put there.

import type { Cpu } from "./cpu/cpu.ts";

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export interface MmioDevice {
  /** Reads `size` (1, 2, 4 or 8: then low half; `readHigh` gives the rest) bytes at `offset`. */
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

/** Host code run when a processor fetches from a native gate (see the header). */
export type NativeGate = (cpu: Cpu) => void;

interface MmioRegion {
  base: number;
  size: number;
  device: MmioDevice;
}

export class PhysicalMemory {
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** 1 for each RAM page whose decoded instructions are cached. */
  readonly codePage: Uint8Array;
  /** Called with the page number when a cached code page is written. */
  onCodeWrite: (page: number) => void = () => {};
  private readonly mmio: MmioRegion[] = [];
  /** Native gates by physical address (see the header). */
  readonly gates = new Map<number, NativeGate>();

  constructor(size: number) {
    if (size <= 0 || size % PAGE_SIZE !== 0) throw new Error(`memory size ${size} is not a positive multiple of 4096`);
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.codePage = new Uint8Array(size / PAGE_SIZE);
  }

  mapMmio(base: number, size: number, device: MmioDevice): void {
    if (base < this.size) throw new Error(`MMIO region at 0x${base.toString(16)} overlaps RAM`);
    this.mmio.push({ base, size, device });
  }

  /** Binds host code to the RAM address `pa` (null: unbinds it); cached decodes of its page are dropped. */
  setGate(pa: number, handler: NativeGate | null): void {
    if (!this.isRam(pa)) throw new Error(`a native gate must be in RAM, not at 0x${pa.toString(16)}`);
    if (handler) this.gates.set(pa, handler);
    else this.gates.delete(pa);
    if (this.codePage[pa >>> PAGE_SHIFT] !== 0) this.codeWritten(pa >>> PAGE_SHIFT);
  }

  isRam(pa: number, len = 1): boolean {
    return pa >= 0 && pa + len <= this.size;
  }

  private device(pa: number): MmioRegion | undefined {
    for (const r of this.mmio) if (pa >= r.base && pa < r.base + r.size) return r;
    return undefined;
  }

  read8(pa: number): number {
    if (pa < this.size) return this.bytes[pa];
    return this.readIo(pa, 1);
  }
  read16(pa: number): number {
    if (pa + 2 <= this.size) return this.view.getUint16(pa, true);
    return this.readIo(pa, 2);
  }
  /** Returns the 32-bit value as a signed int32 (the CPU's register representation). */
  read32(pa: number): number {
    if (pa + 4 <= this.size) return this.view.getInt32(pa, true);
    return this.readIo(pa, 4) | 0;
  }

  write8(pa: number, v: number): void {
    if (pa < this.size) {
      if (this.codePage[pa >>> PAGE_SHIFT] !== 0) this.codeWritten(pa >>> PAGE_SHIFT);
      this.bytes[pa] = v;
    } else this.writeIo(pa, 1, v & 0xff);
  }
  write16(pa: number, v: number): void {
    if (pa + 2 <= this.size) {
      this.checkCode(pa, 2);
      this.view.setUint16(pa, v, true);
    } else this.writeIo(pa, 2, v & 0xffff);
  }
  write32(pa: number, v: number): void {
    if (pa + 4 <= this.size) {
      this.checkCode(pa, 4);
      this.view.setInt32(pa, v, true);
    } else this.writeIo(pa, 4, v >>> 0);
  }

  /** 64-bit value as two 32-bit halves; the low half is at the lower address. */
  write64(pa: number, lo: number, hi: number): void {
    this.write32(pa, lo);
    this.write32(pa + 4, hi);
  }

  /** Reads a 64-bit little-endian value as a number; exact below 2^53 (table entries, addresses). */
  readU64(pa: number): number {
    return (this.read32(pa) >>> 0) + (this.read32(pa + 4) >>> 0) * 4294967296;
  }
  writeU64(pa: number, v: number): void {
    this.write64(pa, v | 0, Math.floor(v / 4294967296) | 0);
  }

  /** Copies bytes into RAM (loaders, DMA). */
  load(pa: number, data: Uint8Array): void {
    if (!this.isRam(pa, data.length)) throw new Error(`load of ${data.length} bytes at 0x${pa.toString(16)} is outside RAM`);
    for (let p = pa >>> PAGE_SHIFT; p <= (pa + data.length - 1) >>> PAGE_SHIFT; p++) {
      if (this.codePage[p] !== 0) this.codeWritten(p);
    }
    this.bytes.set(data, pa);
  }

  private checkCode(pa: number, len: number): void {
    const first = pa >>> PAGE_SHIFT;
    const last = (pa + len - 1) >>> PAGE_SHIFT;
    if (this.codePage[first] !== 0) this.codeWritten(first);
    if (last !== first && this.codePage[last] !== 0) this.codeWritten(last);
  }

  private codeWritten(page: number): void {
    this.codePage[page] = 0;
    this.onCodeWrite(page);
  }

  private readIo(pa: number, size: number): number {
    const r = this.device(pa);
    if (!r) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    return r.device.read(pa - r.base, size);
  }

  private writeIo(pa: number, size: number, v: number): void {
    const r = this.device(pa);
    if (r) r.device.write(pa - r.base, size, v);
  }
}
