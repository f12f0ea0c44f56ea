// A stand-in for the LVD runtime, enough to run generated glue on the bare machine with
// no domains, VMFUNC or kernel: the domain's C (driver, generated glue,
// test/idl/domain_runtime.c) runs on the emulated CPU; the kernel's generated
// TypeScript runs in native gates.
//
//  - lvd_test_kernel_gate: the domain's lvd_call_kernel calls it with the message in
//    rdi, rsi, rdx, r8..r12 (docs/glue-abi.md) and the rest in the extended page. The
//    gate runs the kernel's dispatcher (a KernelPath) and returns with the reply in the
//    same registers, by popping the return address as the kernel's exported functions
//    do (src/kernel/kernel.ts returnToCaller).
//  - A dispatcher that calls into the domain (a callback) yields a call effect, as kernel
//    paths do (src/kernel/thread.ts): the harness runs lvd_dispatch(&lvd_test_incoming)
//    on the vCPU with lvd_test_return_gate as its return address, and resumes the path
//    when the domain gets there. Calls nest: domain -> kernel -> domain -> kernel...
//    A stack of activations, never a recursive run of the machine.
//  - The GlueChannel's memory is the machine's, through the vCPU's page tables (the
//    kernel's GuestMemory); its heap is lvd_test_kernel_heap, a bump allocator that
//    remembers what is live.

import { BareMachine } from "../../src/machine/bare.ts";
import type { Cpu } from "../../src/machine/cpu/cpu.ts";
import { RDI, RSI, RDX } from "../../src/machine/cpu/cpu.ts";
import { ACC_READ } from "../../src/machine/cpu/paging.ts";
import { GuestMemory } from "../../src/kernel/guest-memory.ts";
import { call, type CallEffect, type KernelPath } from "../../src/kernel/thread.ts";
import {
  GlueCSpace, headerCount, loadInt64, storeInt64, REGISTER_WORDS, type GlueChannel,
} from "../../src/idl/glue-runtime.ts";

const MESSAGE_REGISTERS = [RDI, RSI, RDX, 8, 9, 10, 11, 12];

interface Activation {
  readonly path: KernelPath<bigint[]>;
  /** RSP when the domain entered the kernel: it points at the return address. */
  readonly entryRsp: number;
  /** While the kernel's call into the domain is out: the RSP the return gate must see. */
  awaitRsp: number;
}

export class GlueHarness implements GlueChannel {
  readonly machine: BareMachine;
  readonly mem: GuestMemory;
  readonly cspace = new GlueCSpace();
  /** Kernel heap blocks in use (address -> size). */
  readonly live = new Map<number, number>();
  frees = 0;
  /** Calls the domain made into the kernel, and the kernel into the domain. */
  kernelEntries = 0;
  domainCalls = 0;
  private readonly activations: Activation[] = [];
  private heapNext: number;
  private readonly heapEnd: number;
  private readonly extPage: number;
  private readonly incoming: number;
  private readonly dispatchVa: number;
  private readonly returnGateVa: number;
  private dispatcher: ((request: bigint[]) => KernelPath<bigint[]>) | null = null;

  constructor(objects: Uint8Array[]) {
    this.machine = new BareMachine(objects);
    const cpu = this.machine.cpu;
    this.mem = new GuestMemory(() => cpu);
    this.extPage = this.symbol("lvd_test_ext_page");
    this.incoming = this.symbol("lvd_test_incoming");
    this.dispatchVa = this.symbol("lvd_dispatch");
    this.returnGateVa = this.symbol("lvd_test_return_gate");
    this.heapNext = this.symbol("lvd_test_kernel_heap");
    this.heapEnd = this.heapNext + (1 << 18);
    const pa = (va: number) => cpu.translateAs(va, ACC_READ, false);
    this.machine.mem.setGate(pa(this.symbol("lvd_test_kernel_gate")), (c) => this.kernelGate(c));
    this.machine.mem.setGate(pa(this.returnGateVa), (c) => this.returnGate(c));
  }

  symbol(name: string): number {
    const va = this.machine.image.symbols.get(name);
    if (va === undefined) throw new Error(`no symbol '${name}' in the test image`);
    return va;
  }

  /** The kernel's side: the dispatcher the generated bind<Module>() returned. */
  serve(dispatcher: (request: bigint[]) => KernelPath<bigint[]>): void {
    this.dispatcher = dispatcher;
  }

