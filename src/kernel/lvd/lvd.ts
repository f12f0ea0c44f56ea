// The LVD runtime inside the kernel (reference §4-7): per-vCPU state pages and EPTP lists,
// domain creation, crossings into domains and back (the domain syscalls they carry are
// syscalls.ts), and what happens when a domain breaks the rules (it is killed; the kernel
// goes on).
//
// A crossing is machine code (trampoline.S); this file prepares it: slot 1 of the vCPU's
// EPTP list rewritten for the domain being entered (all other slots but 0 stay invalid),
// a check that the kernel stack has room, a domain stack from the per-vCPU pool (or below
// the one in use when the thread is already inside that domain), the message. The domain
// runs with interrupts as the kernel had them; they reach the kernel without a VM exit
// (exitless entry, arch/irq-entry.S), and interrupted() decides what an interrupt inside a
// domain means.

import type { Kernel } from "../kernel.ts";
import type { Cpu } from "../../machine/cpu/cpu.ts";
import { RDI, RSI, RDX, RAX, RBX, PF_VEC, EXCEPTION_NAMES } from "../../machine/cpu/cpu.ts";
import { NMI, GS } from "../../machine/cpu/arch.ts";
import { IF } from "../../machine/cpu/flags.ts";
import { hex64 } from "../../machine/cpu/interrupts.ts";
import { linkObjects, ElfError, type ElfFile } from "../../machine/elf.ts";
import { call, type Activation, type KernelPath, type Thread } from "../thread.ts";
import { KernelBug } from "../exec.ts";
import { hypercall } from "../late-launch.ts";
import { HC_INSTALL_EPTP_LIST, HC_MAP_PAGE, HC_SET_PROGRESS } from "../../hypervisor/hypercalls.ts";
import {
  UPCALL_FRAME_KIND, UPCALL_FRAME_RIP, UPCALL_FRAME_EPTP, UPCALL_FRAME_GUEST_LINEAR,
  UPCALL_FRAME_GUEST_PHYSICAL, UPCALL_FRAME_DETAIL, UPCALL_KIND_NAMES, UPCALL_EPT_VIOLATION,
} from "../../hypervisor/upcall.ts";
import { Domain, type SharedPage } from "./domain.ts";
import { DomainChannel } from "./channel.ts";
import { MAX_DOMAINS, STATE, STATE_PAGE_PA, WINDOW_BASE, WINDOW_SIZE } from "./layout.ts";
import { PAGE, imageVa, phys2virt, KERNEL_TEXT_PA, KERNEL_IMAGE_PA, GATE_PAGES } from "../layout.ts";
import { syscall } from "./syscalls.ts";
import { dropCapabilities } from "./capabilities.ts";
import { PT_REGS, ORIGIN } from "../arch/frame.ts";
import {
  KIND_RPC, KIND_RPC_PTR, KIND_INIT, KIND_EXIT, KIND_SYSCALL, KIND_REPLY, KIND_ERROR, MAX_WORDS, header as wireHeader, headerCount,
  headerKind, headerIndex,
} from "../../idl/wire.ts";
import { regU64, setRegU64 } from "../registers.ts";

/** The crossing failed: the domain was killed (while the kernel was inside it, or before). */
export class DomainKilled extends KernelBug {
  constructor(readonly domain: Domain) {
    super(`domain ${domain.name} was killed: ${domain.dead}`);
  }
}
/** The domain could not be created (a link error, no window left). */
export class DomainError extends KernelBug {}

/** Message kinds (docs/glue-abi.md; the numbers are src/idl/wire.ts's). */
export const KIND = {
  RPC: KIND_RPC, RPC_PTR: KIND_RPC_PTR, INIT: KIND_INIT, EXIT: KIND_EXIT, SYSCALL: KIND_SYSCALL, REPLY: KIND_REPLY, ERROR: KIND_ERROR,
} as const;
/** A message header (wire.ts), by default for a message of the header alone. */
export const header = (kind: number, index = 0, count = 1) => wireHeader(kind, index, count);

