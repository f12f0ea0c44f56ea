// A hostile domain against the kernel's generated glue: random requests (seeded) to the
// dispatcher of test/idl/cases/roundtrip.idl. Whatever arrives, the answer is a REPLY or
// an ERROR; the glue never throws anything else at the kernel, and never reads or writes
// memory outside what it allocated.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryChannel, runPath } from "./memory-channel.ts";
import { checkIdl } from "../../src/idl/compile.ts";
import { PROJECT_ROOT } from "../../src/cli/compile.ts";
import { Prng } from "../../src/machine/prng.ts";
import { DOMAIN_NAME_BIT, KIND_ERROR, KIND_REPLY, KIND_RPC, NULL_COUNT, header, headerKind } from "../../src/idl/glue-runtime.ts";
import { bindRoundtrip, type RoundtripKernel } from "./baselines/roundtrip/roundtrip_glue.ts";
import type { Rpc } from "../../src/idl/types.ts";

const module = checkIdl(readFileSync(join(PROJECT_ROOT, "test/idl/cases/roundtrip.idl"), "utf8"), "roundtrip.idl").module!;

/** An implementation that answers every rpc with the zero of its return type. */
function zeroes(rpcs: Rpc[]): RoundtripKernel {
  const answers = new Map<string, unknown>();
  for (const r of rpcs) {
    const t = r.returns?.type;
    answers.set(r.name, t === undefined ? undefined : t.kind !== "int" ? null : t.int.isBool ? false : t.int.bytes === 8 ? 0n : 0);
  }
  return new Proxy({} as RoundtripKernel, { get: (_t, name: string) => () => answers.get(name) });
}

/** A word a hostile domain might send: small numbers, names of both sides, NULL counts, garbage. */
function word(rng: Prng, names: bigint[]): bigint {
  switch (rng.below(6)) {
    case 0: return BigInt(rng.below(8));
    case 1: return names.length > 0 && rng.below(2) ? names[rng.below(names.length)] : DOMAIN_NAME_BIT | BigInt(1 + rng.below(4));
    case 2: return NULL_COUNT;
    case 3: return BigInt(rng.below(5000));
    case 4: return (BigInt(rng.next()) << 32n) | BigInt(rng.next());
    default: return BigInt(1 + rng.below(6));
  }
}

describe("the kernel's glue against random requests", () => {
  it("answers 20000 random requests with REPLY or ERROR, and nothing else", () => {
    const rng = new Prng(0x1d1);
    const ch = new MemoryChannel();
    const dispatch = bindRoundtrip(ch, zeroes(module.rpcs));
    const names: bigint[] = [];
    const kinds = { replies: 0, errors: 0 };
    for (let n = 0; n < 20000; n++) {
      const rpc = rng.below(module.rpcs.length + 1);
      const words = [0n];
      const length = rng.below(24);
      for (let k = 0; k < length; k++) words.push(word(rng, names));
      words[0] = header(rng.below(50) === 0 ? rng.below(256) : KIND_RPC, rpc, words.length);
      const reply = runPath(dispatch(words));
      const kind = headerKind(reply[0]);
      expect([KIND_REPLY, KIND_ERROR]).toContain(kind);
      if (kind === KIND_REPLY) {
        kinds.replies++;
        // Remember names the kernel handed out (a returned point) to use them later.
        for (const w of reply.slice(1)) if (w > 0n && w < 1000n && rng.below(4) === 0) names.push(w);
      } else kinds.errors++;
    }
    // Both kinds happen: the fuzzer reaches the implementation, and is refused too.
    expect(kinds.replies).toBeGreaterThan(500);
    expect(kinds.errors).toBeGreaterThan(5000);
  });
});
