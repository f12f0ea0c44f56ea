// The kernel's view of memory: every access goes through the vCPU the kernel is running
// on, so through that vCPU's page tables and, once the hypervisor has launched, its EPT
// (DESIGN.md: the kernel acts on a vCPU in VMX non-root ring 0). Page walks charge the
// vCPU's clock like any access; a fault is thrown as the CpuFault the access raised
// (a kernel bug the executor reports as an oops).
//
// Values are numbers: 64-bit ones exact below 2^53 and for canonical addresses (signed),
// like the CPU model's own (cpu.ts).

import type { Cpu } from "../machine/cpu/cpu.ts";
import { ACC_READ, ACC_WRITE } from "../machine/cpu/paging.ts";

export class GuestMemory {
  constructor(private readonly vcpu: () => Cpu) {}

  private pa(va: number, acc: number): number {
    return this.vcpu().translateAs(va, acc, false);
  }

  read8(va: number): number {
    return this.vcpu().readPhys(this.pa(va, ACC_READ), 1);
  }
  read16(va: number): number {
    if ((va & 0xfff) > 4094) return this.read8(va) | (this.read8(va + 1) << 8);
    return this.vcpu().readPhys(this.pa(va, ACC_READ), 2);
  }
  read32(va: number): number {
    if ((va & 0xfff) > 4092) return (this.read16(va) | (this.read16(va + 2) << 16)) >>> 0;
    return this.vcpu().readPhys(this.pa(va, ACC_READ), 4) >>> 0;
  }
  /** A quadword as a number: unsigned below 2^53, or the signed value of an upper-half address. */
  read64(va: number): number {
    if ((va & 0xfff) > 4088) return this.read32(va) + this.read32(va + 4) * 4294967296;
    const c = this.vcpu();
    const lo = c.readPhys(this.pa(va, ACC_READ), 8);
    return c.h * 4294967296 + (lo >>> 0);
  }

  write8(va: number, v: number): void {
    this.vcpu().writePhys(this.pa(va, ACC_WRITE), 1, v, 0);
  }
  write16(va: number, v: number): void {
    if ((va & 0xfff) > 4094) {
      this.write8(va, v);
      this.write8(va + 1, v >> 8);
    } else this.vcpu().writePhys(this.pa(va, ACC_WRITE), 2, v, 0);
  }
  write32(va: number, v: number): void {
    if ((va & 0xfff) > 4092) {
      this.write16(va, v);
      this.write16(va + 2, v >>> 16);
    } else this.vcpu().writePhys(this.pa(va, ACC_WRITE), 4, v | 0, 0);
  }
  write64(va: number, v: number): void {
    const lo = v | 0, hi = Math.floor(v / 4294967296) | 0;
    if ((va & 0xfff) > 4088) {
      this.write32(va, lo);
      this.write32(va + 4, hi);
    } else this.vcpu().writePhys(this.pa(va, ACC_WRITE), 8, lo, hi);
  }

  readBytes(va: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const c = this.vcpu();
    for (let k = 0; k < n; ) {
      const pa = this.pa(va + k, ACC_READ);
      const chunk = Math.min(n - k, 4096 - ((va + k) & 0xfff));
      if (c.mem.isRam(pa, chunk)) out.set(c.mem.bytes.subarray(pa, pa + chunk), k);
      else for (let j = 0; j < chunk; j++) out[k + j] = c.readPhys(pa + j, 1);
      k += chunk;
    }
    return out;
  }
  writeBytes(va: number, data: Uint8Array): void {
    const c = this.vcpu();
    for (let k = 0; k < data.length; ) {
      const pa = this.pa(va + k, ACC_WRITE);
      const chunk = Math.min(data.length - k, 4096 - ((va + k) & 0xfff));
      if (c.mem.isRam(pa, chunk)) c.mem.load(pa, data.subarray(k, k + chunk));
      else for (let j = 0; j < chunk; j++) c.writePhys(pa + j, 1, data[k + j], 0);
      k += chunk;
    }
  }
  fill(va: number, n: number, byte = 0): void {
    for (let k = 0; k < n; ) {
      const chunk = Math.min(n - k, 4096 - ((va + k) & 0xfff));
      this.writeBytes(va + k, new Uint8Array(chunk).fill(byte));
      k += chunk;
    }
  }

  /** A NUL-terminated string of at most `max` bytes (Latin-1). */
  readString(va: number, max = 4096): string {
    let s = "";
    for (let k = 0; k < max; k++) {
      const b = this.read8(va + k);
      if (b === 0) break;
      s += String.fromCharCode(b);
    }
    return s;
  }
}
