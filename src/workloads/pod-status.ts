// The pod status the kubelet reports (pkg/kubelet/status, kubelet_pods.go
// generateAPIPodStatus), computed from what runs: pure, so the conditions and
// phase rules are tested with plain data.
import type { Pod } from '../k8s/objects.ts';

export type PodStatus = NonNullable<Pod['status']>;
type Condition = NonNullable<PodStatus['conditions']>[number];
type ContainerStatus = NonNullable<PodStatus['containerStatuses']>[number];

export interface Terminated {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
}

/** One container as the kubelet knows it. */
export interface ContainerRuntime {
  name: string;
  image: string;
  /** "nginx", "mariadb"…: shown as the imageID so a user sees what stood in. */
  kind?: string;
  pid?: number;
  startedAt?: string;
  waiting?: { reason: string; message?: string };
  /** Set when the container ended and will not be restarted (restartPolicy). */
  terminated?: Terminated;
  lastTerminated?: Terminated;
  ready: boolean;
  restartCount: number;
}

export interface PodRuntime {
  podIP?: string;
  hostIP: string;
  startTime: string;
  containers: ContainerRuntime[];
  /** Why the pod cannot run at all (e.g. an unknown image), for status.reason/message. */
  problem?: { reason: string; message: string };
}

export function podPhase(rt: PodRuntime): NonNullable<PodStatus['phase']> {
  const cs = rt.containers;
  if (!rt.podIP || cs.some((c) => c.pid === undefined && !c.terminated && c.restartCount === 0 && !c.lastTerminated)) return 'Pending';
  if (cs.length && cs.every((c) => c.terminated)) return cs.every((c) => c.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
  return 'Running';
}

function containerStatus(c: ContainerRuntime): ContainerStatus {
  const state: ContainerStatus['state'] = c.terminated
    ? { terminated: c.terminated }
    : c.pid !== undefined && c.startedAt
      ? { running: { startedAt: c.startedAt } }
      : { waiting: c.waiting ?? { reason: 'ContainerCreating' } };
  return {
    name: c.name,
    image: c.image,
    imageID: c.kind ? `svclab://${c.kind}` : '',
    ...(c.pid !== undefined ? { containerID: `svclab://${c.pid}` } : {}),
    state,
    lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    started: c.pid !== undefined,
  };
}

/**
 * The status to PUT. Conditions keep their lastTransitionTime from `prev`
 * unless their status flips, as upstream does, so a watch only sees real
 * transitions.
 */
export function renderPodStatus(prev: PodStatus | undefined, rt: PodRuntime, now: string): PodStatus {
  const unready = rt.containers.filter((c) => !c.ready).map((c) => c.name);
  const allReady = rt.containers.length > 0 && unready.length === 0;
  const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const want: Omit<Condition, 'lastTransitionTime'>[] = [
    { type: 'PodReadyToStartContainers', status: rt.podIP ? 'True' : 'False' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: allReady ? 'True' : 'False', ...(allReady ? {} : notReady) },
    { type: 'ContainersReady', status: allReady ? 'True' : 'False', ...(allReady ? {} : notReady) },
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions: Condition[] = want.map((c) => {
    const old = prev?.conditions?.find((p: Condition) => p.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  });
  const status: PodStatus = {
    phase: podPhase(rt),
    conditions,
    hostIP: rt.hostIP,
    hostIPs: [{ ip: rt.hostIP }],
    ...(rt.podIP ? { podIP: rt.podIP, podIPs: [{ ip: rt.podIP }] } : {}),
    startTime: rt.startTime,
    containerStatuses: rt.containers.map(containerStatus),
    qosClass: 'BestEffort',
  };
  if (rt.problem) Object.assign(status, rt.problem);
  return status;
}

/** The status without timestamps that move on their own: equal means nothing to report. */
export function statusKey(s: PodStatus | undefined): string {
  if (!s) return '';
  const { conditions, ...rest } = s;
  return JSON.stringify({ ...rest, conditions: (conditions ?? []).map((c: Condition) => [c.type, c.status, c.reason]) });
}
