// Exitless interrupts under load (reference §7): a kernel thread pinned to each vCPU calls
// the same domain over and over (drivers/bench/interrupt_spin.c, an xorshift chain whose
// result the kernel checks), while the kernel's APIC timer ticks at a short period and,
// after each call, the thread sends an IPI to every other vCPU. Interrupts land mostly
// inside the domain, where exitless entry takes them to the kernel's handlers with no VM
// exit. Everything needed to tell that none was lost is counted at both ends: IPIs sent
// and received by (source, destination) (a vector per source, so two in flight to one
// vCPU never merge in its IRR), timer ticks against the cycles each thread ran for, and
// the VM exits each vCPU took while its thread ran (a vCPU that idles afterwards may take
// external-interrupt exits by design: the watchdog parks halted vCPUs; those are not
// counted).

import type { Kernel } from "./kernel.ts";
import { xorshift } from "./selftest.ts";
import type { KernelPath } from "./thread.ts";
import { KIND, header, type Lvd } from "./lvd/lvd.ts";
import type { Domain } from "./lvd/domain.ts";
import { KernelBug } from "./exec.ts";
import { TIMER_VECTOR } from "./arch/lapic.ts";
import type { ElfFile } from "../machine/elf.ts";

/** IPIs from vCPU s use vector IPI_BASE + s. */
export const IPI_BASE = 0xc0;
const MAX_CPUS = 16;
/** Distinct seeds each thread cycles through: their results are computed once, every call is checked. */
const SEEDS = 16;

export interface StormOptions {
  /** Stop once the vCPUs have handled at least this many timer ticks and IPIs in all. */
  interrupts: number;
  /** Xorshift rounds per domain call (about 6 cycles each). */
  rounds: number;
}

export interface CpuReport {
  cpu: number;
  calls: number;
  cycles: number;
  /** Timer ticks handled while the thread ran, and what the cycles it ran for allow (floor of cycles / period). */
  ticks: number;
  periods: number;
  /** IPIs this vCPU sent, and received, by the other vCPU. */
  sent: number[];
  received: number[];
}

export interface StormReport {
  perCpu: CpuReport[];
  /** Timer and IPI interrupts that reached the kernel's interrupt gate during the run. */
  delivered: number;
  /** Of those, the ones that arrived while a domain ran. */
  fromDomains: number;
  /** What the handlers saw: ticks and IPIs counted by the handlers themselves. */
  handled: number;
  /** VM exits by reason the vCPUs took while their threads ran. */
  exits: Map<string, number>;
  /** Domain calls whose result differed from the kernel's. */
  wrongResults: number;
  /** Modeled cycles from the first thread's start to the last one's end (vCPU clocks are kept close). */
  cycles: number;
  domainAlive: boolean;
}

/** Runs the storm on every online vCPU with the LVD runtime `lvd` started; `driver` is interrupt_spin.c's objects. */
export function* interruptStorm(k: Kernel, lvd: Lvd, driver: ElfFile[], o: StormOptions): KernelPath<StormReport> {
  const cpus = k.percpus.filter((pc) => pc.online).map((pc) => pc.id);
  if (cpus.length > MAX_CPUS) throw new KernelBug(`the storm uses one IPI vector per vCPU: at most ${MAX_CPUS}`);
  const n = k.percpus.length;
  const sent = k.percpus.map(() => new Array<number>(n).fill(0));
  const received = k.percpus.map(() => new Array<number>(n).fill(0));
  for (let s = 0; s < n; s++) {
    k.interrupts.request(IPI_BASE + s, () => {
      received[k.cpu.id][s]++;
      k.lapic.eoi();
    });
  }
  const counted = () => [TIMER_VECTOR, ...cpus.map((s) => IPI_BASE + s)].reduce((a, v) => a + (k.interrupts.counts.get(v) ?? 0), 0);
  const ticksNow = () => k.percpus.reduce((a, pc) => a + pc.ticks, 0);
  const receivedNow = () => received.flat().reduce((a, b) => a + b, 0);
  const handledNow = () => ticksNow() + receivedNow();

  const { domain } = yield* lvd.create("interrupt_spin", driver);
  const expected = cpus.map((c) => Array.from({ length: SEEDS }, (_, i) => xorshift(seed(c, i), o.rounds)));
  const exits = new Map<string, number>();
  const reports: CpuReport[] = [];
  let wrongResults = 0;
  let start = Infinity, end = 0;
  const handledAtStart = handledNow(), deliveredAtStart = counted(), fromDomainsAtStart = k.interrupts.fromDomains;

  const threads = cpus.map((c, index) => k.spawn(`storm/${c}`, function* () {
    const pc = k.percpu();
    const exitsBefore = new Map(k.hypervisor?.exitCounts(c) ?? []);
    const cycles0 = k.cpu.cycles, ticks0 = pc.ticks;
    start = Math.min(start, cycles0);
    let calls = 0;
    while (handledNow() - handledAtStart < o.interrupts && !domain.dead) {
      const reply = yield* lvd.call(domain, [header(KIND.RPC_PTR, 1), seed(c, calls % SEEDS), BigInt(o.rounds)]);
      if (reply[1] !== expected[index][calls % SEEDS]) wrongResults++;
      calls++;
      for (const d of cpus) {
        if (d === c) continue;
        k.lapic.sendIpi(d, IPI_BASE + c);
        sent[c][d]++;
      }
    }
    const cycles = k.cpu.cycles - cycles0;
    end = Math.max(end, k.cpu.cycles);
    for (const [reason, count] of k.hypervisor?.exitCounts(c) ?? []) {
      const during = count - (exitsBefore.get(reason) ?? 0);
      if (during > 0) exits.set(reason, (exits.get(reason) ?? 0) + during);
    }
    reports.push({ cpu: c, calls, cycles, ticks: pc.ticks - ticks0, periods: Math.floor(cycles / k.tickCycles), sent: sent[c], received: received[c] });
  }, c));
  for (const t of threads) yield* k.join(t);
  const killed = threads.filter((t) => t.killed);
  if (killed.length) throw new KernelBug(`storm thread(s) failed: ${killed.map((t) => t.killed).join("; ")}`);

  // The last IPIs may still be on their way to vCPUs whose threads are done: wait for them (bounded).
  const inFlight = () => cpus.some((s) => cpus.some((d) => sent[s][d] !== received[d][s]));
  for (let i = 0; i < 100 && inFlight(); i++) yield* k.scheduler.sleep(k.tickCycles);

  const delivered = counted() - deliveredAtStart;
  const fromDomains = k.interrupts.fromDomains - fromDomainsAtStart;
  const handled = handledNow() - handledAtStart; // at the same moment as `delivered`
  const domainAlive = !domain.dead;
  yield* lvd.destroy(domain);
  reports.sort((a, b) => a.cpu - b.cpu);
  return { perCpu: reports, delivered, fromDomains, handled, exits, wrongResults, cycles: end - start, domainAlive };
}

/** The seeds of vCPU c's calls: distinct per vCPU, never zero (xorshift's fixed point). */
function seed(c: number, i: number): bigint {
  return (BigInt(c + 1) << 32n) | BigInt(i + 1);
}
