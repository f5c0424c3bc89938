// Go's text/tabwriter as kubectl describe configures it (minwidth 0, tabwidth 8,
// padding 2, pad with spaces, no flags). kubectl describe writes
// "Label:\tvalue\n" lines and lets the tabwriter align them, so the widths of
// `svclab describe` only match when the column blocks are computed the same way:
// a column block is a run of consecutive lines that all have a tab-terminated
// cell in that column; the text after a line's last tab is never padded.

const runes = (s: string) => [...s].length;

/** Aligns tab-separated cells exactly as Go's tabwriter.Writer(out, 0, 8, 2, ' ', 0) + Flush. */
export function tabwrite(text: string, padding = 2): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  const out: string[] = [];

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      out.push(lines[i].map((cell, j) => (j < widths.length ? cell + ' '.repeat(Math.max(0, widths[j] - runes(cell))) : cell)).join(''));
    }
  };

  // Go's Writer.format: recursive over columns, left to right.
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = 0;
      for (; t < line1; t++) {
        if (column >= lines[t].length - 1) break;
        width = Math.max(width, runes(lines[t][column]) + padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}

/**
 * kubectl's PrefixWriter: each write is indented two spaces per level; the
 * whole text goes through the tabwriter at the end (describe's tabbedString).
 */
export class PrefixWriter {
  private buf = '';
  write(level: number, text: string): void {
    this.buf += '  '.repeat(level) + text;
  }
  /** fmt.Sprintln: the text and a newline, no indent. */
  writeLine(text: string): void {
    this.buf += `${text}\n`;
  }
  toString(): string {
    return tabwrite(this.buf);
  }
}