/** Bytes of kernel stack a crossing must leave free (the kernel-stack-exhaustion check). */
export const KERNEL_STACK_RESERVE = 2048;
const MESSAGE_REGS = [RDI, RSI, RDX, 8, 9, 10, 11, 12];
const STATE_VA = imageVa(STATE_PAGE_PA);
/** The XSAVE area's extent with x87, SSE and AVX (legacy region, header, YMM_Hi128). */
export const XSAVE_BYTES = 832;

/** A crossing in progress on a vCPU. */
interface Crossing {
  domain: Domain;
  activation: Activation;
  /** The kernel had interrupts on: the domain runs with them on (and must not turn them on otherwise). */
  interrupts: boolean;
  /** The domain's stack pointer while it waits for the kernel in the springboard (nested crossings into it start below). */
  domainRsp?: number;
}

/** What the kernel does with a domain's RPCs (the IDL's generated kernel glue, bound to the kernel's implementation). */
export type RpcHandler = (d: Domain, words: bigint[]) => KernelPath<bigint[]>;

/** The kernel's glue for a new domain: given its channel, the server of its RPCs. */
export type GlueBinder = (ch: DomainChannel) => (request: bigint[]) => KernelPath<bigint[]>;

export class Lvd {
  readonly domains = new Map<number, Domain>();
  /** Crossings in progress, per thread (innermost last). */
  private readonly crossings = new WeakMap<Thread, Crossing[]>();
  /** The state page's kernel RSP a thread switched out inside crossings takes with it. */
  private readonly parked = new WeakMap<Thread, number>();
  private readonly eptpLists: number[] = [];
  private readonly messages: number[] = [];
  private readonly kernelEptps: number[] = [];
  private shared: SharedPage[] = [];
  private nextId = 0;
  /** RPC handlers by domain. */
  readonly rpc = new Map<Domain, RpcHandler>();

  constructor(private readonly k: Kernel) {
  }

  /** Starts LVD on every vCPU (after the late launch): state pages and EPTP lists. */
  *start(): KernelPath {
    const k = this.k;
    if (!k.exitless) throw new KernelBug("LVD needs the kernel's exitless interrupt entry (booted with exitless: false)");
    // What a domain sees of each vCPU's state page: in-kernel 0, the vCPU's number.
    const domainViews = k.percpus.map((pc) => {
      const page = k.pages.alloc();
      k.mem.fill(phys2virt(page), PAGE);
      k.mem.write64(phys2virt(page) + STATE.cpu, pc.id);
      return page;
    });
    const threads = k.percpus.map((pc) => k.spawn(`lvd-start/${pc.id}`, function* (this: Lvd) {
      const state = k.pages.alloc();
      k.mem.fill(phys2virt(state), PAGE);
      k.mem.write64(phys2virt(state) + STATE.inKernel, 1);
      k.mem.write64(phys2virt(state) + STATE.cpu, pc.id);
      k.mem.write64(phys2virt(state) + STATE.gsBase, pc.area);
      const mapped = yield* hypercall(k, HC_MAP_PAGE, STATE_PAGE_PA, state);
      if (mapped.rax !== 0) throw new KernelBug(`MAP_PAGE failed on vCPU ${pc.id}: ${mapped.rax}`);
      // The watchdog's progress counter: a domain that spins with interrupts off stops it.
      const progress = yield* hypercall(k, HC_SET_PROGRESS, STATE_PAGE_PA + STATE.progress);
      if (progress.rax !== 0) throw new KernelBug(`SET_PROGRESS failed on vCPU ${pc.id}: ${progress.rax}`);
      const list = k.pages.alloc();
      k.mem.fill(phys2virt(list), PAGE);
      const r = yield* hypercall(k, HC_INSTALL_EPTP_LIST, list);
      if (r.rax !== 0) throw new KernelBug(`INSTALL_EPTP_LIST failed on vCPU ${pc.id}: ${r.rax}`);
      k.mem.write64(phys2virt(list), r.rbx);
      this.eptpLists[pc.id] = phys2virt(list);
      this.kernelEptps[pc.id] = r.rbx;
      this.messages[pc.id] = k.heap.alloc(64);
    }.bind(this), pc.id));
    for (const t of threads) yield* k.join(t);
    if (threads.some((t) => t.killed)) throw new KernelBug(`LVD start failed: ${threads.map((t) => t.killed).join("; ")}`);

    const code = (from: number, to: number) => {
      const pages: SharedPage[] = [];
      for (let va = from; va < to; va += PAGE) {
        const pa = KERNEL_TEXT_PA + (va - k.image.base);
        pages.push({ va, gpa: pa, hpa: pa, exec: true });
      }
      return pages;
    };
    this.shared = [
      ...code(k.symbols.lvd_trampoline_page, k.symbols.lvd_trampoline_end),
      ...code(k.symbols.lvd_irq_stubs, k.symbols.lvd_irq_entry_end),
      // The gate pages: mapped by the domain's page table, not by EPT_I, so that a jump to a
      // kernel entry (the interrupt stubs' jump included) is an EPT violation the kernel hears of.
      ...Array.from({ length: GATE_PAGES }, (_, i) => ({
        va: imageVa(KERNEL_IMAGE_PA) + i * PAGE, gpa: KERNEL_IMAGE_PA + i * PAGE, hpa: KERNEL_IMAGE_PA + i * PAGE, exec: true, tableOnly: true,
      })),
      { va: k.idt, gpa: k.idt - phys2virt(0), hpa: k.idt - phys2virt(0) },
      ...k.percpus.map((pc) => ({ va: STATE_VA, gpa: STATE_PAGE_PA, hpa: domainViews[pc.id], cpu: pc.id })),
      ...k.percpus.map((pc) => ({ va: pc.gdt, gpa: pc.gdt - phys2virt(0), hpa: pc.gdt - phys2virt(0), cpu: pc.id })),
      // Each vCPU's IST stacks, writable, in that vCPU's EPT_I only: interrupts inside a
      // domain arrive on them, and no domain on one vCPU can write another's.
      ...k.percpus.flatMap((pc) => pc.istTops.flatMap((top) => [top - 2 * PAGE, top - PAGE].map((va) => {
        const pa = k.kernelMm.lookup(va);
        return { va, gpa: pa, hpa: pa, write: true, cpu: pc.id };
      }))),
    ];
    k.lvd = this;
    k.log(`lvd: started on ${k.percpus.length} vCPU(s): state pages remapped per vCPU, EPTP lists installed`);
  }

