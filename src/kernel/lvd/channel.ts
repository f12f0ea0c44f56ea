// The kernel's end of a domain's glue (src/idl/runtime/channel.ts GlueChannel): crossings
// into the domain through LVD, the kernel's CSpace for it, and kernel memory for the
// kernel's copies of shared objects.

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { GlueChannel } from "../../idl/runtime/channel.ts";
import { GlueCSpace } from "../../idl/runtime/cspace.ts";
import type { Domain } from "./domain.ts";
import type { Lvd } from "./lvd.ts";

export class DomainChannel implements GlueChannel {
  readonly cspace = new GlueCSpace();

  constructor(
    readonly kernel: Kernel,
    private readonly lvd: Lvd,
    readonly domain: Domain,
  ) {}

  get mem() {
    return this.kernel.mem;
  }

  callDomain(words: bigint[]): KernelPath<bigint[]> {
    return this.lvd.call(this.domain, words);
  }

  alloc(bytes: number): number {
    this.kernel.charge("kmalloc");
    return this.kernel.heap.alloc(bytes);
  }

  free(va: number): void {
    this.kernel.charge("kmalloc");
    this.kernel.heap.free(va);
  }
}
