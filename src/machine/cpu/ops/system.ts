import type { Handler } from "./index.ts";

export const system: Record<string, Handler> = {};
