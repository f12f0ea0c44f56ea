// The kernel functions isolated drivers can import, by IDL module: for each module the
// kernel implements, the object its generated glue binds to (an rpc of the IDL is a
// method here).

import type { Kernel } from "../../kernel.ts";
import { dummyBus } from "./dummy-bus.ts";
import { ksplitKernel } from "../../tables/marshal.ts";

export const KERNEL_APIS: Readonly<Record<string, (k: Kernel) => object>> = {
  dummy: dummyBus,
  ksplit_marshal: () => ksplitKernel,
};
