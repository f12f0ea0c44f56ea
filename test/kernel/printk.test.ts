import { describe, it, expect } from "vitest";
import { formatPrintk } from "../../src/kernel/modules/printk.ts";

function fmt(f: string, ...args: (bigint | string)[]): string {
  const strings = new Map<bigint, string>();
  const vals = args.map((a, i) => {
    if (typeof a === "string") {
      strings.set(BigInt(1000 + i), a);
      return BigInt(1000 + i);
    }
    return a;
  });
  let n = 0;
  return formatPrintk(f, () => vals[n++], (va) => strings.get(va) ?? "?");
}

describe("printk formats like the kernel's printf", () => {
  it("integers: sizes, signs, widths, padding", () => {
    expect(fmt("%d %i %u", -1n, 42n, -1n)).toBe("-1 42 4294967295");
    expect(fmt("%ld %lu %llx", -1n, -1n, -1n)).toBe("-1 18446744073709551615 ffffffffffffffff");
    expect(fmt("[%5d|%-5d|%05d]", 42n, 42n, -42n)).toBe("[   42|42   |-0042]");
    expect(fmt("%x %X %#x %08x", 255n, 255n, 255n, 255n)).toBe("ff FF 0xff 000000ff");
  });
  it("strings, characters, pointers and %%", () => {
    expect(fmt("%s=%c %p 100%%", "x", 65n, -2147483648n)).toBe("x=A 0xffffffff80000000 100%");
  });
});
