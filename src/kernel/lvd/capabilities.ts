// Capabilities (LCD-style, reference §4): what a domain may use of the kernel's objects is
// what its capability space holds. A slot is named by a capability pointer (cptr), a
// number the domain passes in syscalls; behind it a right to one kernel object:
//
//  - a memory region: machine pages the kernel lends (read, read/write), which the domain
//    maps into its window (the MAP syscall) by changing its EPT_I only;
//  - a domain: the right to hand capabilities to that domain (the GRANT syscall).
//
// Every capability is derived from another, down to the kernel's root capability of the
// object (held by no domain), and remembers what was derived from it. Removing one removes
// its whole subtree: revoking a region the kernel granted takes it away from the domain,
// from every domain it passed it on to, and out of every window it was mapped in. A
// derived capability never has rights its parent lacks; GRANT is the right to pass a
// capability on at all.
//
// Removal edits EPT_I tables only; the callers drop the cached translations afterwards
// (ept-shootdown.ts) of the domains collected in `touched`.

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Domain } from "./domain.ts";
import { KernelBug } from "../exec.ts";
import { PAGE, phys2virt } from "../layout.ts";
import * as shootdown from "./ept-shootdown.ts";

export const RIGHT_READ = 1, RIGHT_WRITE = 2, RIGHT_GRANT = 4;
const ALL_RIGHTS = RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT;
/** Capability types (the INFO syscall's low byte). */
export const CAP_REGION = 1, CAP_DOMAIN = 2;
/** Live capabilities a domain may hold: a domain granting in a loop fills another's space, not the kernel's memory. */
export const CSPACE_SLOTS = 256;

/** Machine pages the kernel lends to domains; the kernel keeps them (and frees them: destroyRegion). */
export class MemoryRegion {
  /** The kernel's own capability: every grant of the region derives from it. */
  readonly root: Capability;
  destroyed = false;

  constructor(readonly pages: readonly number[]) {
    if (pages.length === 0 || pages.some((p) => p % PAGE !== 0)) throw new KernelBug("a memory region is whole machine pages, at least one");
    this.root = new Capability(this, ALL_RIGHTS, null, null, 0);
  }

  /** `n` zeroed pages from the kernel's allocator. */
  static allocate(k: Kernel, n: number): MemoryRegion {
    const pages = Array.from({ length: n }, () => {
      const pa = k.pages.alloc();
      k.mem.fill(phys2virt(pa), PAGE);
      return pa;
    });
    return new MemoryRegion(pages);
  }

  get bytes(): number {
    return this.pages.length * PAGE;
  }

  /** Where the kernel reaches byte `offset` of the region (its direct map). */
  kernelAddress(offset: number): number {
    if (offset < 0 || offset >= this.bytes) throw new KernelBug(`offset 0x${offset.toString(16)} is outside the region`);
    return phys2virt(this.pages[Math.floor(offset / PAGE)]) + (offset % PAGE);
  }
}

export class Capability {
  /** What was derived from it (grants onward). */
  readonly children = new Set<Capability>();
  /** Where its holder mapped it (region capabilities), or null. */
  mapping: { va: number; write: boolean } | null = null;

  constructor(
    readonly object: MemoryRegion | Domain,
    readonly rights: number,
    readonly parent: Capability | null,
    /** The domain whose CSpace holds it; null for the kernel's roots. */
    readonly holder: Domain | null,
    readonly cptr: number,
  ) {}

  get type(): number {
    return this.object instanceof MemoryRegion ? CAP_REGION : CAP_DOMAIN;
  }
}

/** A domain's capability space. Cptrs count up and are never reused: a stale cptr names nothing, not someone else's capability. */
export class CSpace {
  private readonly slots = new Map<number, Capability>();
  private nextCptr = 1;

  constructor(private readonly holder: Domain) {}

  get(cptr: number): Capability | undefined {
    return this.slots.get(cptr);
  }

  get size(): number {
    return this.slots.size;
  }

  all(): Capability[] {
    return [...this.slots.values()];
  }

  /** The capability mapped at window address `va`, if one is. */
  mappedAt(va: number): Capability | undefined {
    for (const c of this.slots.values()) if (c.mapping?.va === va) return c;
    return undefined;
  }

