// Readiness probes as the kubelet runs them (pkg/kubelet/prober): tcpSocket
// connects, httpGet wants a status in [200, 400), exec wants exit 0. The
// kubelet is in the node's namespace, so TCP and HTTP probes go to the pod
// IP over the node's bridge — the path a Service's traffic takes.
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Container } from '../k8s/objects.ts';
import { run } from '../util/exec.ts';
import { podExecArgv } from './pod-paths.ts';

export type Probe = NonNullable<Container['readinessProbe']>;
type ContainerPort = NonNullable<Container['ports']>[number];

/** Lab timings: a 2 s period (upstream's default is 10 s) so Ready follows a port within seconds. */
export const PROBE_PERIOD_S = 2;

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, for the log ("dial tcp 10.244.1.5:3306: connection refused"). */
  message?: string;
}

/**
 * The probe Ready is decided by. Upstream: the readinessProbe, else ready as
 * soon as the container started. svclab adds one step between: with no probe
 * but a containerPort, ready when that port accepts a TCP connection — so a
 * MariaDB still initialising is not yet an endpoint.
 */
export function readinessProbeFor(container: Container, override?: Probe): Probe | undefined {
  if (override) return override;
  if (container.readinessProbe) return container.readinessProbe;
  const port = (container.ports ?? []).find((p: ContainerPort) => (p.protocol ?? 'TCP') === 'TCP');
  return port ? { tcpSocket: { port: port.containerPort }, periodSeconds: PROBE_PERIOD_S, failureThreshold: 1 } : undefined;
}

/** A probe's port: a number, or the name of one of the container's ports. */
export function probePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = (container.ports ?? []).find((p: ContainerPort) => p.name === port);
  if (!named) throw new Error(`probe port "${port}" is not a named port of container ${container.name}`);
  return named.containerPort;
}

export interface ProbeTarget {
  podIP: string;
  /** The container's pid, for exec probes. */
  pid?: number;
  container: Container;
}

export async function runProbe(probe: Probe, t: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.tcpSocket) {
      return await tcpProbe(probe.tcpSocket.host || t.podIP, probePort(probe.tcpSocket.port, t.container), timeoutMs);
    }
    if (probe.httpGet) {
      const g = probe.httpGet;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h: { name: string; value: string }) => [h.name, h.value]));
      return await httpProbe(g.scheme === 'HTTPS', g.host || t.podIP, probePort(g.port, t.container), g.path || '/', headers, timeoutMs);
    }
    if (probe.exec?.command?.length) {
      if (!t.pid) return { ok: false, message: 'container not running' };
      const r = await run(podExecArgv(t.pid, probe.exec.command), { allowFailure: true, timeoutMs });
      return r.code === 0 ? { ok: true } : { ok: false, message: `exec ${probe.exec.command.join(' ')}: exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 200)}` };
    }
    if (probe.grpc) return { ok: false, message: 'gRPC probes are not supported by svclab' };
    return { ok: false, message: 'probe has no handler' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: ProbeResult) => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }));
    sock.once('connect', () => done({ ok: true }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, message: `dial tcp ${host}:${port}: ${e.code ?? e.message}` }));
  });
}

export function httpProbe(
  https: boolean,
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = (https ? httpsRequest : httpRequest)(
      { host, port, path, method: 'GET', headers: { 'user-agent': 'kube-probe/svclab', ...headers }, timeout: timeoutMs, rejectUnauthorized: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        // Upstream counts 2xx and 3xx (redirects not followed off-host) as success.
        resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Get "http://${host}:${port}${path}": context deadline exceeded`)));
    req.on('error', (e) => resolve({ ok: false, message: e.message }));
    req.end();
  });
}
