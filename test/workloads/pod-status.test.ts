import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podPhase, renderPodStatus, statusKey, type ContainerRuntime, type PodRuntime } from '../../src/workloads/pod-status.ts';

const running = (x: Partial<ContainerRuntime> = {}): ContainerRuntime => ({
  name: 'c', image: 'nginx', kind: 'nginx', pid: 42, startedAt: '2025-01-01T00:00:01Z', ready: true, restartCount: 0, ...x,
});
const rt = (containers: ContainerRuntime[], x: Partial<PodRuntime> = {}): PodRuntime => ({
  podIP: '10.244.1.5', hostIP: '192.168.49.3', startTime: '2025-01-01T00:00:00Z', containers, ...x,
});
const cond = (s: ReturnType<typeof renderPodStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;

test('a running, ready pod: phase Running, all conditions True, IPs and container status', () => {
  const s = renderPodStatus(undefined, rt([running()]), 'T1');
  assert.is(s.phase, 'Running');
  assert.equal(s.conditions!.map((c) => [c.type, c.status, c.lastTransitionTime]), [
    ['PodReadyToStartContainers', 'True', 'T1'], ['Initialized', 'True', 'T1'], ['Ready', 'True', 'T1'],
    ['ContainersReady', 'True', 'T1'], ['PodScheduled', 'True', 'T1'],
  ]);
  assert.equal([s.podIP, s.podIPs, s.hostIP, s.hostIPs, s.startTime], ['10.244.1.5', [{ ip: '10.244.1.5' }], '192.168.49.3', [{ ip: '192.168.49.3' }], '2025-01-01T00:00:00Z']);
  assert.equal(s.containerStatuses, [{
    name: 'c', image: 'nginx', imageID: 'svclab://nginx', containerID: 'svclab://42',
    state: { running: { startedAt: '2025-01-01T00:00:01Z' } }, lastState: {}, ready: true, restartCount: 0, started: true,
  }]);
});

test('an unready container makes Ready and ContainersReady False with upstream reason and message', () => {
  const s = renderPodStatus(undefined, rt([running({ ready: false }), running({ name: 'd' })]), 'T1');
  assert.equal([cond(s, 'Ready').status, cond(s, 'Ready').reason, cond(s, 'Ready').message], ['False', 'ContainersNotReady', 'containers with unready status: [c]']);
  assert.is(cond(s, 'ContainersReady').status, 'False');
});

test('lastTransitionTime moves only when a condition flips', () => {
  const a = renderPodStatus(undefined, rt([running()]), 'T1');
  const b = renderPodStatus(a, rt([running({ ready: false })]), 'T2');
  assert.is(cond(b, 'Ready').lastTransitionTime, 'T2');
  assert.is(cond(b, 'PodScheduled').lastTransitionTime, 'T1');
});

test('statusKey ignores transition times, so an unchanged pod is not re-reported', () => {
  const a = renderPodStatus(undefined, rt([running()]), 'T1');
  const b = renderPodStatus(undefined, rt([running()]), 'T2');
  assert.is(statusKey(a), statusKey(b));
  assert.is.not(statusKey(a), statusKey(renderPodStatus(a, rt([running({ restartCount: 1 })]), 'T3')));
});

test('phases: Pending without an IP or before a first start, Running after a crash, Succeeded/Failed when all ended', () => {
  assert.is(podPhase(rt([running()], { podIP: undefined })), 'Pending');
  assert.is(podPhase(rt([running({ pid: undefined, startedAt: undefined })])), 'Pending');
  const ended = { exitCode: 1, reason: 'Error', finishedAt: 'T' };
  assert.is(podPhase(rt([running({ pid: undefined, lastTerminated: ended, restartCount: 0 })])), 'Running');
  assert.is(podPhase(rt([running({ pid: undefined, terminated: { ...ended, exitCode: 0 } })])), 'Succeeded');
  assert.is(podPhase(rt([running({ pid: undefined, terminated: ended })])), 'Failed');
});

test('a crash-looping container shows waiting CrashLoopBackOff and its last termination', () => {
  const last = { exitCode: 137, signal: 9, reason: 'Error', startedAt: 'S', finishedAt: 'F' };
  const s = renderPodStatus(undefined, rt([running({ pid: undefined, ready: false, restartCount: 3, lastTerminated: last, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 8s' } })]), 'T');
  const cs = s.containerStatuses![0];
  assert.equal(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 8s' } });
  assert.equal(cs.lastState, { terminated: last });
  assert.equal([cs.started, cs.restartCount, cs.containerID], [false, 3, undefined]);
});

test('a pod that cannot run carries the reason and message on its status', () => {
  const s = renderPodStatus(undefined, rt([running({ pid: undefined, ready: false, waiting: { reason: 'ErrImagePull', message: 'no program' } })], { podIP: undefined, problem: { reason: 'ErrImagePull', message: 'container c: no program' } }), 'T');
  assert.equal([s.phase, s.reason, s.message, s.podIP], ['Pending', 'ErrImagePull', 'container c: no program', undefined]);
  assert.is(cond(s, 'PodReadyToStartContainers').status, 'False');
});

test.run();
