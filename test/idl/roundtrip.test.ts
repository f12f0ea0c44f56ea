// The marshaling round trip: generated glue on both sides of a boundary, with no LVD
// runtime. The domain's side is C on the emulated machine (test/idl/roundtrip_driver.c
// calling the generated stubs of test/idl/cases/roundtrip.idl); the kernel's side is the
// generated TypeScript serving a TypeScript implementation, entered through a native gate
// (glue-harness.ts). The driver checks what comes back, the implementation records what
// arrives, and the test checks both.

import { describe, it, expect, beforeAll } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { GlueHarness } from "./glue-harness.ts";
import { BASELINES } from "./cases.ts";
import { compileC, BARE_RUNTIME, PROJECT_ROOT } from "../../src/cli/compile.ts";
import { checkIdl } from "../../src/idl/compile.ts";
import { GlueError, KIND_ERROR, KIND_REPLY, KIND_RPC_PTR, ERR_CAPABILITY, ERR_FUNCTION, ERR_LENGTH, ERR_MESSAGE, header, headerKind } from "../../src/idl/glue-runtime.ts";
import type { BareResult } from "../../src/machine/bare.ts";
import {
  bindRoundtrip, call_cb_add, Item, Point, Thing, type CbVisitFn, type RoundtripKernel, type Shape,
} from "./baselines/roundtrip/roundtrip_glue.ts";
import { allocObjects, freeObjects, objectViews } from "../../src/idl/glue-runtime.ts";

const GLUE_DIR = join(BASELINES, "roundtrip");
const module = checkIdl(readFileSync(join(PROJECT_ROOT, "test/idl/cases/roundtrip.idl"), "utf8"), "roundtrip.idl").module!;
const rpcPtrIndex = (name: string) => module.rpcPtrs.find((r) => r.name === name)!.index;

/** What the kernel's implementation saw, for the test's checks. */
interface Seen {
  ints?: unknown[];
  strings: [string | null, string | null][];
  sum32?: bigint[] | null;
  countWords?: number[];
  shape?: { kind: number; version: number; origin: [number, number]; label: string | null; tag: number[] };
  shapeVa?: number;
  areaOf: { va: number; kind: number }[];
  forgotten?: number;
  liveAtForget?: number;
  liveAfterForget?: number;
  madePoint?: number;
  pointSumVa?: number;
  listLength?: number;
  anyOf: unknown[];
  refusals: Record<string, unknown>;
  items?: { id: number; label: string | null }[];
  shelf?: { corners: number[]; points: number };
  sumPoints?: number;
  itemScores?: number[];
  thingVa?: number;
  thingN?: number;
}

