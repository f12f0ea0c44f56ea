import type { Handler } from "./index.ts";

export const bits: Record<string, Handler> = {};