  /** Creates a domain from a driver's objects (linked with the domain library) and runs its init. */
  *create(name: string, objects: ElfFile[], glue?: GlueBinder): KernelPath<{ domain: Domain; status: number; channel: DomainChannel }> {
    const k = this.k;
    const id = this.nextId++;
    if (id >= MAX_DOMAINS) throw new DomainError(`no domain window left for ${name}`);
    const d = new Domain(k, id, name, this.shared);
    let image;
    try {
      image = linkObjects(objects, {
        base: d.window,
        resolve: (sym) => ({
          lvd_springboard: k.symbols.lvd_springboard,
          lvd_state_page: STATE_VA,
          lvd_domain_ext: d.extPage(0),
        } as Record<string, number | undefined>)[sym],
      });
    } catch (e) {
      if (e instanceof ElfError) throw new DomainError(`cannot load ${name} into a domain: ${e.message}`);
      throw e;
    }
    if (image.size > WINDOW_SIZE / 4) throw new DomainError(`${name} is too large for a domain window`);
    d.build(image, k.current().mm!.cr3);
    if (!d.entry) throw new DomainError(`${name} has no lvd_domain_entry (link it with the domain library)`);
    this.domains.set(id, d);
    const channel = new DomainChannel(k, this, d);
    if (glue) {
      const server = glue(channel);
      this.rpc.set(d, (_d, words) => server(words));
    }
    k.log(`lvd: domain ${name} (#${id}) at 0x${hex64(d.window)}: ${image.size >> 10} KB image, ${d.frames.size} pages`);
    const reply = yield* this.call(d, [header(KIND.INIT)]);
    const status = Number(BigInt.asIntN(64, reply[1]));
    k.log(`lvd: domain ${name}: init returned ${status}`);
    return { domain: d, status, channel };
  }

  /** Runs the domain's cleanup and stops it. */
  *destroy(d: Domain): KernelPath {
    if (!d.dead) {
      yield* this.call(d, [header(KIND.EXIT)]);
      d.dead = "unloaded";
    }
    yield* dropCapabilities(this.k, d); // what it held, what it passed on, what others held to it
    if (d.nesting.every((n) => n === 0)) {
      d.release();
      this.domains.delete(d.id);
    }
  }

