// The platform firmware and boot loader: what runs before the kernel. It loads nothing
// itself (the kernel's machine code was placed in its image when the Kernel was
// constructed) and hands the bootstrap processor to the kernel in 64-bit long mode, as
// a boot protocol would: page tables with a direct map of all RAM and the kernel image at
// the top of the address space, a GDT with the kernel's selectors, a stack, interrupts
// off, RIP at the kernel's start gate. The application processors wait for a SIPI.

import type { Machine } from "../../machine/machine.ts";
import { PageTableBuilder } from "../../machine/page-tables.ts";
import { CS, SS, DS, ES } from "../../machine/cpu/cpu.ts";
import {
  PAGE, DIRECT_MAP, KERNEL_BASE, FIRMWARE_TABLES, FIRMWARE_TABLES_END, BOOT_GDT, BOOT_STACK_END, KERNEL_IMAGE_PA,
  phys2virt,
} from "../layout.ts";
import { KERNEL_CS, KERNEL_DS } from "../arch/descriptors.ts";

const LARGE = 0x200000;

export function firmwareBoot(machine: Machine, startGate: number): void {
  const mem = machine.mem;
  let next = FIRMWARE_TABLES;
  const pt = new PageTableBuilder(mem, () => {
    if (next >= FIRMWARE_TABLES_END) throw new Error("firmware: out of page-table space");
    const pa = next;
    next += PAGE;
    return pa;
  });
  const ram = Math.ceil(mem.size / LARGE) * LARGE;
  if (mem.size < KERNEL_IMAGE_PA + 16 * LARGE) throw new Error(`the kernel needs at least ${(KERNEL_IMAGE_PA + 16 * LARGE) >> 20} MB of memory`);
  pt.map(DIRECT_MAP, 0, ram, { write: true }, LARGE);
  pt.map(KERNEL_BASE, 0, 16 * LARGE, { write: true, exec: true }, LARGE);
  pt.map(0, 0, LARGE, { write: true, exec: true }, LARGE);

  // Null, 64-bit kernel code, kernel data: the kernel's own GDT keeps these selectors.
  mem.write64(BOOT_GDT, 0, 0);
  mem.write64(BOOT_GDT + 8, 0x0000ffff, 0x00af9a00);
  mem.write64(BOOT_GDT + 16, 0x0000ffff, 0x00cf9200);

  machine.startCpu(0, (c) => {
    c.cr3 = pt.root;
    c.flushTlb(true);
    c.gdtBase = phys2virt(BOOT_GDT);
    c.gdtLimit = 23;
    c.idtBase = 0;
    c.idtLimit = 0;
    c.segSel[CS] = KERNEL_CS;
    for (const s of [SS, DS, ES]) c.segSel[s] = KERNEL_DS;
    c.cpl = 0;
    c.rflags = 2;
    c.rsp = phys2virt(BOOT_STACK_END);
    c.rip = startGate;
  });
}
