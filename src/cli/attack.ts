// `lvd attack <name>` / `--list` / `--all`: LVD's defences, each attacked by a malicious
// domain (drivers/attacks/attacker.c), and the proof that the attack was contained.
//
// A run boots the kernel, late-launches the hypervisor, starts LVD, writes a canary page
// of kernel memory, creates a well-behaved bystander domain and starts kernel threads on
// every vCPU (xorshift chains); then each step of the attack creates the attacker and
// makes one crossing into it. Contained means: every step ended as expected (the kill
// reason, or survival where the attack is harmless), the canary is intact, the attack's
// own target is intact, the bystander still answers and the threads' results are right.
// test/lvd/attacks.test.ts asserts the same outcomes.

import { Machine } from "../machine/machine.ts";
import { parseElf, type ElfFile } from "../machine/elf.ts";
import { hex64 } from "../machine/cpu/interrupts.ts";
import { IF } from "../machine/cpu/flags.ts";
import { bootKernel } from "../kernel/boot/boot.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { lateLaunch } from "../kernel/late-launch.ts";
import { Lvd, DomainKilled, KIND, header } from "../kernel/lvd/lvd.ts";
import type { Domain } from "../kernel/lvd/domain.ts";
import { call, type KernelPath, type Thread } from "../kernel/thread.ts";
import { PAGE, phys2virt } from "../kernel/layout.ts";
import { APIC_VA } from "../kernel/arch/lapic.ts";
import { ORIGIN } from "../kernel/arch/frame.ts";
import { regU64 } from "../kernel/registers.ts";
import { runUser, releaseUser } from "../kernel/user-mode.ts";
import { xorshift } from "../kernel/selftest.ts";
import { RAX } from "../machine/cpu/cpu.ts";
import { domainObjects, PROJECT_ROOT } from "./compile.ts";
import { join } from "node:path";

export const ATTACKER_SOURCE = join(PROJECT_ROOT, "drivers", "attacks", "attacker.c");
export const BYSTANDER_SOURCE = join(PROJECT_ROOT, "drivers", "tests", "domain_calls.c");

/** The attacker's RPC_PTR indices (attacker.c). */
export const ATTACK_RPC = {
  vmfuncOwnCode: 1, trampolineVmfunc: 2, rogueStack: 3, poke: 4, recurse: 5, cliSpin: 6, stiSpin: 7, intN: 8, wrmsr: 9,
  exception: 10, spin: 11,
} as const;

const TICK_CYCLES = 50_000;

/** Ring-3 code for the user-mode VMFUNC attack: VMFUNC with ECX 1 or 0, then UD2 (kernel/user-mode.ts). */
export const USER_VMFUNC = {
  toSlot1: [0xb9, 1, 0, 0, 0, 0x31, 0xc0, 0x0f, 0x01, 0xd4, 0x0f, 0x0b], // mov $1, %ecx; xor %eax, %eax; vmfunc; ud2
  toSlot0: [0x31, 0xc9, 0x31, 0xc0, 0x0f, 0x01, 0xd4, 0x0f, 0x0b], // xor %ecx, %ecx; xor %eax, %eax; vmfunc; ud2
};
/** The machine's vCPUs: two, so that another vCPU's IST, IPIs and threads beside the domain exist. */
const CPUS = 2;
/** Attacker domains per boot (a kernel has 15 domain windows; the bystander takes one). */
const STEPS_PER_BOOT = 12;

export interface AttackContext {
  k: Kernel;
  lvd: Lvd;
  /** A page of kernel memory (direct map) full of a pattern nobody legitimately writes. */
  canary: number;
  tickCycles: number;
  /** Facts the attack's steps record (the CLI prints them, the test reads them). */
  notes: string[];
}

export interface Step {
  label: string;
  /** The crossing: RPC_PTR index and words. */
  message?: (c: AttackContext) => bigint[];
  /** Or a crossing of its own (interrupts off, an RPC handler...): returns the reply. */
  cross?: (c: AttackContext, d: Domain) => KernelPath<bigint[]>;
  /** The kill reason expected; null: the domain survives (the attack is harmless). */
  expect: RegExp | null;
}