  /**
   * A crossing: sends `words` (the header, then up to 7 words) into domain `d` and
   * returns the 8 reply words. Throws DomainKilled if the domain is (or gets) killed.
   */
  *call(d: Domain, words: bigint[]): KernelPath<bigint[]> {
    const k = this.k;
    if (d.dead) throw new DomainKilled(d);
    const cpu = k.cpu;
    const c = cpu.id;
    const t = k.current();
    if (cpu.rsp - t.stackBase < KERNEL_STACK_RESERVE) {
      if (this.stack().length === 0) throw new DomainError(`kernel stack exhausted: refusing to enter ${d.name}`);
      // A chain of crossings (domain -> kernel -> domain ...) this deep: the domain that
      // recursed is killed, and every crossing of the chain fails with it (springboard()).
      this.kill(d, `kernel stack exhausted: ${cpu.rsp - t.stackBase} bytes left, ${this.stack().length} crossing(s) deep on vCPU ${c}`);
      throw new DomainKilled(d);
    }
    // CR3 remapping covers one top-level table; entering with another loaded would run the domain on the wrong tables.
    if ((cpu.cr3 & ~0xfff) !== d.cr3) throw new DomainError(`${d.name} entered with CR3 0x${cpu.cr3.toString(16)}, not the one it remaps`);
    const { rsp: stack, slot } = this.domainStack(d, c);
    k.mem.write64(this.eptpLists[c] + 8, d.eptps[c]);
    const msg = this.messages[c];
    for (let i = 0; i < 8; i++) this.writeWord(msg + 8 * i, words[i] ?? 0n);
    if (words.length > 8) {
      // Words 8 on spill into this vCPU's extended register page of the domain.
      if (words.length > MAX_WORDS) throw new DomainError(`a message of ${words.length} words is too long`);
      const ext = d.kernelAddress(d.extPage(c))!;
      for (let i = 8; i < words.length; i++) this.writeWord(ext + 8 * (i - 8), words[i]);
    }
    d.nesting[c]++;
    d.calls++;
    const interrupts = (cpu.rflags & IF) !== 0;
    const crossings = this.stack(t);
    // A thread inside crossings may block, but resumes on this vCPU: its crossings' state is this vCPU's.
    const affinity = t.affinity;
    if (crossings.length === 0) t.affinity = c;
    crossings.push({ domain: d, activation: t.top!, interrupts });
    cpu.rflags &= ~IF;
    try {
      yield* call(k.symbols.lvd_enter_domain, msg, stack, d.entry, t.xstate, interrupts ? 1 : 0);
    } finally {
      const now = k.cpu;
      crossings.pop();
      if (slot >= 0) d.releaseStack(now.id, slot);
      if (crossings.length === 0) t.affinity = affinity;
      d.nesting[now.id]--;
      this.setSlot1(crossings);
      now.rflags = interrupts ? now.rflags | IF : now.rflags & ~IF;
      this.progress();
    }
    const reply: bigint[] = [];
    for (let i = 0; i < 8; i++) reply.push(this.readWord(msg + 8 * i));
    // The header's word count (bits 47:32, docs/glue-abi.md): more than 8 continue in the extended page.
    const count = Math.min(headerCount(reply[0]), MAX_WORDS);
    if (count > 8) {
      const ext = d.kernelAddress(d.extPage(k.cpu.id))!;
      for (let i = 8; i < count; i++) reply.push(this.readWord(ext + 8 * (i - 8)));
    }
    // Interrupts inside the domain do not switch threads (no context switch inside an
    // LVD): a reschedule they asked for happens here, back in the kernel, once the reply
    // is out of this vCPU's message buffer.
    if (interrupts && t.irqDepth === 0 && !this.busy() && k.percpu().needResched) yield* k.scheduler.schedule();
    return reply;
  }

  private writeWord(va: number, w: bigint): void {
    this.k.mem.write32(va, Number(w & 0xffffffffn));
    this.k.mem.write32(va + 4, Number((w >> 32n) & 0xffffffffn));
  }
  private readWord(va: number): bigint {
    return BigInt(this.k.mem.read32(va)) | (BigInt(this.k.mem.read32(va + 4)) << 32n);
  }

