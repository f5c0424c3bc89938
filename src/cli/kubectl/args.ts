// What the kubectl-style verbs share: resource arguments ("svc web db",
// "svc/web deploy/db"), manifest files (-f file, directory or "-"), and a
// session on the selected lab that closes its connections when done.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import type { KubeObject, ResourceKind } from '../../k8s/objects.ts';
import { RESOURCES } from '../../k8s/objects.ts';
import { resolveKind } from '../../lifecycle/lab-api.ts';
import { ApiClient } from '../../controlplane/client.ts';
import { loadObjects, parseObjects } from '../../lab/objects.ts';
import { selectRecord } from '../lab-select.ts';
import { KubectlError } from './generators.ts';

export interface ResourceRef {
  kind: ResourceKind;
  name: string;
}

/** kubectl's resource kind lookup, with its error for an unknown type. */
export function kindOf(arg: string): ResourceKind {
  try {
    return resolveKind(arg.split('.')[0]);
  } catch {
    throw new KubectlError(`the server doesn't have a resource type "${arg}"`);
  }
}

/**
 * "KIND NAME..." or "KIND/NAME..." (kubectl's ResourceTypeOrNameArgs). A bare
 * KIND comes back with no names.
 */
export function parseResourceArgs(args: string[]): { kind?: ResourceKind; refs: ResourceRef[] } {
  if (!args.length) return { refs: [] };
  if (args.every((a) => a.includes('/'))) {
    return {
      refs: args.map((a) => {
        const [k, name] = a.split('/');
        if (!name) throw new KubectlError(`arguments in resource/name form must have a single resource and name`);
        return { kind: kindOf(k), name };
      }),
    };
  }
  if (args.some((a) => a.includes('/'))) throw new KubectlError('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. \'kubectl get resource/<resource_name>\' instead of \'kubectl get resource resource/<resource_name>\'');
  const kind = kindOf(args[0]);
  return { kind, refs: args.slice(1).map((name) => ({ kind, name })) };
}

const MANIFEST_EXT = new Set(['.yaml', '.yml', '.json']);

/** Objects of -f arguments, each with the file it came from (for "error when creating \"file\""). */
export async function readManifests(files: string[]): Promise<{ object: KubeObject; file: string }[]> {
  const out: { object: KubeObject; file: string }[] = [];
  for (const f of files) {
    if (f === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      out.push(...parseObjects(Buffer.concat(chunks).toString('utf8'), 'STDIN').map((object) => ({ object, file: 'STDIN' })));
      continue;
    }
    const st = await stat(f).catch(() => undefined);
    if (st?.isDirectory()) {
      const names = (await readdir(f)).filter((n) => MANIFEST_EXT.has(extname(n))).sort();
      for (const n of names) out.push(...(await loadObjects(join(f, n))).map((object) => ({ object, file: join(f, n) })));
      continue;
    }
    if (!st) throw new KubectlError(`the path "${f}" does not exist`);
    out.push(...(await loadObjects(f)).map((object) => ({ object, file: f })));
  }
  return out;
}

export const namespaced = (kind: ResourceKind) => RESOURCES[kind].namespaced;

/** Was -n given on the command line (kubectl's "enforce namespace")? Asks the command that defines -n. */
export function namespaceExplicit(cmd: Command): boolean {
  for (let c: Command | null = cmd; c; c = c.parent) {
    if (c.options.some((o) => o.attributeName() === 'namespace')) return c.getOptionValueSource('namespace') === 'cli';
  }
  return false;
}

/**
 * Runs `fn` with a client of the selected lab's apiserver and closes its
 * keep-alive sockets afterwards. The verbs only talk to the API, so they need
 * the lab's record, not its nodes. $SVCLAB_APISERVER (a socket path or URL)
 * points them at any lab apiserver instead.
 */
export async function withClient<T>(lab: string | undefined, fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const target = process.env.SVCLAB_APISERVER || `unix:${(await selectRecord(lab)).apiSocket}`;
  const client = new ApiClient(target);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** The options every verb takes: which lab, which namespace. */
export function labOptions(cmd: Command): Command {
  return cmd.option('--lab <lab>', 'which lab (default: the only one up, or $SVCLAB_LAB)').option('-n, --namespace <ns>', 'namespace', 'default');
}