export interface Attack {
  name: string;
  /** What the attacker tries. */
  tries: string;
  /** What stops it. */
  stoppedBy: string;
  steps: (c: AttackContext) => Step[];
  /** Before the steps (a boot's), e.g. a snapshot of the target; returns the check run after them (null: intact). */
  target?: (c: AttackContext) => () => string | null;
  /** After all steps of all boots: what must have happened at least once (null: it did). */
  overall?: (steps: StepOutcome[], notes: string[]) => string | null;
}

export interface StepOutcome {
  label: string;
  /** The kill reason, or null if the domain survived. */
  killed: string | null;
  reply: bigint[] | null;
  expected: RegExp | null;
  ok: boolean;
}

export interface AttackOutcome {
  attack: Attack;
  steps: StepOutcome[];
  /** Failed checks, in words (empty: contained). */
  failures: string[];
  log: string[];
  notes: string[];
  exits: Map<string, number>;
  contained: boolean;
}

/** The kernel threads beside the attack: xorshift64 chains of lvd_work calls (arch/selftest.S). */
const WORKER_CHUNKS = 40;
const WORKER_ROUNDS = 997;

const rpc = (index: number, ...words: bigint[]) => [header(KIND.RPC_PTR, index, words.length + 1), ...words];
const u64 = (n: number) => BigInt.asUintN(64, BigInt(n));

/** The VMFUNC instructions of the crossing code, with the routine they belong to and the index they switch to. */
export function trampolineVmfuncs(k: Kernel): { routine: string; address: number; index: number }[] {
  const base = k.symbols.lvd_trampoline_page;
  const bytes = k.mem.readBytes(base, PAGE);
  const routines = ["lvd_enter_domain", "lvd_domain_return", "lvd_springboard", "lvd_springboard_return"]
    .map((name) => ({ name, at: k.symbols[name] })).sort((a, b) => a.at - b.at);
  const found = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] !== 0x0f || bytes[i + 1] !== 0x01 || bytes[i + 2] !== 0xd4) continue;
    const address = base + i;
    const routine = routines.filter((r) => r.at <= address).at(-1)!.name;
    // lvd_enter_domain's and lvd_springboard_return's switch into the domain (index 1), the others into the kernel.
    found.push({ routine, address, index: routine === "lvd_enter_domain" || routine === "lvd_springboard_return" ? 1 : 0 });
  }
  return found;
}

/** Compares `bytes` bytes at `va` with what they are now, later. */
function snapshot(k: Kernel, va: number, bytes: number, what: string): () => string | null {
  const before = k.mem.readBytes(va, bytes).slice();
  return () => {
    const now = k.mem.readBytes(va, bytes);
    const i = now.findIndex((b, j) => b !== before[j]);
    return i < 0 ? null : `${what} changed at 0x${hex64(va + i)}`;
  };
}

const springboardVmfunc = (k: Kernel) => trampolineVmfuncs(k).find((v) => v.routine === "lvd_springboard")!.address;
const otherCpu = (k: Kernel) => 1 - k.cpu.id;
const INT_VECTORS = [...Array.from({ length: 32 }, (_, v) => v), 0x20, 0x80, 0xfd, 0xff];
const EXCEPTIONS = ["#DE", "#UD", "#GP", "#PF", "#BP"];
const IPI_VECTOR = 0x40;
/** The rogue-stack attack's RSP (the canary page's middle), as last used. */
let rogueRsp = 0;

