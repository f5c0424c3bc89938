// `svclab delete KIND NAME...`, `delete KIND/NAME`, `delete KIND -l SEL|--all`,
// `delete -f FILE`: kubectl delete's lines and errors, then (like kubectl's
// default --wait) waits until the objects are really gone — a pod leaves only
// after its kubelet stopped it.
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject, ResourceKind } from '../../k8s/objects.ts';
import { resourcePath } from '../../lifecycle/lab-api.ts';
import { labOptions, namespaced, parseResourceArgs, readManifests, withClient, type ResourceRef } from '../kubectl/args.ts';
import { apiStatus, dryRunQuery, dryRunSuffix, kubectlAction, kubectlErrorLine, parseDryRun } from '../kubectl/errors.ts';
import { KubectlError } from '../kubectl/generators.ts';
import { deletedLine, kindGroup, resourceGroup } from '../kubectl/print.ts';

interface Opts {
  filename?: string[];
  lab?: string;
  namespace: string;
  selector?: string;
  all?: boolean;
  ignoreNotFound?: boolean;
  wait?: string | boolean;
  timeout: string;
  dryRun?: string | boolean;
  output?: string;
}

interface Target extends ResourceRef {
  namespace?: string;
  file?: string;
}

/** "60s", "2m", "500ms" → ms (Go duration, the forms people type). */
function durationMs(text: string): number {
  const m = text.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new KubectlError(`invalid argument "${text}" for "--timeout" flag: time: invalid duration "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

export default function register(program: Command): void {
  labOptions(
    program
      .command('delete')
      .description('delete objects by kind and name, by label selector, or by file (kubectl delete)')
      .argument('[resources...]', 'KIND NAME..., KIND/NAME..., or KIND with -l / --all'),
  )
    .option('-f, --filename <file...>', 'delete the objects in these manifest files')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web')
    .option('--all', 'every object of the kind in the namespace')
    .option('--ignore-not-found', 'treat "not found" as a successful delete')
    .option('--wait [bool]', 'wait until the objects are gone (default true; --wait=false returns at once)')
    .option('--timeout <duration>', 'how long to wait for the objects to be gone', '60s')
    .option('--dry-run [strategy]', 'none, client or server')
    .option('-o, --output <format>', 'name: print only resource/name')
    .addHelpText('after', '\nExamples:\n  svclab delete svc nginx\n  svclab delete deployment/web service/web\n  svclab delete -f web.yaml\n  svclab delete pods -l app=web')
    .action((args: string[], opts: Opts) =>
      kubectlAction(async () => {
        const dryRun = parseDryRun(opts.dryRun);
        const timeoutMs = durationMs(opts.timeout);
        const { kind, refs } = parseResourceArgs(args);
        if (!opts.filename?.length && !kind && !refs.length) {
          throw new KubectlError("You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'");
        }
        if (kind && !refs.length && !opts.selector && !opts.all) throw new KubectlError('resource(s) were provided, but no name was specified');

        const errors: string[] = [];
        await withClient(opts.lab, async (client) => {
          const targets: Target[] = [];
          for (const { object, file } of await readManifests(opts.filename ?? [])) {
            const k = object.kind as ResourceKind;
            targets.push({ kind: k, name: object.metadata?.name ?? '', namespace: namespaced(k) ? object.metadata?.namespace ?? opts.namespace : undefined, file });
          }
          for (const r of refs) targets.push({ ...r, namespace: namespaced(r.kind) ? opts.namespace : undefined });
          if (kind && !refs.length) {
            const ns = namespaced(kind) ? opts.namespace : undefined;
            const list = await client.list<KubeObject>(resourcePath(kind, ns), opts.selector ? { labelSelector: opts.selector } : {});
            for (const o of list.items) targets.push({ kind, name: o.metadata?.name ?? '', namespace: ns });
            if (!list.items.length && !opts.ignoreNotFound) process.stderr.write(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
          }

          const gone: { target: Target; uid?: string }[] = [];
          for (const t of targets) {
            try {
              const res = await client.delete<KubeObject>(`${resourcePath(t.kind, t.namespace, t.name)}${dryRunQuery(dryRun)}`);
              process.stdout.write(opts.output === 'name' ? `${kindGroup(t.kind)}/${t.name}\n` : deletedLine(t.kind, t.name, t.namespace, dryRunSuffix(dryRun)));
              gone.push({ target: t, uid: res?.metadata?.uid });
            } catch (err) {
              if (opts.ignoreNotFound && apiStatus(err)?.reason === 'NotFound') continue;
              const line = kubectlErrorLine(err, t.file ? { verb: 'deleting', file: t.file } : undefined);
              if (line === undefined) throw err;
              errors.push(line);
            }
          }
          const wait = !(opts.wait === false || opts.wait === 'false');
          if (!wait || dryRun !== 'none') return;
          // kubectl's --wait: an object is gone when a GET answers 404 or finds a new object (another uid).
          const deadline = Date.now() + timeoutMs;
          for (const { target: t, uid } of gone) {
            for (;;) {
              const cur = await client.getOrUndefined<KubeObject>(resourcePath(t.kind, t.namespace, t.name));
              if (!cur || (uid && cur.metadata?.uid !== uid)) break;
              if (Date.now() > deadline) {
                errors.push(`error: timed out waiting for the condition on ${resourceGroup(t.kind)}/${t.name}`);
                break;
              }
              await sleep(200);
            }
          }
        });
        if (errors.length) {
          process.stderr.write(`${errors.join('\n')}\n`);
          process.exitCode = 1;
        }
      }),
    );
}
