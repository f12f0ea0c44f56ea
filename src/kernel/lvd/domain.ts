// A domain: an isolated driver's memory and address spaces (reference §4-5).
//
//  - Its machine pages, allocated by the kernel, mapped in EPT_I at guest-physical
//    addresses of the domain's own range (Inv 3). The kernel reaches them through its
//    direct map; nothing else of the kernel's is mapped in EPT_I except what a crossing
//    needs: the trampoline page, the IDT, this vCPU's GDT/TSS page, the state page (read
//    only, the domain's view of it).
//  - Its page table, built once when the domain is created and never changed: the whole
//    window mapped onto the domain's guest-physical range (so memory is added by changing
//    EPT_I only), the shared kernel pages at their kernel addresses, and the table pages
//    themselves read-only (Inv 2; writable in EPT_I so the processor can set accessed and
//    dirty bits).
//  - CR3 remapping: VMFUNC does not change CR3, so EPT_I maps the guest-physical address of
//    the kernel's top-level table to the domain's own.
//  - One EPT_I per vCPU, so per-vCPU pages (GDT/TSS, later IST stacks) are mapped only on
//    their own vCPU.
//  - Its capabilities (capabilities.ts), and the kernel's pages they lent it, mapped in the
//    mappings area of the window: in EPT_I only, never executable, and not its own (not
//    in `frames`: the kernel frees them, not release()).

import type { Kernel } from "../kernel.ts";
import { PageTableBuilder, type TableMemory } from "../../machine/page-tables.ts";
import { CSpace, Capability, RIGHT_GRANT } from "./capabilities.ts";
import { EptBuilder } from "../../machine/vmx/ept-tables.ts";
import type { LinkedImage } from "../../machine/elf.ts";
import { DirectMapTables } from "../mm/address-space.ts";
import { PAGE, phys2virt } from "../layout.ts";
import {
  WINDOW_SIZE, STACKS_OFFSET, STACK_PAGES, STACKS_PER_CPU, EXT_OFFSET, HEAP_OFFSET, HEAP_SIZE, TABLES_OFFSET, MAPPINGS_OFFSET, MAPPINGS_SIZE,
  windowOf, gpaOf,
} from "./layout.ts";

const LARGE = 0x200000;

/** A kernel page the domain shares: at its kernel address, with these EPT rights, on one vCPU or all. */
export interface SharedPage {
  va: number;
  gpa: number;
  hpa: number;
  exec?: boolean;
  write?: boolean;
  cpu?: number;
  /** In the domain's page table only, not in EPT_I: a fetch there is an EPT violation rather than a page fault. */
  tableOnly?: boolean;
}

export class Domain {
  readonly window: number;
  readonly gpa: number;
  /** Machine page of each domain guest-physical page. */
  readonly frames = new Map<number, number>();
  /** EPT_I per vCPU, and their EPTPs. */
  readonly epts: EptBuilder[] = [];
  readonly eptps: number[] = [];
  readonly tables: PageTableBuilder;
  /** Why it was stopped; null while it runs. */
  dead: string | null = null;
  /** Crossings into it in progress on each vCPU (nesting counters). */
  readonly nesting: number[];
  entry = 0;
  image!: LinkedImage;
  /** The guest-physical top-level table EPT_I remaps to the domain's (the kernel's CR3). */
  cr3 = 0;
  private heapNext = HEAP_OFFSET;
  private nextTable = TABLES_OFFSET;
  /** Machine pages of its EPT_I tables (kernel memory, never mapped in EPT_I). */
  private readonly eptPages: number[] = [];
  /** Crossings into it, for reports. */
  calls = 0;
  /** Which stacks of each vCPU's pool crossings hold. */
  private readonly stacksInUse: boolean[][] = [];
  /** Its capability space. */
  readonly cspace: CSpace;
  /** The kernel's root capability naming this domain: capabilities to send it capabilities derive from it. */
  readonly selfCap: Capability;
  /** Machine page of each guest-physical page of the mappings area that is mapped (lent by the kernel). */
  private readonly lent = new Map<number, number>();
  /** vCPUs that may still cache translations EPT_I no longer has: those a shootdown in progress has yet to flush (ept-shootdown.ts). */
  readonly staleOn: boolean[];

