// The one home of the lab state directory, /var/lib/svclab/<lab>: the
// lifecycle's lab.json and API socket, the drivers' VM disks and forwarder
// record, the nodes' CNI state, logs and pod files all live below it, and
// `down` removes it whole. Tests move the root with SVCLAB_STATE_ROOT.
import { join } from 'node:path';
import { checkLabel } from './names.ts';

/** Where every lab keeps its state. */
export const STATE_ROOT = process.env.SVCLAB_STATE_ROOT ?? '/var/lib/svclab';

/** The lab's state directory, /var/lib/svclab/<lab>; the name is checked first, so no path leaves the root. */
export function labStateDir(lab: string): string {
  return join(STATE_ROOT, checkLabel('lab', lab));
}

/** A node's state directory: CNI conf and IPAM, logs, pod files. */
export function nodeStateDir(lab: string, node: string): string {
  return join(labStateDir(lab), 'nodes', checkLabel('node', node));
}
