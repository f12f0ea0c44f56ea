// A text builder for generated code: lines at an indentation depth, blocks that indent
// their body. Generated files are read by people learning how glue works, so the
// emitters write them the way a person would (one statement a line, blank lines between
// functions, comments that say what crosses).

export class CodeWriter {
  private readonly out: string[] = [];
  private depth = 0;

  constructor(private readonly unit: string) {}

  line(text = ""): void {
    this.out.push(text === "" ? "" : this.unit.repeat(this.depth) + text);
  }

  lines(texts: readonly string[]): void {
    for (const t of texts) this.line(t);
  }

  /** `head` then the body indented, then `close`. */
  block(head: string, body: () => void, close = "}"): void {
    this.line(head);
    this.indented(body);
    this.line(close);
  }

  indented(body: () => void): void {
    this.depth++;
    body();
    this.depth--;
  }

  /** A comment block in C style (works for TypeScript too). */
  comment(text: string): void {
    const parts = text.split("\n");
    if (parts.length === 1) return this.line(`/* ${text} */`);
    this.line("/*");
    for (const p of parts) this.line(p === "" ? " *" : ` * ${p}`);
    this.line(" */");
  }

  text(): string {
    // No blank line before a closing brace, none doubled.
    const lines: string[] = [];
    for (const l of this.out) {
      if (l === "" && (lines.length === 0 || lines[lines.length - 1] === "")) continue;
      if (/^\s*[}\]]/.test(l) && lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
      lines.push(l);
    }
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines.join("\n") + "\n";
  }
}

/** "head: a, b, c." wrapped at 88 columns, ending with a newline. */
export function wrapList(head: string, items: string[]): string {
  const words = items.length === 0 ? ["none."] : items.map((x, k) => (k === items.length - 1 ? `${x}.` : `${x},`));
  const lines: string[] = [];
  let line = head.trimEnd();
  for (const word of words) {
    if (line.length + 1 + word.length > 88) {
      lines.push(line);
      line = `  ${word}`;
    } else line += ` ${word}`;
  }
  lines.push(line);
  return lines.join("\n") + "\n";
}
