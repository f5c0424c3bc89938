// Terminal output: colour through node:util.styleText (honours NO_COLOR,
// FORCE_COLOR and non-TTY streams), phase lines with timings, JSON mode.
// A namespace import, not `import { styleText }`: the bundle also runs on the
// VMs' Debian Node 18, which has no styleText (a named import is a SyntaxError
// there at load time); without it, output is plain.
import * as util from 'node:util';

type Style = Parameters<typeof util.styleText>[0];

function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  // styleText checks the stream itself on Node >= 22; on 20 we decide here.
  return useColor(stream) && util.styleText ? util.styleText(style, text) : text;
}

export const sym = {
  ok: () => paint('green', '✓'),
  fail: () => paint('red', '✗'),
  skip: () => paint('yellow', '-'),
  dot: () => paint('gray', '•'),
  warn: () => paint('yellow', '!'),
};

/** Prints lab phases as they go: "• Creating nodes ..." then "✓ Creating nodes (1.2s)". Silent in JSON mode. */
export class Progress {
  private started = new Map<string, number>();
  readonly timings: { phase: string; seconds: number }[] = [];
  constructor(private readonly quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  begin(phase: string, detail?: string): void {
    this.started.set(phase, Date.now());
    if (!this.quiet) this.stream.write(`${sym.dot()} ${phase}${detail ? paint('gray', ` ${detail}`, this.stream) : ''} ...\n`);
  }

  end(phase: string, detail?: string): void {
    const seconds = (Date.now() - (this.started.get(phase) ?? Date.now())) / 1000;
    this.timings.push({ phase, seconds });
    if (!this.quiet) this.stream.write(`${sym.ok()} ${phase}${detail ? ` ${detail}` : ''} ${paint('gray', `(${seconds.toFixed(1)}s)`, this.stream)}\n`);
  }

  note(text: string): void {
    if (!this.quiet) this.stream.write(`  ${paint('gray', text, this.stream)}\n`);
  }

  warn(text: string): void {
    this.stream.write(`${sym.warn()} ${paint('yellow', text, this.stream)}\n`);
  }

  async phase<T>(phase: string, fn: () => Promise<T>, detail?: string): Promise<T> {
    this.begin(phase, detail);
    const result = await fn();
    this.end(phase);
    return result;
  }
}

/** kubectl-style table: uppercase headers, no borders, columns padded with three spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
