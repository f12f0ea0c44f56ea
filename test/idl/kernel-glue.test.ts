// The kernel side of generated glue on its own: a dispatcher given crafted requests, as a
// hostile domain would send them. Whatever the glue cannot accept gets an ERROR reply,
// and the kernel's implementation is never called with it.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryChannel, runPath } from "./memory-channel.ts";
import { checkIdl } from "../../src/idl/compile.ts";
import { PROJECT_ROOT } from "../../src/cli/compile.ts";
import {
  WordWriter, GlueError, DOMAIN_NAME_BIT, ERR_CAPABILITY, ERR_LENGTH, ERR_MESSAGE, ERR_VALUE, KIND_ERROR, KIND_REPLY,
  KIND_RPC, KIND_RPC_PTR, header, headerCount, headerIndex, headerKind,
} from "../../src/idl/glue-runtime.ts";
import { bindRoundtrip, call_cb_add, type RoundtripKernel } from "./baselines/roundtrip/roundtrip_glue.ts";

const module = checkIdl(readFileSync(join(PROJECT_ROOT, "test/idl/cases/roundtrip.idl"), "utf8"), "roundtrip.idl").module!;
const index = (name: string) => module.rpcs.find((r) => r.name === name)!.index;

/** An implementation that records which methods ran (answering 0 of the right type). */
function recorder(calls: string[]): RoundtripKernel {
  const bigintAnswers = new Set(["ints", "sum32", "checksum", "area_of", "union_call", "visit_point"]);
  return new Proxy({} as RoundtripKernel, {
    get: (_target, name: string) => () => {
      calls.push(name);
      return bigintAnswers.has(name) ? 0n : 0;
    },
  });
}

function request(rpc: string, fill: (w: WordWriter) => void): bigint[] {
  const w = new WordWriter();
  fill(w);
  return w.finish(KIND_RPC, index(rpc));
}

function setup() {
  const ch = new MemoryChannel();
  const calls: string[] = [];
  const dispatch = bindRoundtrip(ch, recorder(calls));
  const send = (words: bigint[]) => runPath(dispatch(words));
  return { ch, calls, send };
}

function refusal(reply: bigint[]): number {
  expect(headerKind(reply[0])).toBe(KIND_ERROR);
  expect(headerCount(reply[0])).toBe(2);
  return Number(reply[1]);
}

/** measure() with a shape the domain names `name` (alloc(callee): the kernel makes its copy). */
function measure(name: bigint) {
  return request("measure", (w) => {
    w.put(name);
    w.putInt(3); // kind
    w.putInt(7); // version
    w.putInt(1); // origin.x
    w.putInt(2); // origin.y
    w.putString("sq");
    w.putArray(Uint8Array.of(1, 2, 3, 4), 1);
  });
}

