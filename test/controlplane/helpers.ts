// Shared set-up for the control-plane tests: an apiserver on 127.0.0.1:0 plus a
// unix socket in a temp dir (no root needed), and a poll-until helper.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApiServer, type ApiServerHandle, type ApiServerOptions } from '../../src/controlplane/apiserver.ts';

export const NODES = [
  { name: 'node-01', ip: '192.168.49.2', podCIDR: '10.244.0.0/24' },
  { name: 'node-02', ip: '192.168.49.3', podCIDR: '10.244.1.0/24' },
];

export interface TestServer extends ApiServerHandle {
  dir: string;
  logs: string[];
  options: ApiServerOptions;
}

export function serverOptions(dir: string, extra: Partial<ApiServerOptions> = {}, logs: string[] = []): ApiServerOptions {
  return {
    listen: '127.0.0.1:0',
    socket: join(dir, 'apiserver.sock'),
    stateDir: join(dir, 'state'),
    serviceCIDR: '10.96.0.0/12',
    nodePortRange: { base: 30000, size: 2768 },
    nodes: NODES,
    controlPlaneNode: 'node-01',
    dnsHostsDir: join(dir, 'dns'),
    log: (l) => logs.push(l),
    ...extra,
  };
}

export async function startTestServer(extra: Partial<ApiServerOptions> = {}, dir = mkdtempSync(join(tmpdir(), 'svclab-cp-'))): Promise<TestServer> {
  const logs: string[] = [];
  const options = serverOptions(dir, extra, logs);
  const h = await runApiServer(options);
  return { ...h, dir, logs, options };
}

export async function stopTestServer(s: TestServer | undefined, removeDir = true): Promise<void> {
  if (!s) return;
  await s.close();
  if (removeDir) rmSync(s.dir, { recursive: true, force: true });
}

/** Polls `f` until it returns a truthy value (returned) or the time runs out (throws with `what`). */
export async function until<T>(what: string, f: () => T | Promise<T>, timeoutMs = 4000): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as Exclude<T, false | 0 | '' | null | undefined>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A kubeconfig for the real kubectl against a test server (plain HTTP, no credentials), in the server's dir. */
export function writeTestKubeconfig(s: TestServer): string {
  const file = join(s.dir, 'kubeconfig');
  writeFileSync(
    file,
    ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: lab', '  cluster:', `    server: ${s.url}`, 'contexts:', '- name: lab', '  context:', '    cluster: lab', '    user: admin', 'current-context: lab', 'users:', '- name: admin', '  user: {}', ''].join('\n'),
  );
  return file;
}
