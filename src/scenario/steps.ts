// Scenario steps change the lab: apply a manifest, delete or scale an object,
// run a command, wait, rebuild. They go through the same API the learner's
// verbs use. Each takes the fields of its step as the lab schema parses them.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseObjects } from '../lab/objects.ts';
import type { StepOf } from '../lab/schema.ts';
import type { KubeObject } from '../k8s/objects.ts';
import { seedVars, type ScenarioContext } from './context.ts';
import { checkExec } from './assertions/basic.ts';
import { CheckFailed } from '../util/errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export async function stepApply(ctx: ScenarioContext, spec: Pick<StepOf<'apply'>, 'manifest' | 'file'>, labFile: string): Promise<string> {
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

export async function stepDelete(ctx: ScenarioContext, spec: Pick<StepOf<'delete'>, 'kind' | 'name' | 'namespace'>): Promise<string> {
  await ctx.api.delete(spec.kind, spec.name, spec.namespace);
  return `${spec.kind.toLowerCase()} "${spec.name}" deleted`;
}

export async function stepScale(ctx: ScenarioContext, spec: Pick<StepOf<'scale'>, 'deployment' | 'replicas' | 'namespace'>): Promise<string> {
  await ctx.api.scale(spec.deployment, spec.replicas, spec.namespace);
  // Like `kubectl scale` + `kubectl rollout status`: return once the pods match.
  await ctx.api.waitDeploymentReady(spec.deployment, spec.replicas, spec.namespace, 60_000);
  return `deployment.apps/${spec.deployment} scaled to ${spec.replicas}`;
}

export async function stepWait(_ctx: ScenarioContext, spec: Pick<StepOf<'wait'>, 'seconds'>): Promise<string> {
  await sleep(spec.seconds * 1000);
  return `waited ${spec.seconds}s`;
}

/** Down, then up with the step's ranges or mode; the context then points at the new lab. */
export async function stepReconfigure(ctx: ScenarioContext, spec: Pick<StepOf<'reconfigure'>, 'cluster' | 'proxy'>): Promise<string> {
  if (!ctx.rebuild) throw new CheckFailed('a reconfigure step rebuilds the lab, which only `svclab run` and `svclab exercise` can do');
  const { summary, ...parts } = await ctx.rebuild({ cluster: spec.cluster, proxy: spec.proxy });
  Object.assign(ctx, parts);
  seedVars(ctx);
  return summary;
}

export { checkExec as stepExec };
