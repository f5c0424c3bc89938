// Runs programs with argument arrays — never a shell string — and turns a
// failure into a CommandError that names the command, the place and stderr.
import { spawn } from 'node:child_process';
import { CommandError } from './errors.ts';

export interface ExecOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Don't throw on a non-zero exit; the caller reads `code`. */
  allowFailure?: boolean;
  /** Where this runs, for error messages ("node-01", "pod db-0"). */
  where?: string;
  cwd?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, String(err.message), opts.where));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !opts.allowFailure) {
        reject(new CommandError(argv, result.code, stderr || stdout, opts.where));
      } else resolve(result);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}
