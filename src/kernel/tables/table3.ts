// The reference's Table 3: the cost of delivering one interrupt and returning from it,
// with a minimal handler (a vector of its own, EOI only), measured by running the code:
// the same machine-code loop is timed with RDTSC with no interrupt source and with the
// local APIC timer firing every PERIOD cycles on that vector; the extra cycles divided by
// the interrupts the timed window took are one interrupt's cost. In the kernel the loop is
// arch/bench.S lvd_bench_spin; inside a domain the same instructions run in
// drivers/bench/interrupt_spin.c. The rows differ only in what runs: the vanilla entry
// (frame on the interrupted stack) or LVD's exitless one (IST, and from a domain the
// VMFUNCs and frame copies of arch/irq-entry.S), natively or under the hypervisor.
//
// Both loops return with interrupts off, so an interrupt after the window's second RDTSC
// waits until the window's count is read. Under the hypervisor a window in which the
// vCPU took a VM exit (the watchdog's preemption timer, every 1M cycles) is measured
// again: an exit's cost is not the interrupt's.

import type { Kernel } from "../kernel.ts";
import { call, type KernelPath } from "../thread.ts";
import { lateLaunch } from "../late-launch.ts";
import { Lvd, KIND, header } from "../lvd/lvd.ts";
import type { Domain } from "../lvd/domain.ts";
import { KernelBug } from "../exec.ts";
import { IF } from "../../machine/cpu/flags.ts";
import type { ElfFile } from "../../machine/elf.ts";

/** The benchmark's own vector: its handler only acknowledges the interrupt. */
export const BENCH_VECTOR = 0xd0;
/** Timer period while measuring: long beside one interrupt's cost, so they never queue up. */
const PERIOD = 4000;
/** Loop rounds per timed window (about 3 cycles each): well under the watchdog's period. */
const ROUNDS = 60_000;
/** Timed windows of each kind that count (with no VM exit inside), and attempts allowed. */
const WINDOWS = 6;
const ATTEMPTS = 40;

export interface Table3Row {
  name: string;
  paper: number;
  /** Cycles per interrupt, delivered and returned from. */
  ours: number;
  /** Interrupts the figure is measured over. */
  interrupts: number;
}

/** One interrupt's cost where `spin(n)` runs: a loop timed by itself that returns with interrupts off. */
interface Site {
  spin: (rounds: number) => KernelPath<number>;
  /** Interrupts the site took so far (all of those of BENCH_VECTOR, or those that arrived inside the domain). */
  arrivals: () => number;
}

function exits(k: Kernel): number {
  let n = 0;
  for (const c of k.hypervisor?.exitCounts(k.cpu.id).values() ?? []) n += c;
  return n;
}

/**
 * Runs timed windows with and without the benchmark's timer and returns the cycles per
 * interrupt. Runs in a thread pinned to one vCPU, the kernel's own tick stopped.
 */
function* perInterrupt(k: Kernel, site: Site): KernelPath<{ cycles: number; interrupts: number }> {
  const handled = () => k.interrupts.counts.get(BENCH_VECTOR) ?? 0;
  /** One window: its cycles and the interrupts it took, or null if the vCPU took a VM exit during it. */
  const window = function* (timer: boolean): KernelPath<{ cycles: number; interrupts: number } | null> {
    const exitsBefore = exits(k);
    const before = handled(), arrivedBefore = site.arrivals();
    if (timer) k.lapic.startTimer(PERIOD, BENCH_VECTOR);
    const cycles = yield* site.spin(ROUNDS);
    const interrupts = handled() - before;
    k.lapic.stopTimer();
    k.cpu.rflags |= IF; // the loop returned with interrupts off
    // One that fired after the window is pending: taken here, before the next window starts.
    yield* call(k.symbols.lvd_bench_loop, 1);
    if (site.arrivals() - arrivedBefore < interrupts) throw new KernelBug("an interrupt of the window arrived outside the code measured");
    if (!timer && interrupts !== 0) throw new KernelBug(`${interrupts} interrupt(s) without the benchmark's timer`);
    return exits(k) === exitsBefore ? { cycles, interrupts } : null;
  };
  const collect = function* (timer: boolean) {
    const kept: { cycles: number; interrupts: number }[] = [];
    for (let i = 0; i < ATTEMPTS && kept.length < WINDOWS; i++) {
      const w = yield* window(timer);
      if (w) kept.push(w);
    }
    if (kept.length < WINDOWS) throw new KernelBug(`only ${kept.length} of ${ATTEMPTS} windows ran without a VM exit`);
    return kept;
  };
  yield* window(true); // warm: TLBs, the handler's pages
  const quiet = yield* collect(false);
  const loud = yield* collect(true);
  const base = quiet.reduce((s, w) => s + w.cycles, 0) / quiet.length;
  const interrupts = loud.reduce((s, w) => s + w.interrupts, 0);
  const extra = loud.reduce((s, w) => s + w.cycles - base, 0);
  if (interrupts === 0) throw new KernelBug("no interrupt arrived while the loop ran");
  return { cycles: Math.round(extra / interrupts), interrupts };
}

