// KSplit's marshaling costs (reference Table 4) in the LVD runtime: a domain calls the
// kernel functions of idl/ksplit_marshal.idl through the IDL-generated glue on both sides
// (C in the domain, TypeScript in the kernel) and the springboard, and times each kind of
// argument with RDTSC (drivers/bench/ksplit_marshal.c).

import type { Kernel } from "../kernel.ts";
import type { KernelPath } from "../thread.ts";
import type { Lvd, GlueBinder } from "../lvd/lvd.ts";
import type { ElfFile } from "../../machine/elf.ts";
import { KernelBug } from "../exec.ts";

export interface MarshalRow {
  name: string;
  paper: number;
  ours: number;
}

const CASES: [string, number][] = [
  ["null call", 502], ["integer", 532], ["array of 32 x 8 bytes", 690], ["256-byte string", 1310],
  ["4 KB void buffer", 919], ["union", 710],
];

/**
 * The kernel's side of idl/ksplit_marshal.idl: functions that take what they are given.
 * union_call answers from the union's member, so the test sees it arrived.
 */
export const ksplitKernel = {
  null_call(): void {},
  integer(value: bigint): bigint {
    return value + 1n;
  },
  array_u64(): void {},
  string_256(): void {},
  void_buffer(): void {},
  union_call(msg: { kind: number; body: { number: bigint; point: { x: number; y: number } } } | null): bigint {
    if (!msg) return -1n;
    return msg.kind === 2 ? BigInt(msg.body.point.x + msg.body.point.y) : msg.body.number;
  },
};

export function* marshalCosts(k: Kernel, lvd: Lvd, driver: ElfFile[], glue: GlueBinder): KernelPath<MarshalRow[]> {
  const rows: MarshalRow[] = [];
  const t = k.spawn("ksplit-marshal", function* () {
    const { domain, status } = yield* lvd.create("ksplit_marshal", driver, glue);
    if (status !== 0) throw new KernelBug(`the marshaling driver's checks of the replies failed (${status})`);
    const at = domain.kernelAddress(domain.image.symbols.get("lvd_bench_results")!)!;
    CASES.forEach(([name, paper], i) => rows.push({ name, paper, ours: k.mem.read64(at + 8 * i) }));
    yield* lvd.destroy(domain);
  }, 0);
  yield* k.join(t);
  if (t.killed) throw new KernelBug(`the marshaling benchmark failed: ${t.killed}`);
  return rows;
}

export function formatMarshal(rows: MarshalRow[]): string {
  return [
    "Table 4 (KSplit): marshaling through IDL-generated glue, domain -> kernel call and reply, cycles",
    "",
    "  argument                       ours   paper   ratio",
    ...rows.map((r) => `  ${r.name.padEnd(28)} ${String(r.ours).padStart(6)}   ${String(r.paper).padStart(5)}   ${(r.ours / r.paper).toFixed(2)}`),
  ].join("\n");
}