describe("the kernel's dispatcher refuses what it cannot accept", () => {
  it("a well-formed call gets a REPLY with its index and word count", () => {
    const { send, calls } = setup();
    const reply = send(measure(DOMAIN_NAME_BIT | 1n));
    expect(headerKind(reply[0])).toBe(KIND_REPLY);
    expect(headerIndex(reply[0])).toBe(index("measure"));
    expect(headerCount(reply[0])).toBe(reply.length);
    expect(calls).toEqual(["measure"]);
  });

  it("a name that stands for nothing (bind) is a bad capability", () => {
    const { send, calls } = setup();
    expect(refusal(send(request("area_of", (w) => w.put(5n))))).toBe(ERR_CAPABILITY);
    expect(refusal(send(request("area_of", (w) => w.put(DOMAIN_NAME_BIT | 5n))))).toBe(ERR_CAPABILITY);
    expect(calls).toEqual([]);
  });

  it("the domain cannot make the kernel copy an object under a kernel name (alloc)", () => {
    const { send, calls } = setup();
    expect(refusal(send(measure(7n)))).toBe(ERR_CAPABILITY);
    expect(calls).toEqual([]);
  });

  it("a name of another type is a bad capability; the same name with its type is fine", () => {
    const { send, calls } = setup();
    send(measure(DOMAIN_NAME_BIT | 1n));
    expect(refusal(send(request("point_sum", (w) => w.put(DOMAIN_NAME_BIT | 1n))))).toBe(ERR_CAPABILITY);
    const ok = send(request("area_of", (w) => {
      w.put(DOMAIN_NAME_BIT | 1n);
      w.putInt(3);
    }));
    expect(headerKind(ok[0])).toBe(KIND_REPLY);
    expect(calls).toEqual(["measure", "area_of"]);
  });

  it("array counts are checked: a constant size, a size given by an argument, a count past the message", () => {
    const { send, calls } = setup();
    expect(refusal(send(request("sum32", (w) => w.putArray(new Array<bigint>(31).fill(1n), 8))))).toBe(ERR_LENGTH);
    expect(refusal(send(request("checksum", (w) => {
      w.putInt(5);
      w.putArray(Uint8Array.of(1, 2, 3, 4, 5, 6), 1);
    })))).toBe(ERR_LENGTH);
    expect(refusal(send(request("checksum", (w) => {
      w.putInt(4000);
      w.putInt(4000); // claims 4000 bytes, sends none
    })))).toBe(ERR_LENGTH);
    expect(calls).toEqual([]);
  });

  it("a message that ends before its arguments is a bad length", () => {
    const { send, calls } = setup();
    expect(refusal(send(request("ints", (w) => {
      w.putInt(1);
      w.putInt(2);
    })))).toBe(ERR_LENGTH);
    expect(calls).toEqual([]);
  });

  it("a union member other than the one its discriminator selects is a bad value", () => {
    const { send, calls } = setup();
    expect(refusal(send(request("union_call", (w) => {
      w.put(DOMAIN_NAME_BIT | 2n);
      w.putInt(0); // kind 0: the number
      w.putInt(1); // but member 1 is sent
      w.putArray(new Uint8Array(8), 1);
    })))).toBe(ERR_VALUE);
    expect(calls).toEqual([]);
  });

  it("an unknown rpc index, or a message of another kind, is a bad message", () => {
    const { send } = setup();
    expect(refusal(send([header(KIND_RPC, 200, 1)]))).toBe(ERR_MESSAGE);
    expect(refusal(send([header(KIND_RPC_PTR, 0, 1)]))).toBe(ERR_MESSAGE);
  });

  it("a dealloc(callee) frees the kernel's copy of a domain object, and the strings it owns", () => {
    const { ch, send } = setup();
    send(measure(DOMAIN_NAME_BIT | 1n));
    expect(ch.live.size).toBe(2); // the shape and its label
    send(request("forget", (w) => w.put(DOMAIN_NAME_BIT | 1n)));
    expect(ch.live.size).toBe(0);
    expect(ch.cspace.size).toBe(0);
  });
});

describe("the kernel's calls into the domain", () => {
  it("marshal the hidden argument and the arguments, and unmarshal the reply", () => {
    let sent: bigint[] = [];
    const ch = new MemoryChannel((words) => {
      sent = words;
      return [header(KIND_REPLY, 0, 2), BigInt.asUintN(64, -5n)];
    });
    expect(runPath(call_cb_add(ch, -0x7fff0000, 7, -9))).toBe(-5);
    expect(sent).toEqual([header(KIND_RPC_PTR, 0, 4), BigInt.asUintN(64, -0x7fff0000n), 7n, BigInt.asUintN(64, -9n)]);
  });

  it("an ERROR reply throws a GlueError with the domain's reason", () => {
    const ch = new MemoryChannel(() => [header(KIND_ERROR, 0, 2), 4n]);
    expect(() => runPath(call_cb_add(ch, 0x1000, 1, 2))).toThrowError(GlueError);
    try {
      runPath(call_cb_add(ch, 0x1000, 1, 2));
    } catch (e) {
      expect((e as GlueError).code).toBe(4);
    }
  });
});
