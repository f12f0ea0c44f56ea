// The kernel side of idl/dummy.idl: a bus that takes registrations of dummy devices,
// probes each through its driver's probe function (a call into the domain through the
// glue's trampoline), and removes them again when the driver unregisters.

import type { Kernel } from "../../kernel.ts";
import type { KernelPath } from "../../thread.ts";

/** What the bus sees of a device: the generated view (DummyDevice) of the kernel's copy. */
interface Device {
  readonly va: number;
  id: number;
  name: string | null;
  probe: ((dev: Device) => KernelPath<number>) | null;
  remove: ((dev: Device) => KernelPath<void>) | null;
}

export function dummyBus(k: Kernel) {
  const devices = new Map<number, Device>();
  return {
    *dummy_register(dev: Device | null): KernelPath<number> {
      if (!dev) return -22;
      devices.set(dev.va, dev);
      k.log(`dummy bus: device ${dev.id} "${dev.name}" registered; probing`);
      const status = dev.probe ? yield* dev.probe(dev) : -19;
      k.log(`dummy bus: probe of device ${dev.id} returned ${status}`);
      return status;
    },
    *dummy_unregister(dev: { va: number } | null): KernelPath<void> {
      const d = dev && devices.get(dev.va);
      if (!d) return;
      if (d.remove) yield* d.remove(d);
      devices.delete(d.va);
      k.log(`dummy bus: device ${d.id} removed`);
    },
    dummy_log(message: string | null): void {
      k.log(`dummy bus: driver says "${message}"`);
    },
  };
}