  /**
   * The stack a crossing into `d` on vCPU c starts on: below the one in use when `d` waits
   * in the springboard further out in this thread (slot -1), or a free one of the domain's
   * per-vCPU pool (other threads on this vCPU may be blocked inside `d`).
   */
  private domainStack(d: Domain, c: number): { rsp: number; slot: number } {
    const innermost = this.stack().at(-1);
    if (innermost && innermost.domainRsp === undefined) {
      throw new DomainError(`cannot enter ${d.name}: ${innermost.domain.name} was interrupted on this vCPU and its crossing is not waiting in the kernel`);
    }
    const outer = [...this.stack()].reverse().find((x) => x.domain === d);
    if (outer) {
      const rsp = outer.domainRsp!;
      return { rsp: rsp - (rsp & 15) - 64, slot: -1 };
    }
    const slot = d.takeStack(c);
    if (slot < 0) throw new DomainError(`cannot enter ${d.name}: all its stacks on vCPU ${c} are in use by blocked threads`);
    return { rsp: d.stackTop(c, slot), slot };
  }

  /**
   * The current thread of this vCPU changes from `prev` to `next`. A thread switched out
   * inside crossings takes their state with it (the state page's kernel RSP, slot 1) and
   * gets it back when it runs again; a thread with none leaves slot 1 invalid.
   */
  switched(prev: Thread, next: Thread): void {
    const k = this.k;
    const from = this.crossings.get(prev) ?? [], to = this.crossings.get(next) ?? [];
    // Not started on this vCPU yet, or neither is inside a domain (slot 1 is invalid already).
    if (this.eptpLists[k.cpu.id] === undefined || (from.length === 0 && to.length === 0)) return;
    if (from.length > 0) this.parked.set(prev, k.mem.read64(STATE_VA + STATE.kernelRsp));
    const kernelRsp = this.parked.get(next);
    this.parked.delete(next);
    if (kernelRsp !== undefined) k.mem.write64(STATE_VA + STATE.kernelRsp, kernelRsp);
    this.setSlot1(to);
  }

  /**
   * Slot 1 of this vCPU's EPTP list for the domain a springboard returns to next (the
   * innermost of `crossings`, the current thread's), or invalid when there is none: a
   * VMFUNC to it outside a crossing (user mode, the kernel) then fails and exits.
   */
  private setSlot1(crossings: Crossing[]): void {
    const c = this.k.cpu.id;
    this.k.mem.write64(this.eptpLists[c] + 8, crossings.at(-1)?.domain.eptps[c] ?? 0);
  }

  /** The springboard's gate: a domain calls the kernel (a syscall or an RPC). */
  springboard(cpu: Cpu): void {
    const k = this.k;
    k.cpu = cpu; // the kill below runs before any kernel path would set it (fail() uses the current thread)
    const c = cpu.id;
    const crossing = this.stack().at(-1);
    const words = MESSAGE_REGS.map((r) => regU64(cpu, r));
    const count = Math.min(headerCount(words[0]), MAX_WORDS);
    const domainRsp = cpu.reg64(RAX);
    if (crossing && cpu.rflags & IF) {
      // The springboard's first instruction turns interrupts off: this domain jumped past it.
      this.kill(crossing.domain, `entered the springboard past its CLI (interrupts on in the kernel's EPT) with RSP 0x${hex64(domainRsp)}`);
      this.fail(cpu, crossing);
      return;
    }
    if (crossing) crossing.domainRsp = domainRsp;
    const self = this;
    k.executor.enter(cpu, (function* () {
      if (!crossing) throw new KernelBug("springboard entered with no crossing in progress");
      const d = crossing.domain;
      if (count > 8) {
        const ext = d.kernelAddress(d.extPage(k.cpu.id))!;
        for (let i = 8; i < count; i++) words.push(self.readWord(ext + 8 * (i - 8)));
      }
      let reply: bigint[];
      try {
        reply = yield* self.handle(d, words);
      } catch (e) {
        // The kernel's side failed (a domain it called was killed, it tried to block...):
        // the domain gets an error reply, the kernel goes on.
        if (!(e instanceof KernelBug)) throw e;
        k.log(`lvd: ${d.name}: the kernel could not serve its call: ${e.message}`);
        reply = [header(KIND.ERROR)];
      }
      if (reply.length > 8) {
        const ext = d.kernelAddress(d.extPage(k.cpu.id))!;
        for (let i = 8; i < reply.length; i++) self.writeWord(ext + 8 * (i - 8), reply[i]);
      }
      return reply;
    })(), (reply) => {
      const now = k.cpu;
      crossing!.domainRsp = undefined;
      // Killed meanwhile (a nested crossing into it broke a rule): it is not resumed.
      if (crossing!.domain.dead) return this.fail(now, crossing!);
      const w = reply as bigint[];
      MESSAGE_REGS.forEach((r, i) => setRegU64(now, r, w[i] ?? 0n));
      now.setReg64(RBX, crossing!.interrupts ? 1 : 0); // lvd_springboard_return turns them back on
      now.nextRip = k.symbols.lvd_springboard_return;
    });
  }

