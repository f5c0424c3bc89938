// Image kind → the real Debian program that stands in for it: argv,
// environment and the files it needs (nginx.conf, MariaDB's init SQL). Pure:
// the runtime writes the files and starts the argv; tests read the plan.
import { posix } from 'node:path';
import type { Container, Pod } from '../k8s/objects.ts';

type Probe = NonNullable<Container['readinessProbe']>;
type EnvVar = NonNullable<Container['env']>[number];
type ContainerPort = NonNullable<Container['ports']>[number];
import type { ImageKind } from '../lab/images.ts';
import { NETEXEC_DEFAULTS } from './netexec.ts';
import { MARIADB_SMALL } from '../image/mariadb.ts';

const { join, basename } = posix;

/** What src/lab/images.ts resolveImage() maps an image to. */
export type ProgramKind = ImageKind;

/**
 * The pod cannot start this container as specified. `reason` is what the
 * kubelet puts in containerStatuses[].state.waiting.reason, like upstream's
 * CreateContainerConfigError / ErrImagePull.
 */
export class ProgramError extends Error {
  override name = 'ProgramError';
  constructor(message: string, readonly reason = 'CreateContainerConfigError') {
    super(message);
  }
}

export interface ProgramContext {
  pod: Pod;
  /** Pod IP and node IP, for env fieldRefs (status.podIP, status.hostIP). */
  podIP: string;
  hostIP: string;
  /** containerWorkDir(): nginx.conf, the datadir, temp dirs live here. */
  workDir: string;
  /** dist/svclab.mjs and the node binary, for `daemon netexec`. */
  bundle: string;
  nodeBinary: string;
  /** Where the control plane writes `<ip> <svc>.<ns>.svc.cluster.local` lines. */
  dnsHostsDir: string;
}

export interface ProgramPlan {
  kind: ProgramKind;
  argv: string[];
  /** The whole environment of the process (nothing is inherited from the kubelet). */
  env: Record<string, string>;
  /** Directories to create before starting. */
  dirs: string[];
  files: { path: string; content: string; mode?: number }[];
  /** Set for MariaDB: a datadir to initialise (from the cached template) before the first start. */
  mariadbDatadir?: string;
  /** Replaces the container's readinessProbe when the stand-in cannot serve the image's own probe. */
  readinessOverride?: Probe;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function planProgram(kind: ProgramKind, container: Container, ctx: ProgramContext): ProgramPlan {
  const env = containerEnv(container, ctx);
  const expand = (list: string[] | undefined) => (list ?? []).map((s) => expandVars(s, env));
  const command = expand(container.command);
  const args = expand(container.args);
  const base: ProgramPlan = { kind, argv: [], env, dirs: [ctx.workDir], files: [] };

  // `command` replaces the image's entrypoint, as in Kubernetes: a client pod
  // `image: mariadb, command: [sleep, infinity]` runs sleep, not mariadbd.
  if (command.length && kind !== 'netexec') return { ...base, argv: [...command, ...args] };

  switch (kind) {
    case 'shell':
      return { ...base, argv: args.length ? args : ['sleep', 'infinity'] };
    case 'nginx':
      return planNginx(base, container, ctx);
    case 'mariadb':
      return planMariadb(base, container, ctx, args);
    case 'netexec':
      return planNetexec(base, [...command, ...args], ctx);
    case 'dns':
      return planDns(base, ctx);
  }
}

// ---- environment --------------------------------------------------------

/**
 * The container's environment as the kubelet builds it: a base PATH and
 * HOSTNAME, then spec env in order, each value able to use $(EARLIER_VAR).
 * valueFrom.fieldRef is served from the pod; ConfigMaps and Secrets are not.
 */
export function containerEnv(container: Container, ctx: ProgramContext): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: ctx.pod.metadata?.name ?? '', HOME: '/root' };
  for (const v of container.env ?? []) {
    const value = envValue(v, ctx);
    if (value !== undefined) env[v.name] = expandVars(value, env);
  }
  return env;
}

