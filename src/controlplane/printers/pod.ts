// Pods as `kubectl get pods` shows them: READY "1/2", STATUS with the reason
// a learner sees in a real cluster (ContainerCreating, CrashLoopBackOff,
// Init:0/1, Completed, Terminating...), RESTARTS "3 (2m ago)", and with -o wide
// IP, NODE, NOMINATED NODE, READINESS GATES. The rules are upstream's printPod.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow, type TableRowCondition } from './types.ts';

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; signal?: number; reason?: string; finishedAt?: string };
}
interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}
interface Condition {
  type: string;
  status: string;
  reason?: string;
}

// The reason the node lifecycle controller gives pods on a lost node (upstream NodeUnreachablePodReason).
const NODE_UNREACHABLE_REASON = 'NodeLost';

const SUCCEEDED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const FAILED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

/** A sidecar: an init container with restartPolicy Always keeps running and counts as a container. */
const isRestartable = (c: { restartPolicy?: string } | undefined) => c?.restartPolicy === 'Always';

const conditionTrue = (conds: Condition[], type: string) => conds.some((c) => c.type === type && c.status === 'True');

/** The later of two RFC 3339 times ("" = Go's zero time). */
const later = (a: string, b: string | undefined) => (b && (!a || Date.parse(b) > Date.parse(a)) ? b : a);

function podRow(pod: KObj, now: Date): PrintedRow {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const conditions: Condition[] = status.conditions ?? [];
  const initSpecs: { name: string; restartPolicy?: string }[] = spec.initContainers ?? [];
  const initStatuses: ContainerStatus[] = status.initContainerStatuses ?? [];
  const statuses: ContainerStatus[] = status.containerStatuses ?? [];

  const total = (spec.containers ?? []).length + initSpecs.filter(isRestartable).length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = '';
  let lastSidecarRestart = '';
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initByName = new Map(initSpecs.map((c) => [c.name, c]));
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const sidecar = isRestartable(initByName.get(c.name));
    restarts += c.restartCount ?? 0;
    lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, c.lastState?.terminated?.finishedAt);
    }
    const term = c.state?.terminated;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    // Upstream walks the statuses from the last one, so the first container's reason wins.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
      const term = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // One container finished while another still runs: the pod is not "Completed".
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(pod.metadata.deletionTimestamp);
  if (deleting && status.reason === NODE_UNREACHABLE_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartText = restarts !== 0 && lastRestart ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);
  // A real apiserver always fills podIPs from podIP; the lab's objects may carry either.
  const podIP: string = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const gates: { conditionType: string }[] = spec.readinessGates ?? [];
  let gatesText = '<none>';
  if (gates.length) {
    const passed = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
    gatesText = `${passed}/${gates.length}`;
  }
  return {
    cells: [pod.metadata.name ?? '', `${ready}/${total}`, reason, restartText, since(pod.metadata.creationTimestamp, now), podIP, spec.nodeName || '<none>', status.nominatedNodeName || '<none>', gatesText],
    ...(phase === 'Succeeded' ? { conditions: SUCCEEDED } : phase === 'Failed' ? { conditions: FAILED } : {}),
  };
}

export const podPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    column('IP', 'string', FIELD_DOCS['PodStatus.podIP'], { priority: 1 }),
    column('Node', 'string', FIELD_DOCS['PodSpec.nodeName'], { priority: 1 }),
    column('Nominated Node', 'string', FIELD_DOCS['PodStatus.nominatedNodeName'], { priority: 1 }),
    column('Readiness Gates', 'string', FIELD_DOCS['PodSpec.readinessGates'], { priority: 1 }),
  ],
  row: podRow,
};