function kernel(h: GlueHarness, seen: Seen): RoundtripKernel {
  let visitor: CbVisitFn | null = null;
  let addAddress = 0;
  return {
    ints(a, b, c, d, e, f, g, hh, i, j) {
      seen.ints = [a, b, c, d, e, f, g, hh, i, j];
      return hh + BigInt(b);
    },
    str_len(s, maybe) {
      seen.strings.push([s, maybe]);
      return (s?.length ?? 0) + (maybe === null ? 1000 : 0);
    },
    greet: (name) => `hello, ${name}`,
    sum32(values) {
      seen.sum32 = values;
      return values!.reduce((x, y) => x + y, 0n);
    },
    fill(len, buf) {
      for (let k = 0; k < len; k++) buf![k] = k * 3;
    },
    twice(n, v) {
      for (let k = 0; k < n; k++) v![k] *= 2;
    },
    count_words(words) {
      seen.countWords = words!;
      return words!.length * 100 + words!.reduce((x, y) => x + y, 0);
    },
    checksum: (len, buffer) => BigInt(buffer!.reduce((x, y) => x + y, 0)),
    divmod(a, b, q, r) {
      q!.value = Math.floor(a / b);
      r!.value = a % b;
    },
    bump(counter) {
      counter!.value += 1n;
    },
    measure(s) {
      const o = s!;
      seen.shape = { kind: o.kind, version: o.version, origin: [o.origin.x, o.origin.y], label: o.label, tag: [...o.tag] };
      seen.shapeVa = o.va;
      o.area = BigInt(o.kind * 100 + o.origin.x);
      o.version += 1;
      o.tag = o.tag.reverse();
      o.kind = 999; // [in] only: must not reach the driver
      return 77;
    },
    area_of(s: Shape | null) {
      seen.areaOf.push({ va: s!.va, kind: s!.kind });
      return s!.area;
    },
    forget(s) {
      seen.forgotten = s!.va;
      seen.liveAtForget = h.live.size;
    },
    make_point(x, y) {
      seen.liveAfterForget = h.live.size;
      const p = new Point(h, h.alloc(Point.SIZE));
      p.x = x;
      p.y = y;
      seen.madePoint = p.va;
      return p;
    },
    point_sum(p) {
      seen.pointSumVa = p!.va;
      return p!.x + p!.y;
    },
    list_sum(head) {
      let sum = 0, n = 0;
      for (let node = head; node !== null; node = node.next) {
        sum += node.value;
        n++;
      }
      seen.listLength = n;
      return sum;
    },
    union_call(t) {
      const o = t!;
      if (o.kind === 0) {
        o.v.number = -o.v.number;
        return 0n;
      }
      if (o.kind === 1) {
        o.v.bytes = o.v.bytes.reverse();
        return 10n;
      }
      const { x, y } = o.v.pt;
      o.v.pt.x = y;
      o.v.pt.y = x;
      return 20n;
    },
    any_len(which, data) {
      seen.anyOf.push(data instanceof Point ? { x: data.x, y: data.y } : data);
      if (which === 0) return (data as string).length;
      if (which === 1) return (data as Uint8Array).reduce((x, y) => x + y, 0);
      const p = data as Point;
      return p.x + p.y;
    },
    *register_ops(ops) {
      addAddress = ops!.add!.address;
      const sum = yield* ops!.add!(3, 4);
      const len = { value: 0 };
      yield* ops!.hello!("kernel", len);
      return sum + len.value * 100;
    },
    *run_callback(fn, x) {
      return yield* fn!(x, x);
    },
    *visit_point(p) {
      const seenByDriver = yield* visitor!(p);
      return seenByDriver + BigInt(p!.y) * 1_000_000n;
    },
    set_visitor(v) {
      visitor = v;
    },
    score_items(n, items) {
      seen.items = items!.map((it) => ({ id: it.id, label: it.label }));
      let sum = 0;
      for (const it of items!) {
        it.score = it.id * it.id * 10;
        sum += it.label!.length;
      }
      return sum;
    },
    shelf_sum(s) {
      const o = s!;
      seen.shelf = { corners: o.corners.flatMap((c) => [c.x, c.y]), points: o.points!.length };
      let sum = 0;
      for (const c of o.corners) sum += c.x + c.y;
      for (const p of o.points!) sum += p!.x + p!.y;
      return sum;
    },
    sum_points(pts) {
      seen.sumPoints = pts!.length;
      return pts!.reduce((x, p) => x + p!.x + p!.y, 0);
    },
    *run_items(fn) {
      const arr = allocObjects(h, 2, Item.SIZE);
      const items = objectViews(h, arr, Item);
      items.forEach((it, k) => {
        it.id = 5 + k;
        it.label = k === 0 ? "five" : "six";
      });
      const n = yield* fn!(2, items);
      seen.itemScores = items.map((it) => it.score);
      freeObjects(h, arr, Item);
      return n;
    },
    make_thing(n, result) {
      const t = new Thing(h, h.alloc(Thing.SIZE));
      t.n = n;
      t.name = `thing ${n}`;
      seen.thingVa = t.va;
      result!.value = t;
      return 0;
    },
    thing_n(t) {
      seen.thingN = t!.va === seen.thingVa ? t!.n : -1;
      return t!.n;
    },
    *kernel_checks() {
      const r = seen.refusals;
      // A function the domain never handed out: the dispatcher refuses to call it.
      try {
        yield* call_cb_add(h, h.symbol("lvd_test_unregistered_add"), 1, 2);
        r.unregistered = "called";
      } catch (e) {
        r.unregistered = e instanceof GlueError ? e.code : String(e);
      }
      // A name the domain does not know, for an object it must have (bind).
      const visitorWord = BigInt.asUintN(64, BigInt(visitor!.address));
      r.badName = yield* h.callDomain([header(KIND_RPC_PTR, rpcPtrIndex("cb_visit"), 3), visitorWord, 0x1234n]);
      // The same call with a name of the wrong type: a kernel point is fine, a shape name is not.
      r.unknownIndex = yield* h.callDomain([header(KIND_RPC_PTR, 99, 2), 0n]);
      // A message that ends before its arguments do.
      r.short = yield* h.callDomain([header(KIND_RPC_PTR, rpcPtrIndex("cb_add"), 2), BigInt.asUintN(64, BigInt(addAddress))]);
      // And one that is fine, after all that.
      r.fine = yield* call_cb_add(h, addAddress, 40, 2);
      return 0;
    },
  };
}