  // ---------------------------------------------------------------- GlueChannel

  *callDomain(words: bigint[]): KernelPath<bigint[]> {
    this.domainCalls++;
    this.writeWords(words, (k, w) => storeInt64(this.mem, this.incoming + 8 * k, w));
    yield* call(this.dispatchVa, this.incoming);
    return this.readWords((k) => loadInt64(this.mem, this.incoming + 8 * k, false));
  }

  alloc(bytes: number): number {
    const va = this.heapNext;
    this.heapNext += Math.ceil(Math.max(bytes, 1) / 16) * 16;
    if (this.heapNext > this.heapEnd) throw new Error("the test's kernel heap is exhausted");
    this.live.set(va, bytes);
    return va;
  }

  free(va: number): void {
    if (!this.live.delete(va)) throw new Error(`free of 0x${(va >>> 0).toString(16)}, which is not allocated`);
    this.frees++;
  }

  // ---------------------------------------------------------------- the crossing

  /** Words 0..7 from `word(k)`, then the extended page, as many as the header counts. */
  private readWords(word: (k: number) => bigint): bigint[] {
    const words: bigint[] = [];
    for (let k = 0; k < REGISTER_WORDS; k++) words.push(word(k));
    const count = Math.max(1, headerCount(words[0]));
    for (let k = REGISTER_WORDS; k < count; k++) words.push(loadInt64(this.mem, this.extPage + 8 * (k - REGISTER_WORDS), false));
    return words.slice(0, count);
  }

  private writeWords(words: bigint[], word: (k: number, w: bigint) => void): void {
    for (let k = 0; k < REGISTER_WORDS; k++) word(k, words[k] ?? 0n);
    for (let k = REGISTER_WORDS; k < words.length; k++) storeInt64(this.mem, this.extPage + 8 * (k - REGISTER_WORDS), words[k]);
  }

  private kernelGate(cpu: Cpu): void {
    if (!this.dispatcher) throw new Error("the test serves no module");
    this.kernelEntries++;
    const request = this.readWords((k) => register(cpu, MESSAGE_REGISTERS[k]));
    this.activations.push({ path: this.dispatcher(request), entryRsp: cpu.rsp, awaitRsp: NaN });
    this.resume(cpu, undefined);
  }

  private returnGate(cpu: Cpu): void {
    const a = this.activations[this.activations.length - 1];
    if (!a || a.awaitRsp !== cpu.rsp) throw new Error(`return gate reached with RSP 0x${(cpu.rsp >>> 0).toString(16)} and no call waiting for it`);
    a.awaitRsp = NaN;
    cpu.rsp = a.entryRsp;
    this.resume(cpu, cpu.reg64(0));
  }

  /** Runs the innermost activation until it calls the domain or is done. */
  private resume(cpu: Cpu, value: number | undefined): void {
    const a = this.activations[this.activations.length - 1];
    const r = a.path.next(value);
    if (r.done) {
      this.activations.pop();
      this.writeWords(r.value, (k, w) => setRegister(cpu, MESSAGE_REGISTERS[k], w));
      const lo = cpu.pop(8);
      cpu.nextRip = cpu.h * 4294967296 + (lo >>> 0);
      return;
    }
    const effect = r.value as CallEffect;
    if (effect.kind !== "call") throw new Error(`the harness runs call effects only, not '${effect.kind}'`);
    // Below the kernel entry's frame, 16-byte aligned, then the return address: the callee
    // starts as if called (RSP = 8 mod 16).
    const sp = Math.floor((a.entryRsp - 128) / 16) * 16 - 8;
    cpu.writeMem(sp, 8, this.returnGateVa | 0, Math.floor(this.returnGateVa / 4294967296) | 0);
    cpu.rsp = sp;
    a.awaitRsp = sp + 8;
    effect.args.forEach((v, k) => setRegister(cpu, [RDI, RSI, RDX][k], BigInt(v)));
    cpu.nextRip = effect.target;
  }
}

function register(cpu: Cpu, r: number): bigint {
  return (BigInt(cpu.hi[r] >>> 0) << 32n) | BigInt(cpu.lo[r] >>> 0);
}

function setRegister(cpu: Cpu, r: number, w: bigint): void {
  const u = BigInt.asUintN(64, w);
  cpu.writeReg(8, r, Number(u & 0xffff_ffffn) | 0, Number(u >> 32n) | 0);
}
