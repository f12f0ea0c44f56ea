// The module loader: gcc-compiled ELF relocatable objects linked into the modules area
// (the top 2 GB, as gcc's kernel code model needs), their undefined symbols resolved
// against the kernel's export table, their sections mapped with their own rights (text
// read-execute, data no-execute), then init_module called. This is the native,
// non-isolated baseline isolated drivers are compared with.

import { KernelBug } from "../exec.ts";
import type { Kernel } from "../kernel.ts";
import { call, type KernelPath } from "../thread.ts";
import { linkObjects, ElfError, type ElfFile, type LinkedImage } from "../../machine/elf.ts";
import { flagsForPerms } from "../../machine/page-tables.ts";
import { MODULES_BASE, MODULES_END, PAGE, phys2virt } from "../layout.ts";

export class ModuleError extends KernelBug {}

export interface Module {
  readonly name: string;
  readonly image: LinkedImage;
  /** Physical pages backing the image, in order. */
  readonly frames: number[];
  readonly init: number | undefined;
  readonly exit: number | undefined;
}

export class ModuleLoader {
  private next = MODULES_BASE;
  readonly modules = new Map<string, Module>();

  constructor(private readonly k: Kernel) {}

  /** Links and maps `objects` as module `name` (nothing runs yet). Throws ModuleError. */
  place(name: string, objects: ElfFile[]): Module {
    const k = this.k;
    if (this.modules.has(name)) throw new ModuleError(`module ${name} is already loaded`);
    let image: LinkedImage;
    try {
      image = linkObjects(objects, { base: this.next, resolve: (sym) => k.exports.get(sym) });
    } catch (e) {
      if (e instanceof ElfError) throw new ModuleError(`cannot load ${name}: ${e.message}`);
      throw e;
    }
    if (image.base + image.size > MODULES_END) throw new ModuleError(`cannot load ${name}: the modules area is full`);
    this.next += image.size + PAGE; // an unmapped page between modules
    let relocations = 0;
    for (const o of objects) for (const r of o.relocations) relocations += r.entries.length;
    k.charge("relocation", relocations);

    const frames: number[] = [];
    for (let off = 0; off < image.size; off += PAGE) {
      const pa = k.pages.alloc();
      frames.push(pa);
      k.mem.writeBytes(phys2virt(pa), image.image.subarray(off, off + PAGE));
    }
    for (const r of image.regions) {
      for (let va = r.start; va < r.start + r.size; va += PAGE) {
        k.kernelMm.map(va, frames[(va - image.base) / PAGE], PAGE, flagsForPerms(r.perms, { global: true }));
      }
    }
    const m: Module = { name, image, frames, init: image.symbols.get("init_module"), exit: image.symbols.get("cleanup_module") };
    this.modules.set(name, m);
    return m;
  }

  /** Loads module `name` and runs its init; returns init's result (non-zero: the load failed and it is gone). */
  *load(name: string, objects: ElfFile[]): KernelPath<{ module: Module; status: number }> {
    const m = this.place(name, objects);
    this.k.log(`module ${name}: loaded at 0x${(m.image.base + 2 ** 64).toString(16)} (${m.image.size >> 10} KB)`);
    let status = 0;
    if (m.init !== undefined) status = (yield* call(m.init)) | 0;
    if (status !== 0) {
      this.k.log(`module ${name}: init failed with ${status}`);
      this.remove(m);
    }
    return { module: m, status };
  }

  /** Runs cleanup_module and removes the module. */
  *unload(m: Module): KernelPath {
    if (m.exit !== undefined) yield* call(m.exit);
    this.remove(m);
    this.k.log(`module ${m.name}: unloaded`);
  }

  private remove(m: Module): void {
    this.k.kernelMm.unmap(m.image.base, m.image.size);
    for (const pa of m.frames) this.k.pages.release(pa);
    this.modules.delete(m.name);
  }

  /** "module:symbol+0x12" for an address inside a module. */
  symbolAt(address: number): string | undefined {
    for (const m of this.modules.values()) {
      if (address >= m.image.base && address < m.image.base + m.image.size) {
        const s = m.image.symbolAt(address);
        return `${m.name}:${s?.label ?? "?"}`;
      }
    }
    return undefined;
  }
}
