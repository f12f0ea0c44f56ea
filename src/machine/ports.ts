// The I/O port bus of a machine: devices claim ports, every vCPU's IN and OUT reach the
// same devices. An unclaimed port reads all ones and ignores writes, like an open ISA bus.

import type { PortBus } from "./cpu/cpu.ts";

export interface PortDevice {
  in?(port: number, size: number): number;
  out?(port: number, size: number, value: number): void;
}

export class PortRouter implements PortBus {
  private readonly devices = new Map<number, PortDevice>();

  /** Attaches `device` to `port` (one device per port). */
  register(port: number, device: PortDevice): void {
    if (this.devices.has(port)) throw new Error(`port 0x${port.toString(16)} is already claimed`);
    this.devices.set(port, device);
  }

  in(port: number, size: number): number {
    const d = this.devices.get(port);
    if (d?.in) return d.in(port, size);
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  out(port: number, size: number, value: number): void {
    this.devices.get(port)?.out?.(port, size, value);
  }
}

/** Port 0xE9: each byte written is output (the Bochs/QEMU debug console). */
export class DebugConsole implements PortDevice {
  readonly bytes: number[] = [];
  /** Sees each byte as it is written (a terminal following the output). */
  onByte: ((byte: number) => void) | null = null;
  out(_port: number, _size: number, value: number): void {
    this.bytes.push(value & 0xff);
    this.onByte?.(value & 0xff);
  }
  text(): string {
    return new TextDecoder().decode(new Uint8Array(this.bytes));
  }
}
