import type { Handler } from "./index.ts";

export const shift: Record<string, Handler> = {};
