// All instruction handlers by the name the decode table gives them. One file per
// instruction group; each exports an object of handlers.

import type { Cpu } from "../cpu.ts";
import type { Insn } from "../decoder.ts";
import { alu } from "./alu.ts";
import { move } from "./move.ts";
import { control } from "./control.ts";
import { shift } from "./shift.ts";
import { muldiv } from "./muldiv.ts";
import { bits } from "./bits.ts";
import { string } from "./string.ts";
import { system } from "./system.ts";
import { io } from "./io.ts";

export type Handler = (cpu: Cpu, i: Insn) => void;

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...alu,
  ...move,
  ...control,
  ...shift,
  ...muldiv,
  ...bits,
  ...string,
  ...system,
  ...io,
};
