// The domain syscalls (reference §4: a domain's interface to the kernel that is not its
// driver's IDL): a message of kind SYSCALL whose index is the number. The C side is
// drivers/lib/lvd/syscalls.c; the numbers are drivers/include/lvd/domain.h's.
//
// The capability syscalls (capabilities.ts) answer a bad argument with a negative error
// code (ERR) and leave the domain running: a cptr is the domain's own word, not a proof
// of anything. Touching memory it no longer has is another matter: an EPT violation,
// and the domain is killed.

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Domain } from "./domain.ts";
import type { Lvd } from "./lvd.ts";
import { formatPrintk } from "../modules/printk.ts";
import { KIND_REPLY, KIND_ERROR, header } from "../../idl/wire.ts";
import {
  MemoryRegion, CAP_DOMAIN, RIGHT_READ, RIGHT_WRITE, RIGHT_GRANT, validRights, remove, revokeDerived, unmap,
} from "./capabilities.ts";
import * as shootdown from "./ept-shootdown.ts";

export const SYS = {
  EXIT: 0, PRINTK: 1, ALLOC_PAGES: 2, CPU: 3, MAP: 4, UNMAP: 5, CAP_DELETE: 6, CAP_REVOKE: 7, CAP_GRANT: 8, CAP_INFO: 9,
} as const;

/** What the capability syscalls return for bad arguments (negated errno numbers, as domain.h's LVD_E*). */
export const ERR = {
  /** The capability does not allow it (rights exceeded, no GRANT right). */
  PERM: -1,
  /** No capability at that cptr, no mapping at that address. */
  NOENT: -2,
  /** The domain named is stopped. */
  SRCH: -3,
  /** The capability is mapped already. */
  BUSY: -16,
  /** Something else is mapped in that range. */
  EXIST: -17,
  /** Malformed: a capability of the wrong type, rights that make no sense, an address outside the mappings area. */
  INVAL: -22,
  /** The receiving capability space is full. */
  NOSPC: -28,
} as const;

const reply = (...v: bigint[]) => [header(KIND_REPLY, 0, 1 + v.length), ...v];
const result = (n: number) => reply(BigInt.asUintN(64, BigInt(n)));
const failed = () => [header(KIND_ERROR, 0, 1)];
const addr = (w: bigint) => Number(BigInt.asIntN(64, w));
/** A cptr word: one that cannot name a slot becomes 0, which names none. */
const cptr = (w: bigint) => (w > 0n && w < 2n ** 32n ? Number(w) : 0);
/** A rights word: -1 unless it is a combination of the three rights. */
const rightsOf = (w: bigint) => (w >= 0n && w <= 7n ? Number(w) : -1);

/** Runs syscall `nr` of domain `d` (w: the whole message, header first); returns the reply message. */
export function* syscall(k: Kernel, lvd: Lvd, d: Domain, nr: number, w: bigint[]): KernelPath<bigint[]> {
  switch (nr) {
    case SYS.PRINTK: {
      let n = 2;
      const text = formatPrintk(d.readString(addr(w[1]), 512), () => w[n++] ?? 0n, (va) => d.readString(addr(va), 512));
      for (const line of text.replace(/\n$/, "").split("\n")) k.log(`[${d.name}] ${line}`);
      return reply(BigInt(text.length));
    }
    case SYS.ALLOC_PAGES:
      return reply(BigInt.asUintN(64, BigInt(d.allocPages(Number(w[1] > 4096n ? 0n : w[1])))));
    case SYS.CPU:
      return reply(BigInt(k.cpu.id));
    case SYS.EXIT:
      lvd.kill(d, `exited with code ${BigInt.asIntN(32, w[1])}`);
      return failed();
    case SYS.MAP:
      return result(map(d, cptr(w[1]), addr(w[2]), rightsOf(w[3])));
    case SYS.UNMAP:
    case SYS.CAP_DELETE:
    case SYS.CAP_REVOKE: {
      const touched = new Set<Domain>();
      const r = removal(d, nr, w[1], touched);
      yield* shootdown.everywhere(k, touched);
      return result(r);
    }
    case SYS.CAP_GRANT:
      return result(grantOnward(d, cptr(w[1]), cptr(w[2]), rightsOf(w[3])));
    case SYS.CAP_INFO:
      return result(info(d, cptr(w[1])));
  }
  return failed();
}

/** MAP(cptr, va, rights): the region at `va` in the mappings area with READ or READ|WRITE, within the capability's rights. */
function map(d: Domain, at: number, va: number, rights: number): number {
  const cap = d.cspace.get(at);
  if (!cap) return ERR.NOENT;
  if (!(cap.object instanceof MemoryRegion)) return ERR.INVAL;
  if (rights !== RIGHT_READ && rights !== (RIGHT_READ | RIGHT_WRITE)) return ERR.INVAL;
  if ((rights & ~cap.rights) !== 0) return ERR.PERM;
  if (cap.mapping) return ERR.BUSY;
  const where = d.canLend(va, cap.object.pages.length);
  if (where !== "ok") return where === "outside" ? ERR.INVAL : ERR.EXIST;
  const write = (rights & RIGHT_WRITE) !== 0;
  d.lend(va, cap.object.pages, write);
  cap.mapping = { va, write };
  return 0;
}

/** UNMAP(va), CAP_DELETE(cptr), CAP_REVOKE(cptr): EPT_I entries removed; the domains that lost some go to `touched`. */
function removal(d: Domain, nr: number, arg: bigint, touched: Set<Domain>): number {
  if (nr === SYS.UNMAP) {
    const cap = d.cspace.mappedAt(addr(arg));
    if (!cap) return ERR.NOENT;
    unmap(cap, touched);
    return 0;
  }
  const cap = d.cspace.get(cptr(arg));
  if (!cap) return ERR.NOENT;
  if (nr === SYS.CAP_DELETE) remove(cap, touched);
  else revokeDerived(cap, touched);
  return 0;
}

/** CAP_GRANT(cptr, domain cptr, rights): a capability derived from `at` in the domain `to` names; the new cptr there. */
function grantOnward(d: Domain, at: number, to: number, rights: number): number {
  const cap = d.cspace.get(at), target = d.cspace.get(to);
  if (!cap || !target) return ERR.NOENT;
  if (target.type !== CAP_DOMAIN) return ERR.INVAL;
  if ((cap.rights & RIGHT_GRANT) === 0) return ERR.PERM;
  if (rights < 0 || !validRights(cap.object, rights)) return ERR.INVAL;
  if ((rights & ~cap.rights) !== 0) return ERR.PERM;
  const receiver = target.object as Domain;
  if (receiver.dead || (!(cap.object instanceof MemoryRegion) && cap.object.dead)) return ERR.SRCH;
  const derived = receiver.cspace.derive(cap, rights);
  return derived ? derived.cptr : ERR.NOSPC;
}

/** CAP_INFO(cptr): type (bits 7:0), rights (15:8), and the region's pages or the domain's id (from bit 16). */
function info(d: Domain, at: number): number {
  const cap = d.cspace.get(at);
  if (!cap) return ERR.NOENT;
  const size = cap.object instanceof MemoryRegion ? cap.object.pages.length : cap.object.id;
  return cap.type | (cap.rights << 8) | size * 65536;
}
