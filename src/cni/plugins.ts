// Runs the CNI plugins of a node's network as the CNI spec has a runtime do it
// (github.com/containernetworking/cni SPEC.md): each plugin of the list is an
// executable found in CNI_PATH, given CNI_* variables and its config on stdin;
// ADD runs the list in order, each plugin getting the previous one's result as
// `prevResult`; DEL runs it in reverse. It prints a result or an error JSON.
//
// These functions run INSIDE the node (the kubelet is a process in the node's
// namespace): the plugins are plain child processes and inherit that
// namespace, which is where cni0 and the host end of each pod's veth belong.
import { join } from 'node:path';
import { access, constants } from 'node:fs/promises';
import { CommandError, EnvironmentError } from '../util/errors.ts';
import { run } from '../util/exec.ts';
import { DEFAULT_CNI_PATH, readCniConfig, type CniConfList, type PluginConf } from './config.ts';

/** A CNI result (spec "Success"), as far as svclab reads it. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

export interface CniAddResult {
  /** The pod's address, "10.244.1.2". */
  ip: string;
  /** With its prefix, "10.244.1.2/24". */
  cidr: string;
  gateway?: string;
  mac?: string;
  /** The whole result: keep it and hand it back to cniDel as prevResult. */
  result: CniResult;
}

export interface CniCallOptions {
  /** The node's conf dir holding its .conflist. */
  confDir: string;
  /** The pod's namespace file, e.g. /run/netns/svclab-lab-p-default-web-0. */
  netnsPath: string;
  containerId: string;
  ifName?: string;
  /** Directories with the plugins, ":"-separated. */
  cniPath?: string;
  /** CNI_ARGS, e.g. { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0' }. */
  args?: Record<string, string>;
  /** For error messages: "node-01". */
  where?: string;
}

/** The spec's well-known error codes. */
export const CNI_ERROR_CODES: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

/** A plugin's stdin: its own conf plus the list's name and version, and the previous result when chaining. */
export function pluginInput(list: CniConfList, plugin: PluginConf, prevResult?: CniResult): Record<string, unknown> {
  const input: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult) input.prevResult = prevResult;
  return input;
}

/** The CNI_* environment of one call. */
export function cniEnv(command: 'ADD' | 'DEL' | 'CHECK', o: CniCallOptions): Record<string, string> {
  const env: Record<string, string> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: o.containerId,
    CNI_NETNS: o.netnsPath,
    CNI_IFNAME: o.ifName ?? 'eth0',
    CNI_PATH: o.cniPath ?? DEFAULT_CNI_PATH,
  };
  // IgnoreUnknown: plugins reject CNI_ARGS keys they do not know otherwise (as the kubelet sends them).
  if (o.args && Object.keys(o.args).length > 0) {
    env.CNI_ARGS = ['IgnoreUnknown=1', ...Object.entries(o.args).map(([k, v]) => `${k}=${v}`)].join(';');
  }
  return env;
}

/** The text of a plugin's error JSON ({code,msg,details}), or undefined if `out` is not one. */
export function cniErrorText(out: string): string | undefined {
  let e: { code?: number; msg?: string; details?: string };
  try {
    e = JSON.parse(out);
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || typeof e.code !== 'number') return undefined;
  const kind = CNI_ERROR_CODES[e.code] ?? 'plugin-specific error';
  return `CNI error ${e.code} (${kind}): ${e.msg ?? ''}${e.details ? `: ${e.details}` : ''}`;
}

/** The pod's address from an ADD result: the IP on the sandbox interface `ifName`. */
export function parseCniResult(result: CniResult, ifName = 'eth0'): CniAddResult {
  const ifaces = result.interfaces ?? [];
  const ips = result.ips ?? [];
  const onIf = ips.find((a) => a.interface !== undefined && ifaces[a.interface]?.name === ifName && ifaces[a.interface]?.sandbox);
  const chosen = onIf ?? ips[0];
  if (!chosen) throw new Error(`the CNI result has no IP address: ${JSON.stringify(result)}`);
  const iface = chosen.interface !== undefined ? ifaces[chosen.interface] : ifaces.find((i) => i.name === ifName && i.sandbox);
  return { ip: chosen.address.split('/')[0], cidr: chosen.address, gateway: chosen.gateway, mac: iface?.mac, result };
}

async function findPlugin(type: string, cniPath: string): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new EnvironmentError(`CNI plugin type "${type}" is not a plain file name`);
  for (const dir of cniPath.split(':').filter(Boolean)) {
    const path = join(dir, type);
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  throw new EnvironmentError(`CNI plugin "${type}" not found in ${cniPath}`, 'apt-get install containernetworking-plugins');
}

async function invoke(
  command: 'ADD' | 'DEL',
  list: CniConfList,
  plugin: PluginConf,
  o: CniCallOptions,
  prevResult?: CniResult,
): Promise<CniResult | undefined> {
  const env = cniEnv(command, o);
  const path = await findPlugin(plugin.type, env.CNI_PATH);
  const r = await run([path], { env, input: JSON.stringify(pluginInput(list, plugin, prevResult)), allowFailure: true, timeoutMs: 60_000 });
  // What a user can paste to rerun it by hand (config on stdin).
  const argv = [`CNI_COMMAND=${command}`, `CNI_IFNAME=${env.CNI_IFNAME}`, `CNI_NETNS=${env.CNI_NETNS}`, path];
  const where = o.where ?? 'this node';
  if (r.code !== 0) {
    const text = cniErrorText(r.stdout) ?? (r.stdout.trim() || 'no error output');
    throw new CommandError(argv, r.code, [text, r.stderr.trim()].filter(Boolean).join('\n'), where);
  }
  if (command === 'DEL' || r.stdout.trim() === '') return undefined;
  try {
    return JSON.parse(r.stdout) as CniResult;
  } catch {
    throw new CommandError(argv, r.code, `printed a result that is not JSON: ${r.stdout.slice(0, 200)}`, where);
  }
}

/** Attaches a pod's namespace to the node's network; returns its address. */
export async function cniAdd(o: CniCallOptions): Promise<CniAddResult> {
  const list = await readCniConfig(o.confDir);
  let result: CniResult | undefined;
  for (const plugin of list.plugins) result = (await invoke('ADD', list, plugin, o, result)) ?? result;
  if (!result) throw new Error(`the CNI plugins of ${o.confDir} returned no result`);
  return parseCniResult(result, o.ifName ?? 'eth0');
}

/**
 * Detaches a pod: releases its address and removes its veth. `prevResult` is
 * the ADD result, as the spec wants a runtime to pass it back.
 */
export async function cniDel(o: CniCallOptions & { prevResult?: CniResult }): Promise<void> {
  const list = await readCniConfig(o.confDir);
  for (const plugin of [...list.plugins].reverse()) await invoke('DEL', list, plugin, o, o.prevResult);
}