function envValue(v: EnvVar, ctx: ProgramContext): string | undefined {
  if (!v.valueFrom) return v.value ?? '';
  const field = v.valueFrom.fieldRef?.fieldPath;
  if (field) {
    const meta = ctx.pod.metadata ?? {};
    const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(field);
    if (label) return (label[1] === 'labels' ? meta.labels : meta.annotations)?.[label[2]] ?? '';
    const fields: Record<string, string | undefined> = {
      'metadata.name': meta.name,
      'metadata.namespace': meta.namespace ?? 'default',
      'metadata.uid': meta.uid,
      'spec.nodeName': ctx.pod.spec?.nodeName,
      'spec.serviceAccountName': ctx.pod.spec?.serviceAccountName ?? 'default',
      'status.podIP': ctx.podIP,
      'status.podIPs': ctx.podIP,
      'status.hostIP': ctx.hostIP,
      'status.hostIPs': ctx.hostIP,
    };
    if (field in fields) return fields[field] ?? '';
    throw new ProgramError(`env ${v.name}: fieldRef ${field} is not supported by svclab`);
  }
  const ref = v.valueFrom.configMapKeyRef ?? v.valueFrom.secretKeyRef;
  if (ref?.optional) return undefined;
  throw new ProgramError(`env ${v.name}: svclab serves no ConfigMaps, Secrets or resource fields; use value:`);
}

/** Kubernetes $(VAR) expansion: defined names are replaced, $$ escapes, unknown refs stay as written. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name] : m;
  });
}

function tcpPorts(container: Container): number[] {
  return (container.ports ?? []).filter((p: ContainerPort) => (p.protocol ?? 'TCP') === 'TCP').map((p: ContainerPort) => p.containerPort);
}

// ---- nginx --------------------------------------------------------------

function planNginx(base: ProgramPlan, container: Container, ctx: ProgramContext): ProgramPlan {
  const ports = tcpPorts(container);
  const conf = join(ctx.workDir, 'nginx.conf');
  return {
    ...base,
    argv: ['nginx', '-p', ctx.workDir, '-c', conf, '-e', 'stderr'],
    dirs: [ctx.workDir, join(ctx.workDir, 'temp')],
    files: [{ path: conf, content: renderNginxConf(ports.length ? ports : [80], ctx.workDir) }],
  };
}

/**
 * nginx.conf for a pod: every page names the pod ($hostname is the UTS name,
 * i.e. the pod name) and the client address nginx saw, so a curl through a
 * Service shows which backend answered and whether the source was SNATed.
 * /hostname and /clientip answer like agnhost netexec.
 */
