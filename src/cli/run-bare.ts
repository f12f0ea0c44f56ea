// `lvd run-bare prog.c|prog.o`: one program on one vCPU, its port-0xE9 output on stdout,
// its return value as the exit status.

import { basename } from "node:path";
import { BareMachine } from "../machine/bare.ts";
import { parseElf } from "../machine/elf.ts";
import { Stop } from "../machine/cpu/cpu.ts";
import { EXCEPTION_NAMES, PF_VEC } from "../machine/cpu/cpu.ts";
import { hex64 } from "../machine/cpu/interrupts.ts";
import { bareProgramObjects } from "./compile.ts";

export interface RunBareOptions {
  opt: string;
  stats: boolean;
  maxInstructions: number;
}

/** Exit status when the instruction limit is reached (as timeout(1) does). */
export const EXIT_LIMIT = 124;

export function runBare(file: string, o: RunBareOptions): number {
  const objects = bareProgramObjects(file, o.opt).map((x) => parseElf(x.bytes, x.name));
  const machine = new BareMachine(objects);
  const started = performance.now();
  const result = machine.run(o.maxInstructions);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(result.output);

  let status: number;
  const down = machine.cpu.shutdown;
  if (down) {
    const where = machine.image.symbolAt(down.rip)?.label;
    const name = EXCEPTION_NAMES[down.vector] ?? `vector ${down.vector}`;
    let msg = `lvd: ${basename(file)}: unhandled exception ${name} (vector ${down.vector}) at RIP 0x${hex64(down.rip)}`;
    if (where) msg += ` <${where}>`;
    if (down.errorCode >= 0) msg += `, error code 0x${down.errorCode.toString(16)}`;
    if (down.vector === PF_VEC) msg += `, CR2 0x${hex64(down.cr2)}`;
    process.stderr.write(msg + "\n");
    status = 128 + down.vector;
  } else if (result.status !== null) {
    status = result.status & 0xff;
  } else if (result.stop === Stop.Halted) {
    process.stderr.write(`lvd: ${basename(file)}: the processor halted with interrupts off before lvd_main returned\n`);
    status = 125;
  } else {
    process.stderr.write(`lvd: ${basename(file)}: stopped after ${result.instructions} instructions (--max-instructions)\n`);
    status = EXIT_LIMIT;
  }
  if (o.stats) {
    const mips = result.instructions / seconds / 1e6;
    process.stderr.write(
      `instructions: ${result.instructions}\ncycles: ${result.cycles}\nhost seconds: ${seconds.toFixed(3)}\nMIPS: ${mips.toFixed(1)}\n`,
    );
  }
  return status;
}
