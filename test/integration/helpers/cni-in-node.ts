// Runs cniAdd / cniDel the way the kubelet will: as a process inside the node's
// namespace (started with `ip netns exec <node> node --import tsx cni-in-node.ts`).
// Argument: JSON { op: 'add' | 'del', ...CniCallOptions, prevResult? }. Prints the ADD result as JSON.
import { cniAdd, cniDel } from '../../../src/cni/plugins.ts';

const req = JSON.parse(process.argv[2]);
if (req.op === 'add') process.stdout.write(JSON.stringify(await cniAdd(req)) + '\n');
else if (req.op === 'del') await cniDel(req);
else throw new Error(`unknown op ${req.op}`);
