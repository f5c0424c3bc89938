// The mode benchmark's two load generators, run inside the lab's client pod
// through `svclab exec`, and the parsers for what they print:
//  - wrk (Debian's, C): short keep-alive HTTP requests for a fixed time, requests/s
//    and the latency distribution (p50/p99);
//  - curl: 100 MB downloads to /dev/null, bytes per second of each.
// Both are bounded: wrk by its duration, curl by --max-time.

export interface WrkResult {
  requests: number;
  rps: number;
  p50: number; // seconds
  p99: number; // seconds
  errors: number;
}

export interface TransferResult {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
}

export const WRK_THREADS = 1;
export const WRK_CONNECTIONS = 4;

export function wrkArgv(url: string, durationS: number): string[] {
  return ['wrk', `-t${WRK_THREADS}`, `-c${WRK_CONNECTIONS}`, `-d${durationS}s`, '--timeout', '2s', '--latency', url];
}

/** `count` downloads of `url` to /dev/null in one curl, one "bytes seconds" line each. */
export function curlArgv(url: string, count: number, maxTimeS: number): string[] {
  const each = Array.from({ length: count }, () => ['-o', '/dev/null', url]).flat();
  return ['curl', '-sS', '--fail', '--max-time', String(maxTimeS), '-w', '%{size_download} %{time_total}\\n', ...each];
}

/** "280.00us" / "1.23ms" / "2.00s" -> seconds. */
export function parseDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read the duration "${text}"`);
  const scale = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[m[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(m[1]) * scale;
}

export function parseWrk(out: string): WrkResult {
  const pick = (re: RegExp, what: string) => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk printed no ${what}:\n${out}`);
    return m[1];
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return {
    requests: Number(pick(/(\d+) requests in/, 'request count')),
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')),
    p50: parseDuration(pick(/^\s+50%\s+(\S+)/m, '50% latency')),
    p99: parseDuration(pick(/^\s+99%\s+(\S+)/m, '99% latency')),
    errors,
  };
}

export function parseCurl(out: string): TransferResult[] {
  const lines = [...out.matchAll(/^(\d+) ([\d.]+)\s*$/gm)];
  if (!lines.length) throw new Error(`curl printed no "size time" line:\n${out}`);
  return lines.map((m) => {
    const bytes = Number(m[1]);
    const seconds = Number(m[2]);
    return { bytes, seconds, bytesPerSecond: bytes / seconds };
  });
}
