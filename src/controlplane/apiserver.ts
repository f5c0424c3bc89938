// The lab control plane as one process on node-01: store (restored from the
// state dir), allocators, registry, controllers, DNS records and the HTTP
// server, wired together. Started by `svclab daemon apiserver` with
// kube-apiserver-style flags, so `ps aux` on the control-plane node shows
// --service-cluster-ip-range and friends where a learner expects them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LabFileError } from '../util/errors.ts';
import { ipFamily, parseCidr } from '../util/cidr.ts';
import { ClusterIPAllocator, NodePortAllocator, parsePortRange, portRangeString, seededRandom, type PortRange } from './allocators.ts';
import { Registry } from './registry.ts';
import { ServiceStrategy } from './service-strategy.ts';
import { Store, type KObj, type StoreEvent } from './store.ts';
import { loadSnapshot, SnapshotWriter } from './persist.ts';
import { startServer, type RunningServer } from './server.ts';
import { DnsRecords } from './dns-records.ts';
import { ensureBuiltins, KubernetesServiceController, type LabNodeInfo } from './controllers/builtins.ts';
import { DeploymentController } from './controllers/deployment.ts';
import { EndpointSliceController } from './controllers/endpointslice.ts';
import { EndpointsController } from './controllers/endpoints.ts';
import { GarbageCollector } from './controllers/garbage-collector.ts';
import { NamespaceController } from './controllers/namespace.ts';
import { Scheduler } from './controllers/scheduler.ts';
import type { Controller, Log } from './controllers/queue.ts';
import { readTokenFile } from './auth/token-file.ts';

export interface ApiServerOptions {
  /** "ip:port" of the TCP listener: plain HTTP, and TLS too when the TLS files are given. Port 0 picks one. */
  listen: string;
  /** Unix socket path (the host's CLI reaches the apiserver through it). */
  socket: string;
  /** Where the object snapshot lives. */
  stateDir: string;
  serviceCIDR: string;
  nodePortRange: PortRange;
  nodes: LabNodeInfo[];
  controlPlaneNode: string;
  /** The DNS pod's hosts directory (dnsmasq --hostsdir). */
  dnsHostsDir: string;
  /** The `kubernetes` endpoint address; default: the control-plane node's IP. */
  advertiseAddress?: string;
  /** The `kubernetes` endpoint port; default: the listen port, or 6443. */
  securePort?: number;
  /** Events kept per kind for resuming watches (--default-watch-cache-size). */
  historyLimit?: number;
  /** Seed for ClusterIP/NodePort/name randomness (reproducible labs); default random like upstream. */
  seed?: number;
  log?: Log;
  /** Flush the snapshot and exit on SIGTERM/SIGINT (the daemon; not tests). */
  handleSignals?: boolean;
  bookmarkIntervalMs?: number;
  /** Flags accepted for realism but not used (reported once at start). */
  ignoredFlags?: string[];
  /** --tls-cert-file / --tls-private-key-file / --client-ca-file: with them the TCP listener also speaks TLS. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  /** --token-auth-file: static bearer tokens (CSV token,user,uid,"groups"). */
  tokenAuthFile?: string;
  /** A unix socket serving only TLS (the host's loopback forwarder pipes to it). */
  secureSocket?: string;
}

export interface ApiServerHandle {
  url?: string;
  port?: number;
  socket: string;
  secureSocket?: string;
  registry: Registry;
  store: Store;
  /** Milliseconds from call to serving. */
  startupMs: number;
  close(): Promise<void>;
}

const defaultLog: Log = (line) => console.log(`${new Date().toISOString()} ${line}`);