  constructor(
    private readonly k: Kernel,
    readonly id: number,
    readonly name: string,
    private readonly shared: SharedPage[],
  ) {
    this.window = windowOf(id);
    this.gpa = gpaOf(id);
    this.nesting = k.percpus.map(() => 0);
    this.staleOn = k.percpus.map(() => false);
    this.cspace = new CSpace(this);
    this.selfCap = new Capability(this, RIGHT_GRANT, null, null, 0);
    const tm = new DomainTables(this, new DirectMapTables(k.mem));
    this.tables = new PageTableBuilder(tm, () => this.tablePage());
  }

  /** A new machine page (zeroed) at the domain's guest-physical `gpa`. */
  private back(gpa: number): number {
    const hpa = this.k.pages.alloc();
    this.k.mem.fill(phys2virt(hpa), PAGE);
    this.frames.set(gpa, hpa);
    return hpa;
  }

  private tablePage(): number {
    if (this.nextTable >= WINDOW_SIZE) throw new Error(`domain ${this.name}: page-table area full`);
    const gpa = this.gpa + this.nextTable;
    this.nextTable += PAGE;
    this.back(gpa);
    return gpa;
  }

  /** Places the linked image, stacks and extended register pages, then builds the page table and EPT_I. */
  build(image: LinkedImage, cr3: number): void {
    this.image = image;
    this.cr3 = cr3;
    for (let off = 0; off < image.size; off += PAGE) {
      const hpa = this.back(this.gpa + off);
      this.k.mem.writeBytes(phys2virt(hpa), image.image.subarray(off, off + PAGE));
    }
    for (let c = 0; c < this.k.percpus.length; c++) {
      for (let p = 0; p < STACK_PAGES; p++) this.back(this.gpa + this.stackBase(c, 0) - this.window + p * PAGE);
      this.back(this.gpa + EXT_OFFSET + c * PAGE);
    }
    // The page table: the window (the table area read-only, no execute), then the shared pages.
    this.tables.map(this.window, this.gpa, TABLES_OFFSET, { write: true, exec: true }, LARGE);
    this.tables.map(this.window + TABLES_OFFSET, this.gpa + TABLES_OFFSET, WINDOW_SIZE - TABLES_OFFSET, {}, LARGE);
    for (const s of this.shared) {
      if (this.tables.lookup(s.va) < 0) this.tables.map(s.va, s.gpa, PAGE, { write: s.write, exec: s.exec });
    }
    const root = this.tables.root;
    for (let c = 0; c < this.k.percpus.length; c++) {
      const ept = new EptBuilder(new DirectMapTables(this.k.mem), () => {
        const pa = this.k.pages.alloc();
        this.eptPages.push(pa);
        return pa;
      });
      for (const [gpa, hpa] of this.frames) ept.map(gpa, hpa, PAGE, { read: true, write: true, exec: gpa < this.gpa + TABLES_OFFSET });
      ept.map(cr3, this.frames.get(root)!, PAGE, { read: true, write: true }); // CR3 remapping
      for (const s of this.shared) {
        if (!s.tableOnly && (s.cpu === undefined || s.cpu === c)) ept.map(s.gpa, s.hpa, PAGE, { read: true, write: s.write, exec: s.exec });
      }
      this.epts.push(ept);
      this.eptps.push(ept.eptp(false));
    }
    this.entry = image.symbols.get("lvd_domain_entry") ?? 0;
  }

  /** The lowest address of stack `slot` of vCPU c's pool (a guard page below it is never mapped). */
  stackBase(c: number, slot = 0): number {
    return this.window + STACKS_OFFSET + (c * STACKS_PER_CPU + slot) * (STACK_PAGES + 1) * PAGE + PAGE;
  }
  stackTop(c: number, slot = 0): number {
    return this.stackBase(c, slot) + STACK_PAGES * PAGE;
  }

  /**
   * Takes a free stack of vCPU c's pool for a crossing; -1 if all are in use. The first is
   * there from the start; the others get their pages (in vCPU c's EPT_I only) when first taken.
   */
  takeStack(c: number): number {
    const used = (this.stacksInUse[c] ??= []);
    let slot = 0;
    while (slot < STACKS_PER_CPU && used[slot]) slot++;
    if (slot === STACKS_PER_CPU) return -1;
    used[slot] = true;
    for (let p = 0; p < STACK_PAGES; p++) {
      const gpa = this.gpa + this.stackBase(c, slot) - this.window + p * PAGE;
      if (!this.frames.has(gpa)) this.epts[c].map(gpa, this.back(gpa), PAGE, { read: true, write: true });
    }
    return slot;
  }
  releaseStack(c: number, slot: number): void {
    this.stacksInUse[c][slot] = false;
  }
  extPage(c: number): number {
    return this.window + EXT_OFFSET + c * PAGE;
  }

