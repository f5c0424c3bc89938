// Runs the real `svclab` CLI (the built bundle) as a user would, and makes
// per-test copies of lab files under a unique lab name so tests never clash
// with a lab someone has up on the same machine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';

export const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
export const BIN = join(ROOT, 'bin', 'svclab.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `svclab up` merges a context into the kubeconfig kubectl reads; tests write
 * a file of their own instead of the user's ~/.kube/config (a test passes KUBECONFIG to choose it).
 */
export const TEST_KUBECONFIG = join(tmpdir(), `svclab-test-${process.pid}.kubeconfig`);
process.on('exit', () => rmSync(TEST_KUBECONFIG, { force: true }));

export function svclab(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', KUBECONFIG: TEST_KUBECONFIG, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 137, stdout, stderr });
    });
  });
}

/** A copy of labs/<file> named `name`, in a temp dir (apply-step files are resolved from the original dir). */
export function labCopy(file: string, name: string): string {
  const src = join(ROOT, 'labs', file);
  const doc = parseDocument(readFileSync(src, 'utf8'));
  doc.setIn(['metadata', 'name'], name);
  const dir = mkdtempSync(join(tmpdir(), 'svclab-test-'));
  const out = join(dir, file);
  writeFileSync(out, doc.toString());
  return out;
}

/** Why these integration tests cannot run here, or undefined if they can. */
export function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (labs create network namespaces)';
  if (!existsSync(join(ROOT, 'dist', 'svclab.mjs'))) return 'dist/svclab.mjs is missing (npm run build)';
  for (const tool of ['/usr/lib/cni/bridge', '/usr/sbin/mariadbd', '/usr/sbin/nginx', '/usr/sbin/dnsmasq', '/usr/bin/curl']) {
    if (!existsSync(tool)) return `${tool} is missing (sudo bash scripts/setup.sh)`;
  }
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` does not work here';
  return undefined;
}

export function uniqueLabName(base: string): string {
  return `${base}-${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 30);
}

export interface RunItem {
  name: string;
  type: string;
  status: 'pass' | 'fail' | 'skip';
  message: string;
}

export interface RunJson {
  mode: string;
  passed: number;
  failed: number;
  skipped: number;
  items: RunItem[];
}

/**
 * The scenario result `svclab run … -o json` printed, checked to have passed:
 * throws with stderr when there is none, and with the failed items when it exited non-zero.
 */
export function passedRun(r: CliResult): RunJson {
  let result: RunJson;
  try {
    result = JSON.parse(r.stdout) as RunJson;
  } catch {
    throw new Error(`svclab run exited ${r.code} without a result:\n${r.stderr}`);
  }
  if (r.code !== 0) throw new Error(`svclab run exited ${r.code}; failed items: ${JSON.stringify(result.items.filter((i) => i.status === 'fail'), null, 2)}`);
  return result;
}
