// start_kernel: what the first thread does on the bootstrap processor, and what each
// application processor does when it comes up. Memory management first (page
// allocator, the kernel's own page tables, heap, vmap), then the descriptor tables and
// per-CPU areas, the local APIC and its timer, the other vCPUs, and the kernel threads;
// then the caller's main path, then a clean shutdown.

import type { Kernel } from "../kernel.ts";
import { call, type KernelPath } from "../thread.ts";
import { PageAllocator } from "../mm/page-allocator.ts";
import { AddressSpace } from "../mm/address-space.ts";
import { KernelHeap } from "../mm/heap.ts";
import { Vmap } from "../mm/vmap.ts";
import { Completion } from "../sync.ts";
import { PerCpu, PERCPU } from "../percpu.ts";
import {
  PAGE, DIRECT_MAP, KERNEL_IMAGE_PA, KERNEL_TEXT_PA, GATE_PAGES, AP_START_PAGE, BOOT_STACK, BOOT_STACK_END, imageVa, phys2virt,
} from "../layout.ts";
import { writeGdt, writeTss, writeIdtGate, writeTablePointer, GDT_BYTES, TSS_SEL, istOf, IST_COUNT } from "../arch/descriptors.ts";
import { APIC_VA } from "../arch/lapic.ts";
import { flagsForPerms } from "../../machine/page-tables.ts";
import { APIC_DEFAULT_BASE } from "../../machine/apic.ts";
import { CR4_PGE, CR4_OSFXSR, CR4_OSXSAVE, CR4_FSGSBASE } from "../../machine/cpu/arch.ts";
import { IA32_GS_BASE } from "../../machine/cpu/ops/msr.ts";
import { STATE, STATE_PAGE_PA } from "../lvd/layout.ts";

/** XCR0: x87 and SSE state (what XSAVE saves; AVX is not executed by the machine). */
const XCR0_X87_SSE = 3;

const LARGE = 0x200000;
/** Pages of each IST stack. */
const IST_PAGES = 2;

export function* startKernel(k: Kernel, main: (k: Kernel) => KernelPath): KernelPath {
  const machine = k.machine;
  k.log(`LVD kernel booting on ${machine.cpus.length} vCPU(s), ${machine.mem.size >> 20} MB`);

  // Physical memory: everything below the end of the image is the firmware's and ours.
  const imageEnd = Math.ceil((KERNEL_IMAGE_PA + GATE_PAGES * PAGE + k.image.size) / PAGE) * PAGE;
  const totalPages = machine.mem.size / PAGE;
  k.pages = new PageAllocator(k.mem, imageEnd, totalPages);
  k.pages.init([{ base: 0, bytes: imageEnd }]);
  k.log(`memory: ${totalPages} pages, ${k.pages.freePages} free; kernel image ${(imageEnd - KERNEL_IMAGE_PA) >> 10} KB`);

  // The kernel's page tables: direct map (no execute), gates and text (execute, read-only),
  // the APIC page (uncached), and the APs' start page until they are up.
  const mm = new AddressSpace("kernel", k.mem, k.pages, null);
  mm.prepareKernelSlots([273, 402, 511]);
  const ram = Math.floor(machine.mem.size / LARGE) * LARGE;
  mm.map(DIRECT_MAP, 0, ram, { write: true, global: true }, LARGE);
  if (machine.mem.size > ram) mm.map(DIRECT_MAP + ram, ram, machine.mem.size - ram, { write: true, global: true });
  mm.map(imageVa(KERNEL_IMAGE_PA), KERNEL_IMAGE_PA, GATE_PAGES * PAGE, { exec: true, global: true });
  for (const r of k.image.regions) {
    mm.map(r.start, KERNEL_TEXT_PA + (r.start - k.image.base), r.size, flagsForPerms(r.perms, { global: true }));
  }
  mm.map(APIC_VA, APIC_DEFAULT_BASE, PAGE, { write: true, uncached: true, global: true });
  mm.map(AP_START_PAGE, AP_START_PAGE, PAGE, { exec: true });
  k.kernelMm = mm;
  for (const t of k.threads.values()) t.mm = mm;
  yield* call(k.symbols.lvd_write_cr3, mm.cr3);
  yield* cpuFeatures(k);

  k.heap = new KernelHeap(k.mem, k.pages);
  k.vmap = new Vmap(mm, k.pages, k.mem);
  k.bootStack = { base: phys2virt(BOOT_STACK), top: phys2virt(BOOT_STACK_END) };

  // One IDT for all vCPUs; double fault, NMI and machine check on their own stacks, and
  // with exitless entry every other vector on an IST as well (irq-entry.S).
  const idt = k.heap.alloc(PAGE);
  const stubs = k.exitless ? k.symbols.lvd_ist_stubs : k.symbols.lvd_irq_stubs;
  for (let v = 0; v < 256; v++) writeIdtGate(k.mem, idt, v, stubs + 16 * v, istOf(v, k.exitless));
  k.idt = idt;
  // The state page exitless entry reads (lvd/layout.ts): "in the kernel". LVD gives each
  // vCPU a copy of its own once the hypervisor runs (lvd.ts start()).
  k.mem.fill(phys2virt(STATE_PAGE_PA), PAGE);
  k.mem.write64(phys2virt(STATE_PAGE_PA) + STATE.inKernel, 1);
  mm.map(imageVa(STATE_PAGE_PA), STATE_PAGE_PA, PAGE, { write: true, global: true });

  for (const pc of k.percpus) {
    pc.area = k.heap.alloc(PAGE);
    // GDT and TSS on a page of their own: a domain's EPT_I maps it (read-only, on this vCPU only).
    pc.gdt = phys2virt(k.pages.alloc());
    k.mem.fill(pc.gdt, PAGE);
    pc.tss = pc.gdt + 0x100;
    pc.istTops = Array.from({ length: IST_COUNT }, () => k.vmap.alloc(IST_PAGES).top);
    pc.idle = k.newThread(`idle/${pc.id}`, pc.id === 0 ? () => idleLoop(k) : () => apMain(k, pc), pc.id);
    writeTss(k.mem, pc.tss, pc.idle.stackTop, pc.istTops);
    writeGdt(k.mem, pc.gdt, pc.tss);
    k.mem.write64(pc.area + PERCPU.self, pc.area);
    k.mem.write64(pc.area + PERCPU.cpu, pc.id);
    k.mem.write64(pc.area + PERCPU.kernelStack, pc.idle.stackTop);
  }
  const bsp = k.percpus[0];
  k.percpus[0].current = k.current();
  yield* cpuInit(k, bsp);

  // The application processors: INIT-SIPI each, wait until it is online.
  k.apOnline = new Completion(k);
  k.gates.bindAt("ap_start", AP_START_PAGE, (cpu) => k.executor.boot(cpu, k.percpus[cpu.id].idle));
  for (const pc of k.percpus.slice(1)) k.lapic.startAp(pc.id, AP_START_PAGE / PAGE);
  yield* k.apOnline.wait(k.percpus.length - 1);
  mm.unmap(AP_START_PAGE, PAGE);
  k.log(`smp: ${k.percpus.length} vCPU(s) online, timer every ${k.tickCycles} cycles`);

  k.spawn("console", () => k.console.writer());
  for (const pc of k.percpus) k.spawn(`kworker/${pc.id}`, () => k.interrupts.worker(pc.id), pc.id);

  yield* main(k);
  yield* shutdown(k);
}

