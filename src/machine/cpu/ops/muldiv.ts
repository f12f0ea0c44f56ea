import type { Handler } from "./index.ts";

export const muldiv: Record<string, Handler> = {};
