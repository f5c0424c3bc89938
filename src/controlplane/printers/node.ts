// Nodes as `kubectl get nodes` shows them: STATUS from the Ready condition
// (plus SchedulingDisabled when cordoned), ROLES from node-role.kubernetes.io/*
// and kubernetes.io/role labels, VERSION, and with -o wide the addresses and
// node info. Upstream's printNode and findNodeRoles.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow } from './types.ts';

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

export function nodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(ROLE_PREFIX) && k.length > ROLE_PREFIX.length) roles.add(k.slice(ROLE_PREFIX.length));
    else if (k === ROLE_LABEL && v) roles.add(v);
  }
  // Upstream joins a set in map order; sorted is one of its orders, and stable for tests.
  return [...roles].sort();
}

function address(node: KObj, type: string): string {
  return (node.status?.addresses ?? []).find((a: { type: string }) => a.type === type)?.address ?? '<none>';
}

function nodeRow(node: KObj, now: Date): PrintedRow {
  const status: string[] = [];
  // Only the Ready condition decides STATUS (upstream's NodeAllConditions).
  const readyCond = (node.status?.conditions ?? []).filter((c: { type: string }) => c.type === 'Ready').pop();
  if (readyCond) status.push(readyCond.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  const info = node.status?.nodeInfo ?? {};
  return {
    cells: [
      node.metadata.name ?? '',
      status.join(','),
      nodeRoles(node.metadata.labels).join(',') || '<none>',
      since(node.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      address(node, 'InternalIP'),
      address(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ],
  };
}

export const nodePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', FIELD_DOCS['NodeSystemInfo.kubeletVersion']),
    column('Internal-IP', 'string', FIELD_DOCS['NodeStatus.addresses'], { priority: 1 }),
    column('External-IP', 'string', FIELD_DOCS['NodeStatus.addresses'], { priority: 1 }),
    column('OS-Image', 'string', FIELD_DOCS['NodeSystemInfo.osImage'], { priority: 1 }),
    column('Kernel-Version', 'string', FIELD_DOCS['NodeSystemInfo.kernelVersion'], { priority: 1 }),
    column('Container-Runtime', 'string', FIELD_DOCS['NodeSystemInfo.containerRuntimeVersion'], { priority: 1 }),
  ],
  row: nodeRow,
};
