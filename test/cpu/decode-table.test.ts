// The decode table is consistent: every handler exists, every opcode parses, and no two
// entries claim the same encoding.
import { describe, it, expect } from "vitest";
import { DECODE_TABLE } from "../../src/machine/cpu/decode-table.ts";
import { missingHandlers, decode } from "../../src/machine/cpu/decoder.ts";
import { formatInsn } from "../../src/machine/cpu/disasm.ts";

describe("decode table", () => {
  it("names only handlers that exist", () => {
    expect(missingHandlers()).toEqual([]);
  });

  it("has no two entries for the same encoding", () => {
    const seen = new Map<string, string>();
    for (const e of DECODE_TABLE) {
      const key = e.opcode;
      expect(seen.has(key), `${key} is listed twice (${seen.get(key)} and ${e.mnemonic})`).toBe(false);
      seen.set(key, e.mnemonic);
    }
  });

  it("uses only known operand letters and flag letters", () => {
    for (const e of DECODE_TABLE) {
      for (const spec of e.operands === "" ? [] : e.operands.split(",")) {
        expect(spec, `${e.opcode} ${e.mnemonic}`).toMatch(/^([EGMRZIJOXYCDSA][bwdqvzy]?|CL|DX|1|fs|gs|M)$/);
      }
      for (const f of (e.sets ?? "") + (e.undef ?? "")) expect("OSZAPC").toContain(f);
    }
  });

  it("decodes one instance of every entry back to that entry", () => {
    for (const e of DECODE_TABLE) {
      const bytes = encodeExample(e.opcode, e.operands);
      let i;
      try {
        i = decode(bytes, 0, bytes.length);
      } catch {
        throw new Error(`${e.opcode} ${e.mnemonic}: ${[...bytes].map((b) => b.toString(16)).join(" ")} is incomplete`);
      }
      expect(i.entry?.opcode, `${e.opcode} (${[...bytes].map((b) => b.toString(16)).join(" ")}) -> ${formatInsn(i)}`).toBe(e.opcode);
      expect(i.len).toBe(bytes.length);
    }
  });
});

/** A byte encoding of an entry: prefix, opcode, a ModRM (register or [rax] form), immediates. */
function encodeExample(opcode: string, operands: string): Uint8Array {
  const out: number[] = [];
  const parts = opcode.split(" ");
  if (/^(66|F2|F3)$/.test(parts[0]) && parts.length > 1) out.push(parseInt(parts.shift()!, 16));
  if (parts[0] === "0F") {
    out.push(0x0f);
    parts.shift();
    if ((parts[0] as string) === "38" && parts.length > 1) out.push(parseInt(parts.shift()!, 16));
  }
  out.push(parseInt(parts.shift()!, 16));
  const rest = parts.shift();
  const ops = operands === "" ? [] : operands.split(",");
  if (rest?.startsWith("/")) out.push((rest[2] === "m" ? 0x00 : 0xc0) | (Number(rest[1]) << 3));
  else if (rest) out.push(parseInt(rest, 16));
  else if (/(^|,)([EGMRS]|[CD][a-z])/.test(operands)) out.push(ops.some((o) => o[0] === "M") ? 0x00 : 0xc0);
  for (const o of ops) {
    if (o[0] === "I" || o[0] === "J") {
      const n = o === "Ib" || o === "Jb" ? 1 : o === "Iw" ? 2 : 4;
      for (let k = 0; k < n; k++) out.push(0x11);
    } else if (o[0] === "O") for (let k = 0; k < 8; k++) out.push(0x22);
  }
  return new Uint8Array(out);
}