function describeService(o: KObj): string {
  const s = o.spec ?? {};
  const ports = (s.ports ?? []).map((p: { port: number; protocol?: string; nodePort?: number }) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
  const ip = s.type === 'ExternalName' ? `externalName ${s.externalName}` : `clusterIP ${s.clusterIP}`;
  return `type ${s.type}, ${ip}${ports ? `, ports ${ports}` : ''}${s.healthCheckNodePort ? `, healthCheckNodePort ${s.healthCheckNodePort}` : ''}`;
}

/** One line per change a learner would want to see in the apiserver's log. */
export function describeEvent(e: StoreEvent): string | undefined {
  const o = e.object;
  const id = `${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  const kind = o.kind.toLowerCase();
  switch (o.kind) {
    case 'Service':
      if (e.type === 'ADDED') return `service ${id} created: ${describeService(o)}`;
      if (e.type === 'DELETED') return `service ${id} deleted (released ${describeService(o)})`;
      if (JSON.stringify(o.spec) !== JSON.stringify(e.prev?.spec)) return `service ${id} updated: ${describeService(o)}`;
      return undefined;
    case 'Deployment':
      if (e.type === 'ADDED') return `deployment ${id} created (replicas ${o.spec?.replicas})`;
      if (e.type === 'DELETED') return `deployment ${id} deleted`;
      if (o.spec?.replicas !== e.prev?.spec?.replicas) return `deployment ${id} scaled from ${e.prev?.spec?.replicas} to ${o.spec?.replicas}`;
      if (JSON.stringify(o.spec?.template) !== JSON.stringify(e.prev?.spec?.template)) return `deployment ${id}: pod template changed, rolling out`;
      return undefined;
    case 'Pod':
      if (e.type === 'DELETED') return `pod ${id} deleted`;
      if (e.type === 'MODIFIED' && o.metadata.deletionTimestamp && !e.prev?.metadata.deletionTimestamp) {
        return `pod ${id} terminating (grace period ${o.metadata.deletionGracePeriodSeconds}s)`;
      }
      if (e.type === 'MODIFIED' && o.status?.podIP && o.status.podIP !== e.prev?.status?.podIP) return `pod ${id} on ${o.spec?.nodeName} has IP ${o.status.podIP}`;
      return undefined;
    case 'Namespace':
      if (e.type === 'ADDED') return `${kind} ${id} created`;
      if (e.type === 'DELETED') return `${kind} ${id} deleted`;
      return undefined;
    default:
      return undefined;
  }
}

export async function runApiServer(opts: ApiServerOptions): Promise<ApiServerHandle> {
  const t0 = performance.now();
  const log = opts.log ?? defaultLog;
  // Signals are taken from the start, so a stop during start-up still saves what was written.
  let stopNow: ((sig: string) => void) | undefined;
  if (opts.handleSignals) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => (stopNow ? stopNow(sig) : process.exit(0)));
  }
  const rand = opts.seed !== undefined ? seededRandom(opts.seed) : Math.random;
  const store = new Store({ historyLimit: opts.historyLimit ?? 1000 });
  const snapshotPath = join(opts.stateDir, 'objects.json');
  const snap = loadSnapshot(snapshotPath);
  if (snap) store.restore(snap);

  const services = new ServiceStrategy(new ClusterIPAllocator(opts.serviceCIDR, rand), new NodePortAllocator(opts.nodePortRange, rand));
  for (const svc of store.list('Service').items) {
    for (const problem of services.restore(svc as Parameters<ServiceStrategy["restore"]>[0])) log(`apiserver: service ${svc.metadata.namespace}/${svc.metadata.name}: cannot keep ${problem}`);
  }
  const registry = new Registry({ store, services, rand });
  registry.resumeGracefulDeletions();
  const writer = new SnapshotWriter(store, snapshotPath);
  const stopLogging = store.onAnyChange((e) => {
    const line = describeEvent(e);
    if (line) log(`apiserver: ${line}`);
  });

  const listenPort = Number(opts.listen.match(/:(\d+)$/)?.[1] ?? 0);
  const cp = opts.nodes.find((n) => n.name === opts.controlPlaneNode);
  const info = {
    serviceCIDR: opts.serviceCIDR,
    nodes: opts.nodes,
    controlPlaneNode: opts.controlPlaneNode,
    advertiseAddress: opts.advertiseAddress ?? cp?.ip ?? opts.listen.replace(/:\d+$/, ''),
    securePort: opts.securePort ?? (listenPort || 6443),
  };
  ensureBuiltins(registry, info, log);

  const dns = new DnsRecords(store, opts.dnsHostsDir, log);
  const controllers: Controller[] = [
    new NamespaceController(registry, log),
    new GarbageCollector(registry, log),
    new Scheduler(registry, log),
    new DeploymentController(registry, log),
    new EndpointSliceController(registry, log),
    new EndpointsController(registry, log),
    new KubernetesServiceController(registry, info, log),
    dns,
  ];
  for (const c of controllers) c.start();

  let server: RunningServer;
  try {
    const tls = opts.tlsCertFile && opts.tlsPrivateKeyFile && opts.clientCAFile
      ? { cert: readFileSync(opts.tlsCertFile, 'utf8'), key: readFileSync(opts.tlsPrivateKeyFile, 'utf8'), clientCA: readFileSync(opts.clientCAFile, 'utf8') }
      : undefined;
    server = await startServer({
      registry, listen: opts.listen, socket: opts.socket, log, advertise: `${info.advertiseAddress}:${info.securePort}`, bookmarkIntervalMs: opts.bookmarkIntervalMs,
      tls, secureSocket: tls ? opts.secureSocket : undefined, tokens: opts.tokenAuthFile ? readTokenFile(opts.tokenAuthFile) : undefined,
    });
  } catch (e) {
    for (const c of controllers) c.stop();
    registry.close();
    writer.close();
    throw e;
  }
  const startupMs = Math.round(performance.now() - t0);
  log(
    `apiserver: serving on ${server.url ?? opts.listen}${opts.tlsCertFile ? ' (HTTPS and HTTP)' : ''} and unix:${opts.socket}${server.secureSocket ? ` (HTTPS also on unix:${server.secureSocket})` : ''} in ${startupMs}ms ` +
      `(service-cluster-ip-range ${services.ips.cidrText}, service-node-port-range ${portRangeString(opts.nodePortRange)}, ` +
      `${snap ? `restored ${snap.objects.length} objects at resourceVersion ${snap.resourceVersion}` : 'fresh state'})`,
  );
  if (opts.ignoredFlags?.length) log(`apiserver: accepted but not used: ${opts.ignoredFlags.join(' ')}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const c of controllers) c.stop();
      registry.close();
      await server.close();
      stopLogging();
      writer.close();
    })());
  stopNow = (sig) => {
    log(`apiserver: ${sig}, saving state and stopping`);
    close().finally(() => process.exit(0));
  };
  return { url: server.url, port: server.port, socket: opts.socket, secureSocket: server.secureSocket, registry, store, startupMs, close };
}

