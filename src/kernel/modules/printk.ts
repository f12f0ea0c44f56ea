// printk's format: the subset of printf kernel code uses, with arguments taken the
// System V way (after the format: the remaining argument registers, then the stack).

/** Formats `fmt`, taking 64-bit arguments from `next` and strings from `str`. */
export function formatPrintk(fmt: string, next: () => bigint, str: (va: bigint) => string): string {
  let out = "";
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== "%") {
      out += ch;
      continue;
    }
    let flags = "";
    while ("-0+ #".includes(fmt[i + 1] ?? "x")) flags += fmt[++i];
    let width = "";
    while (/[0-9]/.test(fmt[i + 1] ?? "")) width += fmt[++i];
    let len = 0; // bytes of the argument: 4 unless l/ll/z
    while ("lhzjt".includes(fmt[i + 1] ?? "x")) len = fmt[++i] === "h" ? 4 : 8;
    const conv = fmt[++i];
    let s: string;
    switch (conv) {
      case "%": out += "%"; continue;
      case "c": s = String.fromCharCode(Number(next() & 0xffn)); break;
      case "s": s = str(next()); break;
      case "d": case "i": {
        s = BigInt.asIntN(len === 8 ? 64 : 32, next()).toString();
        if (flags.includes("+") && !s.startsWith("-")) s = "+" + s;
        break;
      }
      case "u": s = BigInt.asUintN(len === 8 ? 64 : 32, next()).toString(); break;
      case "x": case "X": {
        const v = BigInt.asUintN(len === 8 ? 64 : 32, next());
        s = v.toString(16);
        if (conv === "X") s = s.toUpperCase();
        if (flags.includes("#") && v !== 0n) s = "0x" + s;
        break;
      }
      case "p": s = "0x" + BigInt.asUintN(64, next()).toString(16); break;
      default: s = "%" + flags + width + (conv ?? ""); // not a conversion we know: print it as is
    }
    const w = Number(width || 0);
    if (s.length < w) s = flags.includes("-") ? s.padEnd(w) : flags.includes("0") && conv !== "s" ? zeroPad(s, w) : s.padStart(w);
    out += s;
  }
  return out;
}

function zeroPad(s: string, w: number): string {
  const sign = s.startsWith("-") || s.startsWith("+") ? s[0] : "";
  return sign + s.slice(sign.length).padStart(w - sign.length, "0");
}