export function renderNginxConf(ports: number[], workDir: string): string {
  const temp = (what: string) => `${what}_temp_path ${join(workDir, 'temp', what.replace('client_body', 'body'))};`;
  return [
    '# Generated by svclab for one pod container; logs go to the container log.',
    'daemon off;',
    'master_process on;',
    'user root;',
    'worker_processes 1;',
    `pid ${join(workDir, 'nginx.pid')};`,
    'error_log stderr;',
    '',
    'events {',
    '    worker_connections 256;',
    '}',
    '',
    'http {',
    '    access_log /dev/stdout;',
    '    default_type text/plain;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((w) => `    ${temp(w)}`),
    '',
    '    server {',
    ...ports.map((p) => `        listen ${p};`),
    '        server_name _;',
    '',
    '        location = /hostname {',
    '            return 200 "$hostname";',
    '        }',
    '        location = /clientip {',
    '            return 200 "$remote_addr:$remote_port";',
    '        }',
    '        location / {',
    '            return 200 "pod=$hostname client=$remote_addr\\n";',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

// ---- MariaDB ------------------------------------------------------------



function planMariadb(base: ProgramPlan, container: Container, ctx: ProgramContext, args: string[]): ProgramPlan {
  // The image's entrypoint runs a non-option first argument as a command.
  if (args.length && !args[0].startsWith('-') && !['mariadbd', 'mysqld'].includes(args[0])) return { ...base, argv: args };
  const extra = args.length && !args[0].startsWith('-') ? args.slice(1) : args;
  const w = ctx.workDir;
  const datadir = join(w, 'data');
  const initFile = join(w, 'init.sql');
  const port = tcpPorts(container)[0] ?? 3306;
  return {
    ...base,
    argv: [
      'mariadbd',
      '--no-defaults',
      '--user=root',
      `--datadir=${datadir}`,
      `--socket=${join(w, 'mysqld.sock')}`,
      `--port=${port}`,
      '--bind-address=0.0.0.0',
      '--skip-name-resolve',
      `--pid-file=${join(w, 'mariadbd.pid')}`,
      `--tmpdir=${join(w, 'tmp')}`,
      `--init-file=${initFile}`,
      ...MARIADB_SMALL,
      ...extra,
    ],
    dirs: [w, join(w, 'tmp')],
    files: [{ path: initFile, content: renderMariadbInit(base.env), mode: 0o600 }],
    mariadbDatadir: datadir,
  };
}

const pick = (env: Record<string, string>, name: string) => env[`MARIADB_${name}`] ?? env[`MYSQL_${name}`];

/**
 * The SQL the mariadb image's entrypoint runs on first start, as an
 * --init-file run at every start (idempotent): root@'%' with the password
 * from MARIADB_ROOT_PASSWORD / MYSQL_ROOT_PASSWORD (or none if empty is
 * allowed), plus MARIADB_DATABASE / MARIADB_USER / MARIADB_PASSWORD.
 * One statement per line: --init-file reads it that way.
 */
export function renderMariadbInit(env: Record<string, string>): string {
  const rootPw = pick(env, 'ROOT_PASSWORD');
  const allowEmpty = pick(env, 'ALLOW_EMPTY_ROOT_PASSWORD') ?? env.MYSQL_ALLOW_EMPTY_PASSWORD;
  if (rootPw === undefined && !allowEmpty) {
    throw new ProgramError(
      'mariadb: the database is uninitialized and no password option is set: ' +
        'set env MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD), or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1',
    );
  }
  const pw = sqlString(rootPw ?? '');
  const lines = [
    `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ${pw};`,
    `ALTER USER 'root'@'%' IDENTIFIED BY ${pw};`,
    `GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;`,
    `ALTER USER 'root'@'localhost' IDENTIFIED BY ${pw};`,
  ];
  const db = pick(env, 'DATABASE');
  if (db) lines.push(`CREATE DATABASE IF NOT EXISTS ${sqlIdent(db)};`);
  const user = pick(env, 'USER');
  if (user && user !== 'root') {
    const upw = sqlString(pick(env, 'PASSWORD') ?? '');
    lines.push(`CREATE USER IF NOT EXISTS ${sqlString(user)}@'%' IDENTIFIED BY ${upw};`);
    lines.push(`ALTER USER ${sqlString(user)}@'%' IDENTIFIED BY ${upw};`);
    if (db) lines.push(`GRANT ALL PRIVILEGES ON ${sqlIdent(db)}.* TO ${sqlString(user)}@'%';`);
  }
  lines.push('FLUSH PRIVILEGES;');
  return lines.join('\n') + '\n';
}

export function sqlString(s: string): string {
  const esc: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '\x1a': '\\Z' };
  return `'${s.replace(/[\0\n\r\\'\x1a]/g, (c) => esc[c])}'`;
}

function sqlIdent(s: string): string {
  if (/[\0\n\r]/.test(s)) throw new ProgramError(`mariadb: database name ${JSON.stringify(s)} has a control character`);
  return '`' + s.replace(/`/g, '``') + '`';
}

// ---- agnhost netexec ------------------------------------------------------


function planNetexec(base: ProgramPlan, tokens: string[], ctx: ProgramContext): ProgramPlan {
  const t = [...tokens];
  if (t.length && basename(t[0]) === 'agnhost') t.shift();
  const sub = t.shift() ?? 'netexec';
  if (sub === 'pause') return { ...base, argv: ['sleep', 'infinity'] };
  if (sub !== 'netexec') throw new ProgramError(`agnhost ${sub} is not supported by svclab (netexec and pause are)`);
  let http = NETEXEC_DEFAULTS.http;
  let udp = NETEXEC_DEFAULTS.udp;
  for (let i = 0; i < t.length; i++) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(t[i]);
    if (!m) continue;
    const value = m[2] ?? (m[1] === 'http-port' || m[1] === 'udp-port' ? t[++i] : undefined);
    if (m[1] === 'http-port') http = port(value, 'http-port');
    if (m[1] === 'udp-port') udp = port(value, 'udp-port');
  }
  return {
    ...base,
    argv: [ctx.nodeBinary, ctx.bundle, 'daemon', 'netexec', '--http-port', String(http), '--udp-port', String(udp)],
  };
}

function port(v: string | undefined, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ProgramError(`agnhost netexec: --${what} ${v} is not a port`);
  return n;
}

// ---- cluster DNS ----------------------------------------------------------

/**
 * dnsmasq standing in for CoreDNS: answers <svc>.<ns>.svc.cluster.local from
 * the control plane's hosts files (re-read on change), is authoritative for
 * cluster.local (NXDOMAIN, never forwarded) and forwards nothing else.
 */
function planDns(base: ProgramPlan, ctx: ProgramContext): ProgramPlan {
  return {
    ...base,
    argv: [
      'dnsmasq',
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--hostsdir=${ctx.dnsHostsDir}`,
      '--local=/cluster.local/',
      '--domain-needed',
      '--bogus-priv',
      '--user=root',
      '--pid-file=',
      '--log-facility=-',
      '--port=53',
    ],
    dirs: [ctx.workDir, ctx.dnsHostsDir],
    // CoreDNS's own probes (:8181/ready, :8080/health) have no dnsmasq twin.
    readinessOverride: { tcpSocket: { port: 53 }, periodSeconds: 2 },
  };
}
