import type { Handler } from "./index.ts";

export const string: Record<string, Handler> = {};