// ---- flags ----

/** kube-apiserver flags a lab passes for realism; accepted and ignored. */
const REALISM_FLAGS = new Set([
  'etcd-servers', 'authorization-mode', 'allow-privileged', 'enable-admission-plugins', 'enable-bootstrap-token-auth',
  'kubelet-client-certificate', 'kubelet-client-key', 'kubelet-preferred-address-types',
  'service-account-issuer', 'service-account-key-file', 'service-account-signing-key-file', 'requestheader-allowed-names',
  'requestheader-client-ca-file', 'requestheader-extra-headers-prefix', 'requestheader-group-headers', 'requestheader-username-headers',
  'proxy-client-cert-file', 'proxy-client-key-file', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'v',
]);

function flagError(flag: string, message: string): LabFileError {
  return new LabFileError(`apiserver flag --${flag}: ${message}`, undefined, undefined, `--${flag}`);
}

/**
 * Parses kube-apiserver-style flags (`--name=value` or `--name value`):
 * --service-cluster-ip-range, --service-node-port-range, --advertise-address,
 * --secure-port, --bind-address, and the lab's own --state-dir, --unix-socket,
 * --nodes=node-01=192.168.49.2=10.244.0.0/24,..., --dns-hosts-dir,
 * --control-plane-node, --default-watch-cache-size, --seed; TLS and authentication:
 * --tls-cert-file, --tls-private-key-file, --client-ca-file (all three or none),
 * --token-auth-file, and the lab's own --secure-unix-socket.
 */