  /** A message from domain `d`: syscalls here, RPCs to the domain's glue. */
  private *handle(d: Domain, w: bigint[]): KernelPath<bigint[]> {
    const k = this.k;
    const kind = headerKind(w[0]);
    const index = headerIndex(w[0]);
    if (kind === KIND.SYSCALL) {
      return yield* syscall(k, this, d, index, w);
    } else if (kind === KIND.RPC) {
      const h = this.rpc.get(d);
      if (h) {
        const reply = yield* h(d, w);
        k.charge("glueWord", w.length + reply.length); // the kernel's side of the marshaling
        return reply;
      }
    }
    return [header(KIND.ERROR)];
  }

  /** The kernel address of vCPU c's EPTP list (slot 0 EPT_K, slot 1 the domain being entered). */
  eptpList(c: number): number {
    return this.eptpLists[c];
  }

  /** The crossings of thread `t` (the current thread's by default): on this vCPU, innermost last. */
  private stack(t: Thread = this.k.current()): Crossing[] {
    let list = this.crossings.get(t);
    if (!list) this.crossings.set(t, (list = []));
    return list;
  }

  /** Whether the current thread is inside a crossing (preemption waits until it is not). */
  busy(): boolean {
    return this.stack().length > 0;
  }

  /** Moves this vCPU's watchdog progress counter on (a tick, a crossing back into the kernel). */
  progress(): void {
    const k = this.k;
    k.mem.write64(STATE_VA + STATE.progress, k.mem.read64(STATE_VA + STATE.progress) + 1);
  }

  /** Stops domain `d` for `why` (logged). vCPUs inside it fail out at their next crossing. */
  kill(d: Domain, why: string): void {
    if (d.dead) return;
    d.dead = why;
    this.k.log(`lvd: domain ${d.name} killed: ${why}`);
  }

  /**
   * An upcall from the hypervisor while a crossing is in progress on this vCPU: if the
   * domain (or a jump into the trampoline) caused it, the domain is killed and the
   * crossing fails with DomainKilled. Returns false if it is not a domain's doing.
   */
  upcall(cpu: Cpu, frame: number): boolean {
    const k = this.k;
    k.cpu = cpu;
    const crossing = this.stack().at(-1);
    if (!crossing) return false;
    const d = crossing.domain;
    const kind = k.mem.read64(frame + UPCALL_FRAME_KIND);
    const rip = k.mem.read64(frame + UPCALL_FRAME_RIP);
    const eptp = k.mem.read64(frame + UPCALL_FRAME_EPTP);
    const inDomain = eptp !== this.kernelEptps[cpu.id] || (rip >= WINDOW_BASE && rip < WINDOW_BASE + 15 * WINDOW_SIZE) ||
      kind !== UPCALL_EPT_VIOLATION;
    if (!inDomain) return false;
    this.kill(d, this.describe(d, frame, kind, rip));
    this.fail(cpu, crossing);
    return true;
  }

