// Names both drivers give what they create on the host: the lab's network
// namespaces (node network, external client, netns nodes) and the veth peers
// on its bridge, and the validation of lab and node names. `down` finds a
// lab's leftovers by these names alone, so they must be derivable from the
// lab name without any other record.
import { LabFileError } from '../../util/errors.ts';

/** Every svclab namespace starts with this; nothing else on the host should. */
export const NETNS_PREFIX = 'svclab-';

// DNS-label-like: safe in a namespace name, a path and an interface name, and
// never "." or "..", so `down` cannot be pointed outside the state root.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Kubernetes namespaces are labels, pod names DNS-1123 subdomains (dots allowed).
const SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** Throws LabFileError unless `name` is a lowercase DNS label (a lab or node name). */
export function checkLabel(kind: string, name: string): string {
  if (!LABEL.test(name)) {
    throw new LabFileError(
      `${kind} name "${name}" is not a DNS label (lowercase letters, digits and "-", at most 63, starting and ending alphanumeric)`,
    );
  }
  return name;
}

/** The prefix of every namespace of a lab, "svclab-<lab>-". */
export function labNetnsPrefix(lab: string): string {
  return `${NETNS_PREFIX}${checkLabel('lab', lab)}-`;
}

/** Namespace of a node ("node-01"), of the external client ("external") or of the node network ("net"). */
export function netnsName(lab: string, node: string): string {
  return labNetnsPrefix(lab) + checkLabel('node', node);
}

/** The namespace holding the node network's bridge and gateway. */
export function networkNetnsName(lab: string): string {
  return netnsName(lab, 'net');
}

/**
 * A pod's namespace, "svclab-<lab>-p-<podns>-<pod>". The "p-" keeps pods apart
 * from nodes: node names may not start with "p-" (see checkNodeName).
 */
export function podNetnsName(lab: string, podNamespace: string, pod: string): string {
  checkLabel('pod namespace', podNamespace);
  if (!SUBDOMAIN.test(pod)) throw new LabFileError(`pod name "${pod}" is not a DNS subdomain`);
  const name = `${labNetnsPrefix(lab)}p-${podNamespace}-${pod}`;
  // /run/netns/<name> is a file name: NAME_MAX is 255.
  if (name.length > 255) throw new LabFileError(`pod ${podNamespace}/${pod}: namespace name "${name}" is too long`);
  return name;
}

/** Node names are labels that cannot be mistaken for the network or a pod namespace. */
export function checkNodeName(name: string): string {
  checkLabel('node', name);
  if (name === 'net' || name.startsWith('p-')) {
    throw new LabFileError(`node name "${name}" is reserved (svclab uses "net" and "p-*" for its own namespaces)`);
  }
  return name;
}

/**
 * Name of the bridge-side end of a member's veth inside the network namespace.
 * Linux caps interface names at 15 bytes (IFNAMSIZ - 1); "v-node-01" fits,
 * longer names fall back to their position ("vi3"), which no readable name
 * ("v-…") can equal.
 */
export function peerName(member: string, index: number): string {
  const readable = `v-${member}`;
  return readable.length <= 15 ? readable : `vi${index}`;
}

/** The lab a namespace name belongs to, if it is a lab's network namespace ("svclab-<lab>-net"). */
export function labOfNetworkNetns(netns: string): string | undefined {
  const m = netns.match(/^svclab-(.+)-net$/);
  return m && LABEL.test(m[1]) ? m[1] : undefined;
}