export function parseApiServerFlags(argv: string[]): ApiServerOptions {
  const values = new Map<string, string>();
  const ignored: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = a.match(/^--([a-z0-9-]+)(?:=(.*))?$/);
    if (!m) throw flagError(a.replace(/^-+/, ''), `unexpected argument "${a}"`);
    let v = m[2];
    if (v === undefined) v = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
    if (REALISM_FLAGS.has(m[1])) ignored.push(`--${m[1]}=${v}`);
    else values.set(m[1], v);
  }
  const known = ['service-cluster-ip-range', 'service-node-port-range', 'advertise-address', 'secure-port', 'bind-address', 'state-dir', 'unix-socket', 'nodes', 'dns-hosts-dir', 'control-plane-node', 'default-watch-cache-size', 'seed', 'tls-cert-file', 'tls-private-key-file', 'client-ca-file', 'token-auth-file', 'secure-unix-socket'];
  for (const k of values.keys()) if (!known.includes(k)) throw flagError(k, `unknown flag (known: ${known.map((x) => `--${x}`).join(', ')})`);

  const serviceCIDR = values.get('service-cluster-ip-range') ?? '10.96.0.0/12';
  try {
    parseCidr(serviceCIDR);
  } catch (e) {
    throw flagError('service-cluster-ip-range', (e as Error).message);
  }
  let nodePortRange: PortRange;
  try {
    nodePortRange = parsePortRange(values.get('service-node-port-range') ?? '30000-32767');
  } catch (e) {
    throw flagError('service-node-port-range', (e as Error).message);
  }
  const nodes: LabNodeInfo[] = (values.get('nodes') ?? '').split(',').filter(Boolean).map((entry) => {
    const [name, ip, podCIDR] = entry.split('=');
    if (!name || !ip || !podCIDR || !ipFamily(ip)) throw flagError('nodes', `"${entry}" is not name=ip=podCIDR (like node-01=192.168.49.2=10.244.0.0/24)`);
    try {
      parseCidr(podCIDR);
    } catch (e) {
      throw flagError('nodes', `${name}: ${(e as Error).message}`);
    }
    return { name, ip, podCIDR };
  });
  if (!nodes.length) throw flagError('nodes', 'required: the lab nodes as name=ip=podCIDR,...');
  const advertise = values.get('advertise-address');
  if (advertise && !ipFamily(advertise)) throw flagError('advertise-address', `"${advertise}" is not an IP address`);
  const controlPlaneNode = values.get('control-plane-node') ?? nodes.find((n) => n.ip === advertise)?.name ?? nodes[0].name;
  if (!nodes.some((n) => n.name === controlPlaneNode)) throw flagError('control-plane-node', `"${controlPlaneNode}" is not one of --nodes`);
  const port = Number(values.get('secure-port') ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw flagError('secure-port', `"${values.get('secure-port')}" is not a port`);
  const bind = values.get('bind-address') ?? advertise ?? '0.0.0.0';
  const need = (k: string) => {
    const v = values.get(k);
    if (!v) throw flagError(k, 'required');
    return v;
  };
  const stateDir = need('state-dir');
  const tlsFlags = ['tls-cert-file', 'tls-private-key-file', 'client-ca-file'];
  const given = tlsFlags.filter((k) => values.has(k));
  if (given.length && given.length < 3) throw flagError(tlsFlags.find((k) => !values.has(k))!, `required with --${given[0]} (the TLS listener needs the serving pair and the client CA)`);
  if (values.has('secure-unix-socket') && !given.length) throw flagError('secure-unix-socket', 'needs --tls-cert-file, --tls-private-key-file and --client-ca-file');
  const cacheSize = values.get('default-watch-cache-size');
  const seed = values.get('seed');
  return {
    listen: `${bind.includes(':') ? `[${bind}]` : bind}:${port}`,
    socket: values.get('unix-socket') ?? join(stateDir, 'apiserver.sock'),
    stateDir,
    serviceCIDR,
    nodePortRange,
    nodes,
    controlPlaneNode,
    dnsHostsDir: values.get('dns-hosts-dir') ?? join(stateDir, 'dns'),
    advertiseAddress: advertise ?? nodes.find((n) => n.name === controlPlaneNode)!.ip,
    securePort: port || 6443,
    ...(cacheSize ? { historyLimit: Math.max(1, Number(cacheSize)) } : {}),
    ...(seed ? { seed: Number(seed) } : {}),
    handleSignals: true,
    ignoredFlags: ignored,
    ...(given.length ? { tlsCertFile: values.get('tls-cert-file'), tlsPrivateKeyFile: values.get('tls-private-key-file'), clientCAFile: values.get('client-ca-file') } : {}),
    ...(values.has('token-auth-file') ? { tokenAuthFile: values.get('token-auth-file') } : {}),
    ...(values.has('secure-unix-socket') ? { secureSocket: values.get('secure-unix-socket') } : {}),
  };
}
