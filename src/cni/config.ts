// The CNI network configuration of a node: Debian's reference plugins, the
// same shape a kubeadm + bridge setup uses. One conflist per node, in the
// node's own conf dir, with host-local's allocations kept under the lab's
// state dir (never the host's /var/lib/cni), so `down` removes them.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cidrContains, cidrString, nthIP, parseCidr } from '../util/cidr.ts';
import { EnvironmentError } from '../util/errors.ts';
import { run } from '../util/exec.ts';

export const DEFAULT_CNI_PATH = '/usr/lib/cni';
export const NETWORK_NAME = 'svclab';
export const BRIDGE_NAME = 'cni0';
export const CONF_FILE = '10-svclab.conflist';

/** CNI versions svclab can speak, newest first. */
export const SUPPORTED_CNI_VERSIONS = ['1.0.0', '0.4.0', '0.3.1'];

export interface PluginConf {
  type: string;
  [key: string]: unknown;
}

/** A CNI network configuration list (the .conflist format). */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniConfigInput {
  /** The node's pod CIDR, e.g. "10.244.1.0/24". */
  podCIDR: string;
  /** The bridge's address; host-local's default is the first host of the range. */
  gateway?: string;
  /** host-local's allocation directory, per node, under the lab's state dir. */
  dataDir: string;
  /** See detectCniVersion; 1.0.0 is what Debian 12's plugins speak. */
  cniVersion?: string;
}

/**
 * The node's network: bridge cni0 as the pods' gateway, host-local IPAM over
 * the node's pod CIDR, then loopback for the pod's lo.
 * - hairpinMode: a pod reaching a Service that picks the pod itself gets its
 *   packet back out of the same bridge port; without hairpin the bridge drops it.
 * - ipMasq false: pod traffic keeps its source IP between nodes (host-gw
 *   routes); SNAT is kube-proxy's decision (KUBE-MARK-MASQ), not the CNI's.
 */
export function cniConfig(input: CniConfigInput): CniConfList {
  const subnet = parseCidr(input.podCIDR);
  if (input.gateway !== undefined && !cidrContains(subnet, input.gateway)) {
    throw new Error(`CNI gateway ${input.gateway} is not inside the pod CIDR ${cidrString(subnet)}`);
  }
  const range: Record<string, string> = { subnet: cidrString(subnet) };
  if (input.gateway !== undefined) range.gateway = input.gateway;
  return {
    cniVersion: input.cniVersion ?? SUPPORTED_CNI_VERSIONS[0],
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE_NAME,
        isGateway: true,
        hairpinMode: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[range]],
          routes: [{ dst: subnet.family === 4 ? '0.0.0.0/0' : '::/0' }],
          dataDir: input.dataDir,
        },
      },
      { type: 'loopback' },
    ],
  };
}

/** The bridge's address as host-local picks it when none is given: the range's first host. */
export function cniGateway(podCIDR: string, gateway?: string): string {
  return gateway ?? nthIP(parseCidr(podCIDR), 1);
}

/** Writes the node's conflist into its conf dir; returns the file's path. */
export async function writeCniConfig(confDir: string, conf: CniConfList): Promise<string> {
  await mkdir(confDir, { recursive: true });
  const file = join(confDir, CONF_FILE);
  await writeFile(file, JSON.stringify(conf, null, 2) + '\n');
  return file;
}

/**
 * Reads the network config the way libcni picks it: the first file of the
 * directory in lexical order ending in .conflist, .conf or .json; a single
 * plugin .conf becomes a one-plugin list.
 */
export async function readCniConfig(confDir: string): Promise<CniConfList> {
  const files = (await readdir(confDir).catch(() => [] as string[])).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  if (files.length === 0) throw new EnvironmentError(`no CNI network config in ${confDir}`, 'the lab writes it at `svclab up`; run `svclab down` and `up` again');
  const file = join(confDir, files[0]);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new EnvironmentError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(parsed.plugins)) return parsed as unknown as CniConfList;
  if (typeof parsed.type === 'string') {
    const { cniVersion, name, ...plugin } = parsed;
    return { cniVersion: String(cniVersion), name: String(name), plugins: [plugin as PluginConf] };
  }
  throw new EnvironmentError(`${file} has neither "plugins" nor "type": not a CNI config`);
}

/**
 * The newest CNI version every plugin of `plugins` supports, asked with
 * CNI_COMMAND=VERSION (the spec's way). EnvironmentError if they share none
 * svclab speaks or a plugin is missing.
 */
export async function detectCniVersion(plugins = ['bridge', 'host-local', 'loopback'], cniPath = DEFAULT_CNI_PATH): Promise<string> {
  let common = new Set(SUPPORTED_CNI_VERSIONS);
  for (const type of plugins) {
    const path = join(cniPath, type);
    const r = await run([path], {
      env: { CNI_COMMAND: 'VERSION' },
      input: JSON.stringify({ cniVersion: SUPPORTED_CNI_VERSIONS[0] }),
      allowFailure: true,
    }).catch(() => undefined);
    if (!r || r.code !== 0) {
      throw new EnvironmentError(`CNI plugin ${path} does not answer VERSION`, 'apt-get install containernetworking-plugins');
    }
    const supported: string[] = JSON.parse(r.stdout).supportedVersions ?? [];
    common = new Set([...common].filter((v) => supported.includes(v)));
  }
  const best = SUPPORTED_CNI_VERSIONS.find((v) => common.has(v));
  if (!best) throw new EnvironmentError(`the CNI plugins in ${cniPath} support none of ${SUPPORTED_CNI_VERSIONS.join(', ')}`);
  return best;
}
