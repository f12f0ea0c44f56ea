// A message the glue refuses (bad capability, bad length...): the kernel's dispatcher
// turns it into an ERROR reply; a domain's ERROR reply becomes one in the kernel caller.

import { ERROR_NAMES } from "../wire.ts";

export class GlueError extends Error {
  constructor(readonly code: number, detail: string) {
    super(`${ERROR_NAMES[code] ?? `error ${code}`}: ${detail}`);
    this.name = "GlueError";
  }
}