/** Global pages, SSE, XSAVE (x87 and SSE state), and RD/WRGSBASE for exitless interrupt entry. */
function* cpuFeatures(k: Kernel): KernelPath {
  const cr4 = yield* call(k.symbols.lvd_read_cr4);
  yield* call(k.symbols.lvd_write_cr4, cr4 | CR4_PGE | CR4_OSFXSR | CR4_OSXSAVE | CR4_FSGSBASE);
  yield* call(k.symbols.lvd_xsetbv, 0, XCR0_X87_SSE);
}

/** Loads this vCPU's descriptor tables, GS base, APIC and timer. */
function* cpuInit(k: Kernel, pc: PerCpu): KernelPath {
  const scratch = pc.area + 0x100;
  writeTablePointer(k.mem, scratch, pc.gdt, GDT_BYTES - 1);
  writeTablePointer(k.mem, scratch + 16, k.idt, 256 * 16 - 1);
  yield* call(k.symbols.lvd_load_tables, scratch, scratch + 16, TSS_SEL);
  yield* call(k.symbols.lvd_wrmsr, IA32_GS_BASE, pc.area);
  k.lapic.enable();
  k.lapic.startTimer(k.tickCycles);
  pc.online = true;
}

function* apMain(k: Kernel, pc: PerCpu): KernelPath {
  yield* call(k.symbols.lvd_write_cr3, k.kernelMm.cr3);
  yield* cpuFeatures(k);
  yield* cpuInit(k, pc);
  k.log(`cpu${pc.id}: online`);
  k.apOnline.complete();
  yield* idleLoop(k);
}

/** The idle thread: run whatever is runnable, else wait for an interrupt. */
function* idleLoop(k: Kernel): KernelPath {
  for (;;) {
    const pc = k.percpu();
    if (pc.needResched || k.scheduler.hasWorkFor(pc.id)) yield* k.scheduler.schedule();
    else yield* call(k.symbols.lvd_idle);
  }
}

/** Stops the other vCPUs, writes out the console, and ends the machine's run (exit port). */
function* shutdown(k: Kernel): KernelPath {
  k.log("shutdown: stopping the other vCPUs");
  yield* k.console.drain();
  const self = k.cpu.id;
  for (const pc of k.percpus) if (pc.id !== self && pc.online) k.interrupts.stopCpu(pc.id);
  while (k.percpus.some((pc) => pc.id !== self && pc.online && !pc.stopped)) yield* k.scheduler.sleep(k.tickCycles);
  k.lapic.stopTimer();
  k.log(`shutdown: done (${k.stats.threadsCreated} threads created, ${k.stats.preemptions} preemptions)`);
  yield* k.console.drain();
  yield* call(k.symbols.lvd_outb, 0xf4, 0);
}
