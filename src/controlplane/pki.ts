// The lab's PKI, laid out as kubeadm lays out /etc/kubernetes/pki: a CA
// (ca.crt/ca.key), the apiserver's serving certificate (apiserver.crt/.key)
// with the names and addresses clients reach it by, and the admin client
// certificate kubeadm puts into admin.conf (CN kubernetes-admin, O
// system:masters). Made with Debian's `openssl` CLI, argv arrays only; keys
// are written 0600. The lifecycle makes it under the lab's state dir before
// the apiserver starts; tests make throwaway ones.
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../util/exec.ts';
import { EnvironmentError } from '../util/errors.ts';
import { nthIP, parseCidr } from '../util/cidr.ts';

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
}

/** File names as kubeadm uses them (the admin pair lives in admin.conf there; here beside the others). */
export function pkiPaths(dir: string): PkiPaths {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
  };
}

export interface ApiserverIdentity {
  /** The control-plane node's IP on the node network (192.168.49.2 by default). */
  nodeIP: string;
  /** The control-plane node's name (node-01). */
  nodeName: string;
  /** --service-cluster-ip-range; its first address is the `kubernetes` Service's ClusterIP. */
  serviceCIDR: string;
  /** The cluster domain (cluster.local). */
  clusterDomain?: string;
}

export interface SubjectAltNames {
  dns: string[];
  ips: string[];
}

/**
 * The serving certificate's SANs, as kubeadm's GetAPIServerAltNames: the node's
 * name, the kubernetes Service's names down to the cluster domain and its
 * ClusterIP (first address of each service range), the advertise address, and
 * loopback (the host's forwarder reaches it as 127.0.0.1).
 */
export function apiserverSANs(id: ApiserverIdentity): SubjectAltNames {
  const domain = id.clusterDomain ?? 'cluster.local';
  const serviceIPs = id.serviceCIDR.split(',').map((c) => nthIP(parseCidr(c.trim()), 1));
  return {
    dns: [id.nodeName, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`, 'localhost'],
    ips: [...new Set([...serviceIPs, id.nodeIP, '127.0.0.1'])],
  };
}

/** The subjectAltName extension value openssl takes: "DNS:a,IP:1.2.3.4". */
export function sanExtension(sans: SubjectAltNames): string {
  return [...sans.dns.map((d) => `DNS:${d}`), ...sans.ips.map((ip) => `IP:${ip}`)].join(',');
}

// Subjects and SANs go to openssl as single argv entries, so no shell sees them;
// still, a name that could change the meaning of openssl's -subj or -addext
// syntax ('/', '=', ',', '+', quotes, backslash) is refused before it gets there.
const SAFE = /^[A-Za-z0-9:._-]+$/;

function checkSafe(what: string, value: string): string {
  if (!SAFE.test(value)) throw new EnvironmentError(`pki: ${what} "${value}" has characters openssl's subject syntax would read as structure`);
  return value;
}

function subject(cn: string, orgs: string[] = []): string {
  return [...orgs.map((o) => `/O=${checkSafe('organisation', o)}`), `/CN=${checkSafe('common name', cn)}`].join('');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run(['openssl', ...args], { where: 'host (pki)' });
  } catch (e) {
    if ((e as { code?: unknown }).code === null) {
      throw new EnvironmentError('openssl is not installed; the lab PKI is made with it', 'apt-get install openssl (scripts/setup.sh does it)');
    }
    throw e;
  }
}

/** Whether the openssl CLI can run here (tests skip without it). */
export async function opensslAvailable(): Promise<boolean> {
  try {
    return (await run(['openssl', 'version'], { allowFailure: true })).code === 0;
  } catch {
    return false;
  }
}

const serial = () => `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`;

/** A key and a CSR, then the CA signs it with the CSR's extensions (-copy_extensions, OpenSSL 3). */
async function issue(p: PkiPaths, cert: string, key: string, subj: string, extensions: string[], days: number): Promise<void> {
  const csr = `${cert}.csr`;
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subj, ...extensions.flatMap((e) => ['-addext', e])]);
  await chmod(key, 0o600);
  await openssl(['x509', '-req', '-in', csr, '-CA', p.caCert, '-CAkey', p.caKey, '-set_serial', serial(), '-days', String(days), '-copy_extensions', 'copyall', '-out', cert]);
  await rm(csr, { force: true });
}

export interface CreatePkiOptions {
  /** Validity of the leaf certificates in days (kubeadm: 365; the CA gets ten years as there). */
  days?: number;
  /** Common name of the CA (kubeadm's is "kubernetes"). */
  caName?: string;
}

/**
 * Makes the CA, the apiserver serving pair and the admin client pair in `dir`
 * (created 0700). Returns the paths. Throws EnvironmentError without openssl.
 */
export async function createPki(dir: string, id: ApiserverIdentity, opts: CreatePkiOptions = {}): Promise<PkiPaths> {
  const p = pkiPaths(dir);
  const days = opts.days ?? 365;
  checkSafe('node name', id.nodeName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await openssl([
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.caKey, '-out', p.caCert, '-days', String(days * 10),
    '-subj', subject(opts.caName ?? 'kubernetes'), '-set_serial', serial(),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
  ]);
  await chmod(p.caKey, 0o600);
  const leaf = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
  await issue(p, p.apiserverCert, p.apiserverKey, subject('kube-apiserver'), [...leaf, 'extendedKeyUsage=serverAuth', `subjectAltName=${sanExtension(apiserverSANs(id))}`], days);
  await issue(p, p.adminCert, p.adminKey, subject('kubernetes-admin', ['system:masters']), [...leaf, 'extendedKeyUsage=clientAuth'], days);
  return p;
}

/** Issues one more client certificate from the lab CA (tests; later: kubelets and kube-proxies). */
export async function issueClientCert(p: PkiPaths, name: string, user: string, groups: string[] = [], days = 365): Promise<{ cert: string; key: string }> {
  const cert = join(p.dir, `${checkSafe('file name', name)}.crt`);
  const key = join(p.dir, `${name}.key`);
  await issue(p, cert, key, subject(user, groups), ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'], days);
  return { cert, key };
}

export interface PkiMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** The PEM texts of one pair plus the CA (for TLS options and kubeconfig data). */
export async function readPair(p: PkiPaths, which: 'apiserver' | 'admin'): Promise<PkiMaterial> {
  const [ca, cert, key] = await Promise.all([
    readFile(p.caCert, 'utf8'),
    readFile(which === 'apiserver' ? p.apiserverCert : p.adminCert, 'utf8'),
    readFile(which === 'apiserver' ? p.apiserverKey : p.adminKey, 'utf8'),
  ]);
  return { ca, cert, key };
}