export const ATTACKS: Attack[] = [
  {
    name: "vmfunc",
    tries: "VMFUNC (0F 01 D4) in its own code: ECX 0 (the kernel's EPT), with and without the message registers set as the kernel's trampoline sets them; ECX 1 (its own EPT); ECX 2 (no such entry)",
    stoppedBy: "Inv 1: after the switch to EPT_K the next fetch is in the domain's window, which the kernel does not map (#PF in the kernel's EPT, found by the exitless entry); an invalid index exits to the hypervisor",
    steps: () => [
      { label: "ECX 0", message: () => rpc(ATTACK_RPC.vmfuncOwnCode, 0n, 0n), expect: /^executed VMFUNC in its own code: (#PF|interrupt 32) in the kernel's EPT at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:/ },
      { label: "ECX 0, message registers set", message: () => rpc(ATTACK_RPC.vmfuncOwnCode, 0n, 1n), expect: /^executed VMFUNC in its own code: (#PF|interrupt 32) in the kernel's EPT at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:/ },
      { label: "ECX 1 (its own EPT: a no-op)", message: () => rpc(ATTACK_RPC.vmfuncOwnCode, 1n, 1n), expect: null },
      { label: "ECX 2 (not in the EPTP list)", message: () => rpc(ATTACK_RPC.vmfuncOwnCode, 2n, 0n), expect: /^VMFUNC exit at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:.*detail 2$/ },
    ],
  },
  {
    name: "trampoline",
    tries: "jumps straight to each VMFUNC of the crossing code (lvd_enter_domain, lvd_domain_return, lvd_springboard, lvd_springboard_return) with the wrong index in ECX, interrupts off",
    stoppedBy: "the ECX check after every VMFUNC in trampoline.S: ABORT hypercall, upcall, kill",
    steps: (c) => trampolineVmfuncs(c.k).map((v) => ({
      label: `${v.routine} VMFUNC at 0x${hex64(v.address)} with ECX ${1 - v.index}`,
      message: () => rpc(ATTACK_RPC.trampolineVmfunc, u64(v.address), BigInt(1 - v.index)),
      // The ABORT code says which check failed (trampoline.S): 1 entering the domain, 2 into the kernel, 3 back from the springboard.
      expect: new RegExp(`^abort at RIP 0x[0-9a-f]+ <lvd_abort\\+0x[0-9a-f]+>, detail ${{ lvd_enter_domain: 1, lvd_domain_return: 2, lvd_springboard: 2, lvd_springboard_return: 3 }[v.routine]}$`),
    })),
  },
  {
    name: "rogue-stack",
    tries: "RSP pointed at a kernel page (the canary), ECX 0, a jump to the springboard's VMFUNC timed (RDTSC against the tick period) to land just before a timer interrupt, swept over the lead time",
    stoppedBy: "every vector on an IST stack (the CPU never pushes at the rogue RSP), and the entry's check: a domain's registers at the crossing code in EPT_K (or, with no interrupt in time, the springboard's gate finds interrupts on past its CLI)",
    steps: () => Array.from({ length: 12 }, (_, i) => 40 + 20 * i).map((lead) => ({
      label: `lead ${lead} cycles`,
      message: (ctx) => rpc(ATTACK_RPC.rogueStack, u64(springboardVmfunc(ctx.k)), u64((rogueRsp = ctx.canary + PAGE / 2)), BigInt(ctx.tickCycles), BigInt(lead)),
      expect: /^jumped into the crossing code: interrupt 32 in the kernel's EPT at RIP 0x[0-9a-f]+ <lvd_springboard\+0x[0-9a-f]+>, RSP 0x[0-9a-f]+$|^entered the springboard past its CLI/,
    })),
    // The case the defence is for: the interrupt right after the VMFUNC, RSP still the rogue one.
    overall: (steps) => steps.some((s) => s.killed?.startsWith("jumped into the crossing code: interrupt 32 in the kernel's EPT") && s.killed.endsWith(`RSP 0x${hex64(rogueRsp)}`))
      ? null : "no run had the timer interrupt land right after the VMFUNC with the rogue RSP",
  },
  {
    name: "other-ist",
    tries: "writes the bottom of each IST stack of the other vCPU (the frames an interrupt there will IRETQ from)",
    stoppedBy: "each vCPU's IST stacks are mapped in that vCPU's EPT_I only: an EPT violation, upcall, kill",
    target: (c) => {
      const checks = c.k.percpus.flatMap((pc) => pc.istTops.map((top, i) => snapshot(c.k, top - 2 * PAGE, PAGE, `vCPU ${pc.id}'s IST ${i + 1}`)));
      return () => checks.map((f) => f()).find((x) => x !== null) ?? null;
    },
    steps: (c) => c.k.percpus[0].istTops.map((_, i) => ({
      label: `IST ${i + 1} of the other vCPU`,
      message: (ctx) => rpc(ATTACK_RPC.poke, u64(ctx.k.percpus[otherCpu(ctx.k)].istTops[i] - 2 * PAGE + 64), 0xbadc0ffee0ddf00dn),
      expect: /^EPT violation at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:[^>]+>, guest-physical 0x[0-9a-f]+, linear 0xffffc9/,
    })),
  },
  {
    name: "stack-exhaustion",
    tries: "recursive crossings: the domain calls the kernel, whose handler calls the domain back, without end",
    stoppedBy: "the kernel-stack check before every entry into a domain: the recursing domain is killed and every crossing of the chain fails",
    steps: () => [{
      label: "domain -> kernel -> domain ...",
      cross: function* (c, d) {
        let deepest = 0;
        c.lvd.rpc.set(d, function* (dom) {
          deepest = Math.max(deepest, dom.nesting[c.k.cpu.id]);
          const inner = yield* c.lvd.call(dom, rpc(ATTACK_RPC.recurse));
          return [header(KIND.REPLY), inner[1]];
        });
        try {
          return yield* c.lvd.call(d, rpc(ATTACK_RPC.recurse));
        } finally {
          c.notes.push(`stack-exhaustion: ${deepest} crossings deep; nesting afterwards ${d.nesting.join(",")}`);
        }
      },
      expect: /^kernel stack exhausted: \d+ bytes left, \d+ crossing\(s\) deep on vCPU \d$/,
    }],
    overall: (_s, notes) => notes.some((n) => /nesting afterwards 0,0$/.test(n)) ? null : "a crossing of the chain was left behind",
  },
  {
    name: "watchdog",
    tries: "CLI, then an endless loop: no interrupt can reach the kernel",
    stoppedBy: "the hypervisor's VMX-preemption-timer watchdog: a domain's EPT active at two expiries with no progress, upcall, kill",
    steps: () => [{ label: "CLI; jmp .", message: () => rpc(ATTACK_RPC.cliSpin), expect: /^watchdog at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:[^>]+>, detail \d+$/ }],
  },
  {
    name: "sti",
    tries: "STI inside a domain the kernel entered with interrupts off, then spins past a timer tick",
    stoppedBy: "the crossing records IF: an interrupt inside a domain entered with IF 0 means it turned them on",
    steps: () => [{
      label: "STI, spin",
      cross: function* (c, d) {
        const cpu = c.k.cpu;
        cpu.rflags &= ~IF;
        try {
          return yield* c.lvd.call(d, rpc(ATTACK_RPC.stiSpin, BigInt(3 * c.tickCycles)));
        } finally {
          c.k.cpu.rflags |= IF;
        }
      },
      expect: /^turned interrupts on \(STI\) inside the domain: interrupt 32 at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:/,
    }],
  },
  {
    name: "int",
    tries: "INT n for every vector 0-31 and 0x20 (timer), 0x80, 0xFD (reschedule), 0xFF (spurious)",
    stoppedBy: "exceptions inside a domain kill it; a vector >= 32 that is not in service at the local APIC was raised by INT n; INT 2 reaches the NMI handler, which cannot tell it from an NMI: handled as one, the domain goes on",
    steps: () => INT_VECTORS.map((v) => ({
      label: `INT 0x${v.toString(16)}`,
      message: () => rpc(ATTACK_RPC.intN, BigInt(v)),
      expect: v === 2 ? null : v < 32 ? /^exception (\S+|vector \d+) at RIP 0x[0-9a-f]+/ : new RegExp(`^raised vector ${v} with INT n at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:`),
    })),
  },
  {
    name: "ipi",
    tries: `an IPI (vector 0x${IPI_VECTOR.toString(16)}) to the other vCPU: through the xAPIC's ICR (MMIO at the kernel's APIC_VA) and through the x2APIC ICR (WRMSR 0x830)`,
    stoppedBy: "the APIC page is in neither the domain's page table nor its EPT (#PF); WRMSR always exits, and the hypervisor serves only EPT_K (sensitive exit, upcall)",
    target: (c) => {
      const before = c.k.interrupts.counts.get(IPI_VECTOR) ?? 0;
      return () => (c.k.interrupts.counts.get(IPI_VECTOR) ?? 0) !== before ? `vector 0x${IPI_VECTOR.toString(16)} was delivered` : null;
    },
    steps: () => [
      {
        label: "xAPIC ICR",
        message: (c) => rpc(ATTACK_RPC.poke, u64(APIC_VA + 0x300), BigInt(IPI_VECTOR | (3 << 18))),
        expect: new RegExp(`^exception #PF at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:[^>]+>, address 0x${hex64(APIC_VA + 0x300)}$`),
      },
      {
        label: "x2APIC ICR (WRMSR 0x830)",
        message: (c) => rpc(ATTACK_RPC.wrmsr, 0x830n, (BigInt(otherCpu(c.k)) << 32n) | BigInt(IPI_VECTOR)),
        expect: /^sensitive exit outside the kernel at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:/,
      },
    ],
  },
  {
    name: "exceptions",
    tries: "raises #DE, #UD, #GP, #PF and #BP inside the domain (#AC needs CPL 3: a domain at CPL 0 never gets it)",
    stoppedBy: "a synchronous exception inside a domain kills it (exitless: no VM exit)",
    steps: () => EXCEPTIONS.map((name, i) => ({
      label: name,
      message: () => rpc(ATTACK_RPC.exception, BigInt(i)),
      expect: new RegExp(`^exception ${name} at RIP 0xffffffff[c-f][0-9a-f]+ <attacker:`),
    })),
  },
  {
    name: "nmi",
    tries: "(not an attack: a real NMI) an NMI sent to the vCPU while the domain spins",
    stoppedBy: "nothing needs to: the NMI arrives exitlessly on its IST, the kernel handles it, the domain completes; no VM exit for it",
    steps: () => [{
      label: "NMI while the domain spins",
      cross: function* (c, d) {
        const k = c.k;
        const me = k.cpu.id;
        const seen: string[] = [];
        const interrupted = c.lvd.interrupted.bind(c.lvd);
        c.lvd.interrupted = (cpu, vector, origin, regs) => {
          if (vector === 2) seen.push(origin === ORIGIN.domain ? "domain" : origin === ORIGIN.domainInEptK ? "domain in EPT_K" : "kernel");
          return interrupted(cpu, vector, origin, regs);
        };
        const nmiExits = () => k.hypervisor!.exitCounts(me).get("EXCEPTION_OR_NMI") ?? 0;
        const exitsBefore = nmiExits();
        const nmis = k.interrupts.counts.get(2) ?? 0;
        const sender = k.spawn("nmi-sender", function* () {
          while (d.nesting[me] === 0) yield* call(k.symbols.lvd_work, 1, 100);
          yield* call(k.symbols.lvd_work, 1, 2000); // well inside the spin
          k.machine.nmi(me);
        }, 1 - me);
        try {
          const reply = yield* c.lvd.call(d, rpc(ATTACK_RPC.spin, BigInt(20 * c.tickCycles)));
          yield* k.join(sender);
          c.notes.push(`nmi: handled ${(k.interrupts.counts.get(2) ?? 0) - nmis}, taken inside the domain: ${seen.join(",") || "none"}, NMI exits ${nmiExits() - exitsBefore}`);
          return reply;
        } finally {
          c.lvd.interrupted = interrupted;
        }
      },
      expect: null,
    }],
    overall: (_s, notes) => notes.includes("nmi: handled 1, taken inside the domain: domain, NMI exits 0") ? null : `the NMI was not handled exitlessly inside the domain (${notes.join("; ")})`,
  },
  {
    name: "user-vmfunc",
    tries: "a ring-3 thread, on the vCPU a domain just ran on, executes VMFUNC 1 (to switch to that domain's EPT) and VMFUNC 0",
    stoppedBy: "slot 1 of the EPTP list is invalid outside a crossing: VMFUNC 1 exits and the hypervisor upcalls, the kernel stops the thread; VMFUNC 0 stays in EPT_K",
    steps: () => [{
      label: "user VMFUNC 1, then 0",
      cross: function* (c, d) {
        const k = c.k;
        for (const [slot, code] of [[1, USER_VMFUNC.toSlot1], [0, USER_VMFUNC.toSlot0]] as const) {
          const t = k.spawn("user", () => runUser(k, new Uint8Array(code)), k.cpu.id);
          yield* k.join(t);
          releaseUser(k);
          c.notes.push(`user VMFUNC ${slot}: ${t.killed ?? "not stopped"}`);
        }
        return yield* c.lvd.call(d, rpc(ATTACK_RPC.spin, 100n)); // the domain is unharmed
      },
      expect: null,
    }],
    overall: (_s, notes) =>
      notes.some((n) => /^user VMFUNC 1: hypervisor upcall: VMFUNC/.test(n)) && notes.some((n) => /^user VMFUNC 0: .*#UD/.test(n))
        ? null : `a user-mode VMFUNC was not stopped as expected (${notes.join("; ")})`,
  },
];

/** Runs one attack: as many boots as its steps need. */
export function runAttack(attack: Attack, opts: { attacker?: ElfFile[]; bystander?: ElfFile[]; onLine?: (text: string) => void } = {}): AttackOutcome {
  const attacker = opts.attacker ?? objects(ATTACKER_SOURCE);
  const bystander = opts.bystander ?? objects(BYSTANDER_SOURCE);
  const outcome: AttackOutcome = { attack, steps: [], failures: [], log: [], notes: [], exits: new Map(), contained: false };
  let first = 0;
  for (let boot = 0; ; boot++) {
    let count = 0;
    const k = bootKernel(new Machine({ cpus: CPUS, memoryBytes: 64 << 20, seed: 1 }), function* (k) {
      yield* lateLaunch(k);
      const lvd = new Lvd(k);
      yield* lvd.start();
      const canary = phys2virt(k.pages.alloc());
      for (let i = 0; i < PAGE; i += 4) k.mem.write32(canary + i, 0xc0ffee00 + i);
      const ctx: AttackContext = { k, lvd, canary, tickCycles: TICK_CYCLES, notes: outcome.notes };
      const canaryIntact = snapshot(k, canary, PAGE, "the canary page");
      const steps = attack.steps(ctx);
      const todo = steps.slice(first, first + STEPS_PER_BOOT);
      count = todo.length;
      const { domain: bystanderDomain } = yield* lvd.create("bystander", bystander);
      const results: bigint[] = [];
      const workers = k.percpus.map((pc) => k.spawn(`worker/${pc.id}`, function* () {
        let x = BigInt(pc.id + 1);
        for (let i = 0; i < WORKER_CHUNKS; i++) {
          yield* call(k.symbols.lvd_work, x, WORKER_ROUNDS);
          x = regU64(k.cpu, RAX); // the full 64 bits (call's result is a JavaScript number)
        }
        results[pc.id] = x;
      }, pc.id));
      const targetIntact = attack.target?.(ctx);
      for (const step of todo) {
        let killed: string | null = null;
        let reply: bigint[] | null = null;
        const t: Thread = k.spawn(`attack/${step.label}`, function* () {
          const { domain, status } = yield* lvd.create("attacker", attacker);
          if (status !== 0) throw new Error(`the attacker's init returned ${status}`);
          try {
            reply = step.cross ? yield* step.cross(ctx, domain) : yield* lvd.call(domain, step.message!(ctx));
          } catch (e) {
            if (!(e instanceof DomainKilled)) throw e;
            killed = domain.dead;
          }
          yield* lvd.destroy(domain);
        }, 0);
        yield* k.join(t);
        if (t.killed) outcome.failures.push(`${step.label}: the kernel thread that ran it died: ${t.killed}`);
        const ok = !t.killed && (step.expect === null ? killed === null : killed !== null && step.expect.test(killed));
        if (!ok && !t.killed) outcome.failures.push(`${step.label}: ${killed === null ? "the domain survived" : `killed: ${killed}`}; expected ${step.expect ?? "survival"}`);
        outcome.steps.push({ label: step.label, killed, reply, expected: step.expect, ok });
        const canaryNow = canaryIntact();
        if (canaryNow) outcome.failures.push(`${step.label}: ${canaryNow}`);
      }
      const target = targetIntact?.();
      if (target) outcome.failures.push(target);
      const answer = yield* lvd.call(bystanderDomain, [header(KIND.RPC_PTR, 1, 3), 2n, 3n]);
      if (answer[1] !== 5n) outcome.failures.push(`the bystander answered ${answer[1]} to 2 + 3`);
      for (const [i, w] of workers.entries()) {
        yield* k.join(w);
        if (w.killed) outcome.failures.push(`kernel thread worker/${i} died: ${w.killed}`);
        else if (results[i] !== xorshift(BigInt(i + 1), WORKER_CHUNKS * WORKER_ROUNDS)) outcome.failures.push(`kernel thread worker/${i} computed a wrong result`);
      }
      for (const [name, n] of k.hypervisor!.exitCounts()) outcome.exits.set(name, (outcome.exits.get(name) ?? 0) + n);
      if (k.hypervisor!.incidents.length) outcome.failures.push(`hypervisor incidents: ${k.hypervisor!.incidents.map((i) => JSON.stringify(i)).join("; ")}`);
      first += todo.length;
      if (first >= steps.length) first = -1;
    }, { tickCycles: TICK_CYCLES });
    k.console.onLine = (_line, text) => {
      outcome.log.push(text);
      opts.onLine?.(text);
    };
    const run = k.machine.run(400_000_000);
    if (run.stop !== "exit") {
      outcome.failures.push(`the kernel did not finish (boot ${boot}: ${run.stop} after ${run.instructions} instructions)`);
      break;
    }
    if (first < 0 || count === 0) break;
  }
  const overall = attack.overall?.(outcome.steps, outcome.notes);
  if (overall) outcome.failures.push(overall);
  outcome.contained = outcome.failures.length === 0;
  return outcome;
}

const compiled = new Map<string, ElfFile[]>();
function objects(source: string): ElfFile[] {
  let o = compiled.get(source);
  if (!o) compiled.set(source, (o = domainObjects(source).map((x) => parseElf(x.bytes, x.name))));
  return o;
}

/** `lvd attack`: prints each attack's run and checks; 0 when every one was contained. */
export function attackCommand(names: string[], o: { list: boolean; all: boolean }): number {
  if (o.list || (!o.all && names.length === 0)) {
    for (const a of ATTACKS) process.stdout.write(`${a.name.padEnd(18)}${a.tries}\n${"".padEnd(18)}stopped by: ${a.stoppedBy}\n`);
    return o.list ? 0 : 1;
  }
  const chosen = o.all ? ATTACKS : names.map((n) => {
    const a = ATTACKS.find((x) => x.name === n);
    if (!a) throw new Error(`no attack '${n}' (lvd attack --list)`);
    return a;
  });
  let status = 0;
  for (const a of chosen) {
    process.stdout.write(`== attack ${a.name}: ${a.tries}\n`);
    const r = runAttack(a, { onLine: (text) => / killed: /.test(text) && process.stdout.write(`   ${text}\n`) });
    for (const s of r.steps) process.stdout.write(`   ${s.ok ? "contained" : "NOT CONTAINED"}  ${s.label}: ${s.killed === null ? "the domain survived" : `killed (${s.killed})`}\n`);
    for (const n of r.notes) process.stdout.write(`   note: ${n}\n`);
    const exits = [...r.exits].sort((x, y) => y[1] - x[1]).map(([n, c]) => `${n} ${c}`).join(", ");
    process.stdout.write(`   checks: canary page ${r.failures.some((f) => f.includes("canary")) ? "CHANGED" : "intact"}, ` +
      `bystander ${r.failures.some((f) => f.includes("bystander")) ? "WRONG" : "answered 2 + 3 = 5"}, kernel threads ${r.failures.some((f) => /worker|thread/.test(f)) ? "FAILED" : "finished"}\n`);
    process.stdout.write(`   VM exits by reason: ${exits}\n`);
    for (const f of r.failures) process.stdout.write(`   FAILED: ${f}\n`);
    process.stdout.write(`   ${r.contained ? "contained" : "NOT CONTAINED"}: ${a.stoppedBy}\n\n`);
    if (!r.contained) status = 1;
  }
  return status;
}