  /** What a domain did, in words: the upcall's kind, the address, the RIP (for an exception: the domain's RIP). */
  private describe(d: Domain, frame: number, kind: number, rip: number): string {
    const k = this.k;
    const linear = k.mem.read64(frame + UPCALL_FRAME_GUEST_LINEAR);
    const gpa = k.mem.read64(frame + UPCALL_FRAME_GUEST_PHYSICAL);
    const name = UPCALL_KIND_NAMES[kind] ?? `upcall ${kind}`;
    const detail = kind === UPCALL_EPT_VIOLATION ? `, guest-physical 0x${gpa.toString(16)}, linear 0x${hex64(linear)}` : `, detail ${k.mem.read64(frame + UPCALL_FRAME_DETAIL)}`;
    return `${name} at RIP 0x${hex64(rip)}${this.symbolIn(d, rip) || ` <${k.symbolAt(rip) ?? "?"}>`}${detail}`;
  }

  private symbolIn(d: Domain, rip: number): string {
    if (rip < d.window || rip >= d.window + WINDOW_SIZE) return "";
    const s = d.image.symbolAt(rip);
    return s ? ` <${d.name}:${s.label}>` : "";
  }

  /**
   * An interrupt or exception that came from a domain (exitless entry, origin domain or
   * domain-in-EPT_K; `regs` is its PT_REGS frame): the reason to kill the domain, or null
   * if the kernel handles it as any interrupt and goes back into the domain.
   */
  interrupted(cpu: Cpu, vector: number, origin: number, regs: number): string | null {
    const k = this.k;
    const crossing = this.stack().at(-1);
    if (!crossing) return "an interrupt from a domain with no crossing in progress";
    const d = crossing.domain;
    const rip = k.mem.read64(regs + PT_REGS.rip);
    const at = `RIP 0x${hex64(rip)}${this.symbolIn(d, rip) || ` <${k.symbolAt(rip) ?? "?"}>`}`;
    if (origin === ORIGIN.domainInEptK) {
      // Its registers in EPT_K outside the crossing code's checks: a jump to one of the
      // trampoline's VMFUNCs with interrupts on, or a VMFUNC of its own (Inv 1: the next
      // fetch, at its own address, is not mapped in the kernel's EPT).
      const how = rip >= WINDOW_BASE ? "executed VMFUNC in its own code" : "jumped into the crossing code";
      return `${how}: ${vector < 32 ? EXCEPTION_NAMES[vector] ?? `vector ${vector}` : `interrupt ${vector}`} in the kernel's EPT at ${at}, RSP 0x${hex64(k.mem.read64(regs + PT_REGS.rsp))}`;
    }
    if (vector === NMI) return null;
    if (vector < 32) {
      const addr = vector === PF_VEC ? `, address 0x${hex64(cpu.cr2)}` : "";
      return `exception ${EXCEPTION_NAMES[vector] ?? `vector ${vector}`} at ${at}${addr}`;
    }
    // An external interrupt is in service at the APIC; INT n raises a vector that is not.
    if (!k.lapic.inService(vector)) return `raised vector ${vector} with INT n at ${at}`;
    if (!crossing.interrupts) return `turned interrupts on (STI) inside the domain: interrupt ${vector} at ${at}`;
    return null;
  }

  /** Kills the domain of the innermost crossing on this vCPU for `why` and makes the crossing fail. */
  killInterrupted(cpu: Cpu, why: string): void {
    const crossing = this.stack().at(-1)!;
    this.kill(crossing.domain, why);
    this.fail(cpu, crossing);
  }

  /** Makes the crossing `crossing` (the innermost on this vCPU) fail: back to its caller as if it had returned. */
  private fail(cpu: Cpu, crossing: Crossing): void {
    const k = this.k;
    const t = k.current();
    k.executor.unwind(cpu, t, crossing.activation, new DomainKilled(crossing.domain), () => {
      // lvd_enter_domain's frame: msg, xsave area, the outer crossing's kernel RSP, r15 ... rbx, return address.
      const f = k.mem.read64(STATE_VA + STATE.kernelRsp);
      const xsave = k.mem.read64(f + 8);
      if (xsave !== 0) cpu.xstate.set(k.mem.readBytes(xsave, XSAVE_BYTES)); // what its XRSTOR would have done
      k.mem.write64(STATE_VA + STATE.kernelRsp, k.mem.read64(f + 16));
      cpu.segBase[GS] = k.percpu().area; // the domain may have changed GS base (WRGSBASE) before it was stopped
      [15, 14, 13, 12, 5, 3].forEach((r, i) => cpu.setReg64(r, k.mem.read64(f + 24 + 8 * i)));
    });
  }
}

