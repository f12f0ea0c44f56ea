// `lvd interrupts`: exitless interrupt delivery under load. Boots the kernel, late-launches
// the hypervisor, starts LVD and runs the interrupt storm (src/kernel/interrupt-storm.ts):
// a thread per vCPU calling one domain over and over while the APIC timer ticks at a short
// period and the threads send each other IPIs; then prints what was delivered, where it
// arrived, what the handlers saw, IPIs sent against received, ticks against elapsed
// cycles, and the VM exits the vCPUs took while the domain ran.

import { join } from "node:path";
import { Machine } from "../machine/machine.ts";
import { parseElf } from "../machine/elf.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import { lateLaunch } from "../kernel/late-launch.ts";
import { Lvd } from "../kernel/lvd/lvd.ts";
import { interruptStorm, type StormReport } from "../kernel/interrupt-storm.ts";
import { CLOCK_HZ } from "../kernel/console.ts";
import { domainObjects, PROJECT_ROOT } from "./compile.ts";

export interface InterruptsOptions {
  count: number;
  cpus: number;
  tick: number;
  rounds: number;
  seed: number;
}

/** Boots and runs the storm; the report, the machine's instruction count and the host seconds it took. */
export function runStorm(o: InterruptsOptions): { report: StormReport | null; stop: string; instructions: number; seconds: number; oopses: number } {
  const driver = domainObjects(join(PROJECT_ROOT, "drivers", "bench", "interrupt_spin.c")).map((x) => parseElf(x.bytes, x.name));
  const machine = new Machine({ cpus: o.cpus, memoryBytes: 64 << 20, seed: o.seed });
  let report: StormReport | null = null;
  const k = bootKernel(machine, function* (k) {
    yield* lateLaunch(k);
    const lvd = new Lvd(k);
    yield* lvd.start();
    report = yield* interruptStorm(k, lvd, driver, { interrupts: o.count, rounds: o.rounds });
  }, { tickCycles: o.tick });
  const t0 = performance.now();
  // Far more instructions than the run needs (a few hundred per interrupt): a failure cannot hang.
  const run = machine.run(50_000_000 + o.count * 20_000);
  return { report, stop: run.stop, instructions: run.instructions, seconds: (performance.now() - t0) / 1000, oopses: k.stats.oopses };
}

/** Whether the report shows every interrupt handled and none exiting. */
export function stormProblems(r: StormReport): string[] {
  const problems: string[] = [];
  if (r.delivered !== r.handled) problems.push(`${r.delivered} delivered but ${r.handled} handled`);
  for (const c of r.perCpu) {
    // The window's ends: periods is a floor (up to one tick more fits), a tick that fired just
    // before the window may be taken inside it (+1) and one that fired at its end after it (-1).
    if (c.ticks < c.periods - 1 || c.ticks > c.periods + 2) problems.push(`vCPU ${c.cpu}: ${c.ticks} timer ticks in ${c.periods} periods`);
    for (const d of r.perCpu) {
      if (d.cpu !== c.cpu && c.sent[d.cpu] !== d.received[c.cpu]) problems.push(`IPIs ${c.cpu} -> ${d.cpu}: ${c.sent[d.cpu]} sent, ${d.received[c.cpu]} received`);
    }
  }
  for (const reason of ["EXTERNAL_INTERRUPT", "EXCEPTION_OR_NMI", "INTERRUPT_WINDOW"]) {
    if (r.exits.get(reason)) problems.push(`${r.exits.get(reason)} ${reason} exit(s) while domains ran`);
  }
  if (r.wrongResults) problems.push(`${r.wrongResults} domain call(s) returned a wrong result`);
  if (!r.domainAlive) problems.push("the domain was killed");
  return problems;
}

export function interrupts(o: InterruptsOptions): number {
  const { report: r, stop, instructions, seconds, oopses } = runStorm(o);
  if (stop !== "exit" || !r) {
    process.stderr.write(`lvd: the run did not complete (${stop} after ${instructions} instructions)\n`);
    return 2;
  }
  const out: string[] = [];
  const pct = (a: number, b: number) => `${((100 * a) / Math.max(b, 1)).toFixed(1)}%`;
  out.push(`interrupts: ${o.cpus} vCPU(s), timer every ${o.tick} cycles, an IPI to every other vCPU after each domain call (${o.rounds} xorshift rounds)`);
  out.push(`delivered:  ${r.delivered} (timer ticks and IPIs at the kernel's interrupt gate)`);
  out.push(`  inside a domain: ${r.fromDomains} (${pct(r.fromDomains, r.delivered)})`);
  out.push(`handled:    ${r.handled} (counted by the handlers)`);
  out.push("");
  out.push("  vCPU   domain calls   timer ticks   periods elapsed   IPIs sent   IPIs received");
  for (const c of r.perCpu) {
    const sent = c.sent.reduce((a, b) => a + b, 0), received = c.received.reduce((a, b) => a + b, 0);
    out.push(`  ${String(c.cpu).padStart(4)}   ${String(c.calls).padStart(12)}   ${String(c.ticks).padStart(11)}   ${String(c.periods).padStart(15)}   ${String(sent).padStart(9)}   ${String(received).padStart(13)}`);
  }
  out.push("");
  const exits = [...r.exits].sort((a, b) => b[1] - a[1]);
  out.push(`VM exits while the storm ran (each vCPU from its thread's first domain call to its last): ${exits.reduce((a, [, n]) => a + n, 0)}${exits.length ? "" : " (none)"}`);
  for (const [reason, n] of exits) out.push(`  ${reason.padEnd(22)} ${n}`);
  out.push(`  EXTERNAL_INTERRUPT     ${r.exits.get("EXTERNAL_INTERRUPT") ?? 0}`);
  out.push(`domain results: ${r.wrongResults === 0 ? "all correct" : `${r.wrongResults} WRONG`}; domain ${r.domainAlive ? "alive" : "KILLED"}; kernel oopses: ${oopses}`);
  out.push(`time: ${r.cycles} modeled cycles (${(r.cycles / CLOCK_HZ).toFixed(4)} s at 2.6 GHz); host ${seconds.toFixed(1)} s, ${instructions} instructions`);
  const problems = stormProblems(r);
  if (oopses) problems.push(`${oopses} kernel oops(es)`);
  out.push(problems.length ? `PROBLEMS:\n  ${problems.join("\n  ")}` : "no interrupt lost, none caused a VM exit");
  process.stdout.write(out.join("\n") + "\n");
  return problems.length ? 1 : 0;
}