  /** A new capability in this space derived from `parent` with `rights` (a subset of its); null when the space is full. */
  derive(parent: Capability, rights: number): Capability | null {
    if ((rights & ~parent.rights) !== 0) throw new KernelBug("a derived capability cannot have more rights than its parent");
    if (this.slots.size >= CSPACE_SLOTS) return null;
    const cap = new Capability(parent.object, rights, parent, this.holder, this.nextCptr++);
    parent.children.add(cap);
    this.slots.set(cap.cptr, cap);
    return cap;
  }

  /** Forgets `cap` (remove() below takes it out of the tree first). */
  drop(cap: Capability): void {
    this.slots.delete(cap.cptr);
  }
}

/** Whether `rights` can go with a capability to `object`: a region is at least readable (EPT has no write-only pages). */
export function validRights(object: MemoryRegion | Domain, rights: number): boolean {
  if ((rights & ~ALL_RIGHTS) !== 0) return false;
  if (object instanceof MemoryRegion) return (rights & RIGHT_READ) !== 0;
  return rights === RIGHT_GRANT;
}

/** Takes `cap` and its subtree out: mappings unmapped (their domains added to `touched`), slots freed. */
export function remove(cap: Capability, touched: Set<Domain>): void {
  for (const child of [...cap.children]) remove(child, touched);
  unmap(cap, touched);
  cap.parent?.children.delete(cap);
  cap.holder?.cspace.drop(cap);
}

/** Removes everything derived from `cap`, keeping `cap` itself. */
export function revokeDerived(cap: Capability, touched: Set<Domain>): void {
  for (const child of [...cap.children]) remove(child, touched);
}

/** Unmaps `cap` from its holder's window, if it is mapped. */
export function unmap(cap: Capability, touched: Set<Domain>): void {
  if (!cap.mapping || !cap.holder || !(cap.object instanceof MemoryRegion)) return;
  cap.holder.unmapLent(cap.mapping.va, cap.object.pages.length);
  cap.mapping = null;
  touched.add(cap.holder);
}

// ------------------------------------------------------------------ the kernel's API

/**
 * Grants domain `to` a capability to a region (READ, READ|WRITE, with GRANT if it may pass
 * it on) or to a domain (GRANT: it may send capabilities there). Returns the cptr in `to`.
 */
export function grant(to: Domain, object: MemoryRegion | Domain, rights: number): number {
  if (!validRights(object, rights)) throw new KernelBug(`rights ${rights} do not fit a capability to this object`);
  if (object instanceof MemoryRegion && object.destroyed) throw new KernelBug("granting a destroyed region");
  if (to.dead || (object !== to && !(object instanceof MemoryRegion) && object.dead)) throw new KernelBug("granting to or naming a stopped domain");
  const root = object instanceof MemoryRegion ? object.root : object.selfCap;
  const cap = to.cspace.derive(root, rights);
  if (!cap) throw new KernelBug(`domain ${to.name}: capability space full`);
  return cap.cptr;
}

/** Takes back every capability derived from the region or domain, in every domain; when it returns no vCPU can reach the region. */
export function* revoke(k: Kernel, object: MemoryRegion | Domain): KernelPath {
  const touched = new Set<Domain>();
  revokeDerived(object instanceof MemoryRegion ? object.root : object.selfCap, touched);
  yield* shootdown.everywhere(k, touched);
}

/** Removes domain `d`'s capability at `cptr` and what was derived from it; false if there is none. */
export function* revokeGrant(k: Kernel, d: Domain, cptr: number): KernelPath<boolean> {
  const cap = d.cspace.get(cptr);
  if (!cap) return false;
  const touched = new Set<Domain>();
  remove(cap, touched);
  yield* shootdown.everywhere(k, touched);
  return true;
}

/** Revokes the region everywhere and gives its pages back to the kernel's allocator. */
export function* destroyRegion(k: Kernel, region: MemoryRegion): KernelPath {
  if (region.destroyed) return;
  region.destroyed = true;
  yield* revoke(k, region);
  for (const pa of region.pages) k.pages.release(pa);
}

/**
 * A domain goes away: its capabilities are removed (and with them whatever it passed on
 * to other domains), and so are the capabilities other domains hold to it.
 */
export function* dropCapabilities(k: Kernel, d: Domain): KernelPath {
  const touched = new Set<Domain>();
  revokeDerived(d.selfCap, touched);
  for (const cap of d.cspace.all()) remove(cap, touched);
  yield* shootdown.everywhere(k, touched);
}
