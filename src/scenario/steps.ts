// Scenario steps change the lab: apply a manifest, delete or scale an object,
// run a command, wait. They go through the same API the learner's verbs use.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseObjects } from '../lab/objects.ts';
import type { KubeObject } from '../k8s/objects.ts';
import type { ScenarioContext } from './context.ts';
import { checkExec } from './assertions/basic.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export async function stepApply(ctx: ScenarioContext, spec: { manifest?: KubeObject; file?: string }, labFile: string): Promise<string> {
  let objects: KubeObject[];
  if (spec.manifest) objects = [spec.manifest];
  else {
    const path = resolve(dirname(labFile), spec.file ?? '');
    objects = parseObjects(await readFile(path, 'utf8'), path);
  }
  const done: string[] = [];
  for (const obj of objects) done.push(await ctx.api.apply(obj));
  return done.join(', ');
}

export async function stepDelete(ctx: ScenarioContext, spec: { kind: string; name: string; namespace?: string }): Promise<string> {
  await ctx.api.delete(spec.kind, spec.name, spec.namespace);
  return `${spec.kind.toLowerCase()} "${spec.name}" deleted`;
}

export async function stepScale(ctx: ScenarioContext, spec: { deployment: string; replicas: number; namespace?: string }): Promise<string> {
  await ctx.api.scale(spec.deployment, spec.replicas, spec.namespace);
  // Like `kubectl scale` + `kubectl rollout status`: return once the pods match.
  await ctx.api.waitDeploymentReady(spec.deployment, spec.replicas, spec.namespace, 60_000);
  return `deployment.apps/${spec.deployment} scaled to ${spec.replicas}`;
}

export async function stepWait(_ctx: ScenarioContext, spec: { seconds: number }): Promise<string> {
  await sleep(spec.seconds * 1000);
  return `waited ${spec.seconds}s`;
}

export { checkExec as stepExec };