/** Runs `measure` in a thread pinned to vCPU 0 with the kernel's tick replaced by nothing, then restores the tick. */
function* pinned<T>(k: Kernel, measure: () => KernelPath<T>): KernelPath<T> {
  let result: T | undefined;
  const t = k.spawn("table3", function* () {
    k.lapic.stopTimer();
    // Let whatever is queued here run now (the console writing the log), not during a window.
    yield* k.scheduler.schedule();
    try {
      result = yield* measure();
    } finally {
      k.lapic.startTimer(k.tickCycles);
    }
  }, 0);
  yield* k.join(t);
  if (t.killed || result === undefined) throw new KernelBug(`the interrupt benchmark failed: ${t.killed}`);
  return result;
}

function inKernel(k: Kernel): Site {
  return {
    spin: (rounds) => call(k.symbols.lvd_bench_spin, rounds),
    arrivals: () => k.interrupts.counts.get(BENCH_VECTOR) ?? 0,
  };
}

function inDomain(k: Kernel, lvd: Lvd, d: Domain): Site {
  return {
    spin: function* (rounds) {
      const reply = yield* lvd.call(d, [header(KIND.RPC_PTR, 0), BigInt(rounds)]);
      return Number(reply[1]);
    },
    arrivals: () => k.interrupts.fromDomains,
  };
}

/**
 * The rows of one kernel, booted and not yet launched: with the vanilla entry
 * (exitless: false) the vanilla rows, natively and under the hypervisor; with LVD's
 * entry those two and, with LVD started, an interrupt inside a domain of `driver`
 * (drivers/bench/interrupt_spin.c). Ends with the hypervisor launched.
 */
export function* table3(k: Kernel, driver: ElfFile[]): KernelPath<Table3Row[]> {
  k.interrupts.request(BENCH_VECTOR, () => k.lapic.eoi());
  const rows: Table3Row[] = [];
  const row = (name: string, paper: number, m: { cycles: number; interrupts: number }) =>
    rows.push({ name, paper, ours: m.cycles, interrupts: m.interrupts });
  const vanilla = !k.exitless;
  row(vanilla ? "vanilla" : "LVD kernel", vanilla ? 607 : 666, yield* pinned(k, () => perInterrupt(k, inKernel(k))));
  yield* lateLaunch(k);
  row(vanilla ? "vanilla, virtualized" : "LVD kernel virtualized, in the kernel", vanilla ? 620 : 680,
    yield* pinned(k, () => perInterrupt(k, inKernel(k))));
  if (vanilla) return rows;
  const lvd = k.lvd ?? new Lvd(k);
  if (!k.lvd) yield* lvd.start();
  let domain: Domain | null = null;
  const m = yield* pinned(k, function* () {
    domain = (yield* lvd.create("interrupt_spin", driver)).domain;
    return yield* perInterrupt(k, inDomain(k, lvd, domain));
  });
  row("interrupt inside an LVD", 1060, m);
  const d = domain as Domain | null;
  if (d) {
    const t = k.spawn("table3-cleanup", () => lvd.destroy(d), 0);
    yield* k.join(t);
  }
  return rows;
}

export function formatTable3(rows: Table3Row[]): string {
  return [
    "Table 3: interrupt delivery and return, minimal handler, cycles (paper: Haswell E5-2660 v3; ours: modeled, measured by running the entry code)",
    "",
    "  configuration                                  ours   paper   ratio   interrupts measured",
    ...rows.map((r) =>
      `  ${r.name.padEnd(45)} ${String(r.ours).padStart(5)}   ${String(r.paper).padStart(5)}   ${(r.ours / r.paper).toFixed(2)}   ${String(r.interrupts).padStart(8)}`),
    ...differences(rows),
  ].join("\n");
}

/** What each step adds, ours beside the paper's (reference §7: virtualization, the IST entry, the two VMFUNCs and copies). */
function differences(rows: Table3Row[]): string[] {
  const by = new Map(rows.map((r) => [r.name, r]));
  const steps: [string, string, string][] = [
    ["virtualization (vanilla)", "vanilla", "vanilla, virtualized"],
    ["LVD's IST entry (native)", "vanilla", "LVD kernel"],
    ["from inside a domain", "LVD kernel virtualized, in the kernel", "interrupt inside an LVD"],
  ];
  const lines = ["", "  what a step adds                               ours   paper"];
  for (const [name, from, to] of steps) {
    const a = by.get(from), b = by.get(to);
    if (a && b) lines.push(`  ${name.padEnd(45)} ${`+${b.ours - a.ours}`.padStart(5)}   ${`+${b.paper - a.paper}`.padStart(5)}`);
  }
  return lines.length > 2 ? lines : [];
}
