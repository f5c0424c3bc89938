// Names of everything the libvirt driver creates, derived from the lab and node
// names alone so `down` can find a half-built lab's leftovers without records.
// The node network has the names both drivers use (../common/names.ts): namespace
// "svclab-<lab>-net" holds the bridge, "svclab-<lab>-external" the external
// client; VMs hang off the bridge through taps inside that namespace.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LabFileError } from '../../util/errors.ts';
import { checkLabel, checkNodeName } from '../common/names.ts';
import { labStateDir } from '../common/state-dir.ts';

/** Prefix of every libvirt domain and volume svclab makes. */
export const DOMAIN_PREFIX = 'svclab-';

/** libvirt domain name of a node VM, "svclab-<lab>-<node>". */
export function domainName(lab: string, node: string): string {
  return `${DOMAIN_PREFIX}${checkLabel('lab', lab)}-${checkNodeName(node)}`;
}

/** Directory of one VM: overlay disk, agent and console sockets, console log, pid file. */
export function vmDir(lab: string, node: string): string {
  return join(labStateDir(lab), 'vms', checkNodeName(node));
}

/** All VM directories of a lab live below this. */
export function vmsDir(lab: string): string {
  return join(labStateDir(lab), 'vms');
}

export interface VmPaths {
  dir: string;
  disk: string;
  agentSocket: string;
  consoleSocket: string;
  consoleLog: string;
  qmpSocket: string;
  pidFile: string;
}

// sun_path is 108 bytes including the NUL.
const SUN_PATH_MAX = 107;

export function vmPaths(lab: string, node: string): VmPaths {
  const dir = vmDir(lab, node);
  const p: VmPaths = {
    dir,
    disk: join(dir, 'disk.qcow2'),
    agentSocket: join(dir, 'agent.sock'),
    consoleSocket: join(dir, 'console.sock'),
    consoleLog: join(dir, 'console.log'),
    qmpSocket: join(dir, 'qmp.sock'),
    pidFile: join(dir, 'qemu.pid'),
  };
  if (p.consoleSocket.length > SUN_PATH_MAX) {
    throw new LabFileError(`lab ${lab}, node ${node}: socket path ${p.consoleSocket} is longer than unix sockets allow; use shorter lab/node names`);
  }
  return p;
}

/**
 * The tap of a node inside the lab's network namespace. IFNAMSIZ allows 15
 * bytes: "t-node-01" fits, longer names fall back to the node's position.
 */
export function tapName(node: string, index: number): string {
  const readable = `t-${node}`;
  return readable.length <= 15 ? readable : `ti${index}`;
}

/** A stable, locally administered MAC (qemu's 52:54:00 prefix) per lab and node. */
export function macAddress(lab: string, node: string): string {
  const h = createHash('sha256').update(`${lab}/${node}`).digest();
  return ['52', '54', '00', ...[h[0], h[1], h[2]].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** XML namespace of the <metadata> element that marks a domain as a lab's (names alone are ambiguous: lab "a" vs "a-b"). */
export const METADATA_NS = 'https://svclab.dev/libvirt/1';