  /** Adds `n` zeroed pages to the heap (EPT_I only: the page table already maps the window); returns their address or -1. */
  allocPages(n: number): number {
    if (n <= 0 || this.heapNext + n * PAGE > HEAP_OFFSET + HEAP_SIZE) return -1;
    const va = this.window + this.heapNext;
    for (let p = 0; p < n; p++) {
      const gpa = this.gpa + this.heapNext;
      const hpa = this.back(gpa);
      for (const ept of this.epts) ept.map(gpa, hpa, PAGE, { read: true, write: true, exec: true });
      this.heapNext += PAGE;
    }
    return va;
  }

  /** Whether [va, va + pages) lies in the mappings area and nothing is mapped there yet. */
  canLend(va: number, pages: number): "ok" | "outside" | "taken" {
    const off = va - this.window;
    if (va % PAGE !== 0 || off < MAPPINGS_OFFSET || off + pages * PAGE > MAPPINGS_OFFSET + MAPPINGS_SIZE) return "outside";
    for (let p = 0; p < pages; p++) if (this.lent.has(this.gpa + off + p * PAGE)) return "taken";
    return "ok";
  }

  /** Maps the kernel's machine pages at `va` (checked by canLend) in every EPT_I: readable, writable if `write`, never executable. */
  lend(va: number, pages: readonly number[], write: boolean): void {
    const gpa = this.gpa + (va - this.window);
    pages.forEach((hpa, p) => {
      this.lent.set(gpa + p * PAGE, hpa);
      for (const ept of this.epts) ept.map(gpa + p * PAGE, hpa, PAGE, { read: true, write });
    });
  }

  /** Unmaps `pages` lent pages at `va` from every EPT_I (the caller drops cached translations: ept-shootdown.ts). */
  unmapLent(va: number, pages: number): void {
    const gpa = this.gpa + (va - this.window);
    for (let p = 0; p < pages; p++) this.lent.delete(gpa + p * PAGE);
    for (const ept of this.epts) ept.unmap(gpa, pages * PAGE);
  }

  /** The kernel's address (direct map) of domain address `va`, or null if the domain has no page there. */
  kernelAddress(va: number): number | null {
    const off = va - this.window;
    if (off < 0 || off >= WINDOW_SIZE) return null;
    const page = this.gpa + off - (off & 0xfff);
    const hpa = this.frames.get(page) ?? this.lent.get(page);
    return hpa === undefined ? null : phys2virt(hpa) + (off & 0xfff);
  }

  /** Reads domain memory (a NUL-terminated string), as the kernel does for %s: only pages the domain has. */
  readString(va: number, max = 256): string {
    let s = "";
    for (let i = 0; i < max; i++) {
      const a = this.kernelAddress(va + i);
      if (a === null) return s + "<bad address>";
      const b = this.k.mem.read8(a);
      if (b === 0) break;
      s += String.fromCharCode(b);
    }
    return s;
  }

  /** Gives all its memory back (after it was stopped and no vCPU is inside it). */
  release(): void {
    for (const hpa of [...this.frames.values(), ...this.eptPages]) this.k.pages.release(hpa);
    this.frames.clear();
    this.lent.clear();
    this.eptPages.length = 0;
  }
}

/** The domain's page tables live at its guest-physical addresses: the builder writes them through their machine pages. */
class DomainTables implements TableMemory {
  constructor(private readonly d: Domain, private readonly kernel: TableMemory) {}
  private pa(gpa: number): number {
    const page = gpa - (gpa & 0xfff);
    const hpa = this.d.frames.get(page);
    if (hpa === undefined) throw new Error(`domain table page 0x${gpa.toString(16)} has no frame`);
    return hpa + (gpa & 0xfff);
  }
  read32(gpa: number): number {
    return this.kernel.read32(this.pa(gpa));
  }
  write64(gpa: number, lo: number, hi: number): void {
    this.kernel.write64(this.pa(gpa), lo, hi);
  }
  load(gpa: number, data: Uint8Array): void {
    this.kernel.load(this.pa(gpa), data);
  }
}