describe("marshaling round trip: generated C on the machine, generated TypeScript in the kernel", () => {
  let h: GlueHarness;
  let result: BareResult;
  const seen: Seen = { strings: [], areaOf: [], anyOf: [], refusals: {} };

  beforeAll(() => {
    const flags = { extraFlags: ["-Werror", "-I", GLUE_DIR] };
    h = new GlueHarness([
      compileC(join(PROJECT_ROOT, "test/idl/roundtrip_driver.c"), flags),
      compileC(join(GLUE_DIR, "roundtrip_glue.c"), flags),
      compileC(join(PROJECT_ROOT, "test/idl/domain_runtime.c"), flags),
      compileC(BARE_RUNTIME),
    ]);
    h.serve(bindRoundtrip(h, kernel(h, seen)));
    result = h.machine.run(100_000_000);
  });

  it("the driver's checks pass and the run ends cleanly", () => {
    expect(result.fault).toBeNull();
    const lines = result.output.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(lines.filter((l) => l.startsWith("ok")).length).toBe(40);
    expect(result.status).toBe(0);
    expect(h.kernelEntries).toBe(35); // 36 calls; the union with no member 9 is never sent
  });

  it("integers of every width and sign arrive as sent", () => {
    expect(seen.ints).toEqual([200, -5, 60000, -300, 4000000000, -70000, 0xfedcba9876543210n, -1234567890123n, true, 0x7a]);
  });

  it("strings (NULL and 256 bytes), constant and null-terminated arrays arrive as sent", () => {
    expect(seen.strings[0]).toEqual(["hello, domain", null]);
    expect(seen.strings[1][0]).toHaveLength(256);
    expect(seen.strings[1][0]!.slice(0, 28)).toBe("abcdefghijklmnopqrstuvwxyzab");
    expect(seen.sum32).toEqual(Array.from({ length: 32 }, (_, k) => BigInt(k + 1) << 32n));
    expect(seen.countWords).toEqual([1, 2, 3]);
  });

  it("a projection's [in] fields reach the kernel's new copy; bind finds it again; dealloc frees it", () => {
    expect(seen.shape).toEqual({ kind: 3, version: 7, origin: [10, -20], label: "square", tag: [1, 2, 3, 4] });
    expect(seen.areaOf).toEqual([{ va: seen.shapeVa, kind: 4 }]); // the second area_of never reached the kernel
    expect(seen.forgotten).toBe(seen.shapeVa);
    expect(h.live.has(seen.shapeVa!)).toBe(false); // the glue's copy, freed on dealloc(callee)...
    expect(seen.liveAfterForget).toBe(seen.liveAtForget! - 2); // ...with its label string
    expect(output()).toContain("ok area_of(&s) == 0 && last_reply_was_error(LVD_ERR_CAPABILITY)");
  });

  it("an object the kernel made goes to the domain as a copy and comes back as the kernel's own", () => {
    expect(seen.pointSumVa).toBe(seen.madePoint);
    expect(h.live.has(seen.madePoint!)).toBe(true);
  });

  it("a linked list arrives node by node, unions and any_of by their discriminators", () => {
    expect(seen.listLength).toBe(4);
    expect(seen.anyOf).toEqual(["four", Uint8Array.from({ length: 16 }, (_, k) => k), { x: 30, y: 12 }]);
  });

  it("arrays of projections: by value with [out] fields back, inline, by reference, NULL-terminated", () => {
    expect(seen.items).toEqual([{ id: 1, label: "a" }, { id: 2, label: "bb" }, { id: 3, label: "ccc" }]);
    expect(output()).toContain("ok items[0].score == 10 && items[1].score == 40 && items[2].score == 90");
    expect(seen.shelf).toEqual({ corners: [100, 0, 0, 200], points: 3 });
    expect(seen.sumPoints).toBe(2);
  });

  it("the kernel passes an array of objects to the driver; the domain frees its copies after the call", () => {
    expect(seen.itemScores).toEqual([504, 603]);
    expect(output()).toContain("ok lvd_test_live_allocations == live");
  });

  it("an object the kernel makes comes back through 'projection thing **' and binds to the kernel's own", () => {
    expect(output()).toContain("ok make_thing(7, &t) == 0");
    expect(seen.thingN).toBe(7);
  });

  it("the kernel calls the driver back (nested inside the driver's call) through trampolines", () => {
    expect(output()).toContain("hello, kernel\n");
    expect(h.domainCalls).toBeGreaterThanOrEqual(8);
  });

  it("the domain refuses an unregistered function, an unknown name, an unknown rpc_ptr and a short message", () => {
    const r = seen.refusals;
    expect(r.unregistered).toBe(ERR_FUNCTION);
    expect(errorOf(r.badName as bigint[])).toBe(ERR_CAPABILITY);
    expect(errorOf(r.unknownIndex as bigint[])).toBe(ERR_MESSAGE);
    expect(errorOf(r.short as bigint[])).toBe(ERR_LENGTH);
    expect(r.fine).toBe(42);
  });

  function output(): string {
    return result.output;
  }
});

function errorOf(reply: bigint[]): number | "reply" {
  if (headerKind(reply[0]) === KIND_REPLY) return "reply";
  expect(headerKind(reply[0])).toBe(KIND_ERROR);
  return Number(reply[1]);
}
