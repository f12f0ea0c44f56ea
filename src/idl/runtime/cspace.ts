// The kernel's CSpace for one domain (docs/glue-abi.md, Capabilities): names -> kernel
// objects with their type. It holds two kinds of entries:
//  - the kernel's own objects it has shared, under kernel names (cptrs 1, 2, ...);
//  - the kernel's copies of objects the domain shared first, under the domain's names
//    (DOMAIN_NAME_BIT set), made when such an object arrived with alloc.
// A domain can therefore name only what it was given or what it created itself, and only
// with the right type: everything else is ERROR.

import { DOMAIN_NAME_BIT, ERR_CAPABILITY, ERR_MEMORY, MAX_CPTR, isDomainName } from "../wire.ts";
import { GlueError } from "./glue-error.ts";

export interface CSpace {
  /** Gives the kernel object at `va` a new kernel name. */
  insert(va: number, type: number): bigint;
  /** Records `va` as the kernel's copy of the domain's object `name`. */
  insertAt(name: bigint, va: number, type: number): void;
  /** The object `name` stands for, if it has this type. */
  lookup(name: bigint, type: number): number | null;
  /** The name the object at `va` is known by (0n: none). */
  find(va: number, type: number): bigint;
  remove(name: bigint): void;
}

interface Entry {
  readonly va: number;
  readonly type: number;
}

export class GlueCSpace implements CSpace {
  private readonly entries = new Map<bigint, Entry>();
  private readonly byObject = new Map<string, bigint>();
  private nextCptr = 1n;

  constructor(readonly capacity = 4096) {}

  get size(): number {
    return this.entries.size;
  }

  insert(va: number, type: number): bigint {
    if (this.entries.size >= this.capacity) throw new GlueError(ERR_MEMORY, "the CSpace is full");
    while (this.entries.has(this.nextCptr)) this.nextCptr = this.nextCptr >= MAX_CPTR ? 1n : this.nextCptr + 1n;
    const name = this.nextCptr;
    this.nextCptr = name >= MAX_CPTR ? 1n : name + 1n;
    this.add(name, va, type);
    return name;
  }

  insertAt(name: bigint, va: number, type: number): void {
    if (!isDomainName(name) || name > (DOMAIN_NAME_BIT | MAX_CPTR) || name === DOMAIN_NAME_BIT) {
      throw new GlueError(ERR_CAPABILITY, `0x${name.toString(16)} is not a name the domain can give`);
    }
    if (this.entries.has(name)) throw new GlueError(ERR_CAPABILITY, `the domain's name 0x${name.toString(16)} is already in use`);
    if (this.entries.size >= this.capacity) throw new GlueError(ERR_MEMORY, "the CSpace is full");
    this.add(name, va, type);
  }

  lookup(name: bigint, type: number): number | null {
    const e = this.entries.get(name);
    return e && e.type === type ? e.va : null;
  }

  find(va: number, type: number): bigint {
    return this.byObject.get(key(va, type)) ?? 0n;
  }

  remove(name: bigint): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    this.byObject.delete(key(e.va, e.type));
  }

  private add(name: bigint, va: number, type: number): void {
    this.entries.set(name, { va, type });
    this.byObject.set(key(va, type), name);
  }
}

function key(va: number, type: number): string {
  return `${type}:${va}`;
}
