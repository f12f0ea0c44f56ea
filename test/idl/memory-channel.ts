// A GlueChannel with no machine: guest memory is a plain byte array at a made-up kernel
// address, and the domain is a function from call words to reply words. For tests of the
// kernel-side glue alone.

import { GlueCSpace, type GlueChannel, type GlueMemory, type KernelPath } from "../../src/idl/glue-runtime.ts";

export class MemoryChannel implements GlueChannel {
  static readonly BASE = 0x100000;
  readonly bytes = new Uint8Array(1 << 20);
  readonly cspace = new GlueCSpace();
  readonly live = new Set<number>();
  private next = MemoryChannel.BASE;

  constructor(private readonly domain: (words: bigint[]) => bigint[] = () => {
    throw new Error("this test's domain takes no calls");
  }) {}

  readonly mem: GlueMemory = {
    read8: (va) => this.bytes[this.at(va, 1)],
    read16: (va) => this.view.getUint16(this.at(va, 2), true),
    read32: (va) => this.view.getUint32(this.at(va, 4), true),
    write8: (va, v) => void (this.bytes[this.at(va, 1)] = v),
    write16: (va, v) => this.view.setUint16(this.at(va, 2), v, true),
    write32: (va, v) => this.view.setUint32(this.at(va, 4), v >>> 0, true),
    readBytes: (va, n) => this.bytes.slice(this.at(va, n), this.at(va, n) + n),
    writeBytes: (va, data) => this.bytes.set(data, this.at(va, data.length)),
  };
  private readonly view = new DataView(this.bytes.buffer);

  private at(va: number, n: number): number {
    const off = va - MemoryChannel.BASE;
    if (off < 0 || off + n > this.bytes.length) throw new Error(`access outside the test memory at 0x${va.toString(16)}`);
    return off;
  }

  *callDomain(words: bigint[]): KernelPath<bigint[]> {
    return this.domain(words);
  }

  alloc(bytes: number): number {
    const va = this.next;
    this.next += Math.ceil(Math.max(1, bytes) / 16) * 16;
    this.live.add(va);
    return va;
  }

  free(va: number): void {
    if (!this.live.delete(va)) throw new Error(`bad free 0x${va.toString(16)}`);
  }
}

/** Runs a kernel path that never calls guest code to its end. */
export function runPath<T>(path: KernelPath<T>): T {
  const r = path.next();
  if (!r.done) throw new Error("the path yielded an effect; this test has no machine");
  return r.value;
}
