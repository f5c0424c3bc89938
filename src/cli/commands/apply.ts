// `svclab apply -f FILE`: kubectl apply against the lab — "created",
// "configured" or "unchanged" per object, errors (with the file they came
// from) after the objects that went through, exit 1 if any failed.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { KubeObject } from '../../k8s/objects.ts';
import { executePlan, namespaceFor, planFor } from '../kubectl/apply.ts';
import { labOptions, namespaceExplicit, readManifests, withClient } from '../kubectl/args.ts';
import { dryRunSuffix, kubectlAction, kubectlErrorLine, parseDryRun } from '../kubectl/errors.ts';
import { objectName } from '../kubectl/print.ts';

/** A svclab lab file (kind: Lab) rather than Kubernetes manifests. */
async function isLabFile(f: string): Promise<boolean> {
  if (!/\.ya?ml$/.test(f)) return false;
  const text = await readFile(f, 'utf8').catch(() => '');
  return /^kind:\s*Lab\s*$/m.test(text) && /^apiVersion:\s*svclab\.dev\//m.test(text);
}

interface Opts {
  filename: string[];
  lab?: string;
  namespace: string;
  dryRun?: string | boolean;
  output?: string;
}

export default function register(program: Command): void {
  labOptions(
    program
      .command('apply')
      .description('apply a configuration to objects in the lab by file name (kubectl apply -f): created, configured or unchanged')
      .requiredOption('-f, --filename <file...>', 'manifest file(s), a directory of them, or - for stdin (multi-document YAML or a v1 List)'),
  )
    .option('--dry-run [strategy]', 'none, client (decide, send nothing) or server (the apiserver validates, stores nothing)')
    .option('-o, --output <format>', 'name: print only resource/name')
    .addHelpText('after', '\nExamples:\n  svclab apply -f web.yaml\n  svclab apply -f manifests/ --dry-run=client')
    .action((opts: Opts, cmd: Command) =>
      kubectlAction(async () => {
        const dryRun = parseDryRun(opts.dryRun);
        if (opts.output && opts.output !== 'name') throw new Error(`svclab apply prints -o name only (got -o ${opts.output})`);
        const manifests: { object: KubeObject; file: string }[] = [];
        for (const f of opts.filename) {
          // A lab file applies as its manifests (the Pulumi stack's `workloads` step: `svclab apply -f LAB`).
          if (await isLabFile(f)) {
            const { loadLab } = await import('../../lab/load.ts');
            manifests.push(...((await loadLab(f)).spec.manifests ?? []).map((object) => ({ object: object as KubeObject, file: f })));
          } else manifests.push(...(await readManifests([f])));
        }
        const errors: string[] = [];
        await withClient(opts.lab, async (client) => {
          for (const { object, file } of manifests) {
            // kubectl names the step that failed: "error when creating \"web.yaml\": ...".
            let verb = 'retrieving current configuration of';
            try {
              const ns = namespaceFor(object, opts.namespace, namespaceExplicit(cmd));
              const obj = ns ? { ...object, metadata: { ...object.metadata, namespace: ns } } : object;
              const plan = await planFor(client, obj);
              verb = plan.operation === 'created' ? 'creating' : 'patching';
              await executePlan(client, obj, plan, dryRun);
              if (plan.warning) process.stderr.write(`${plan.warning}\n`);
              process.stdout.write(opts.output === 'name' ? `${objectName(obj)}\n` : `${objectName(obj)} ${plan.operation}${dryRunSuffix(dryRun)}\n`);
            } catch (err) {
              const line = kubectlErrorLine(err, { verb, file });
              if (line === undefined) throw err;
              errors.push(line);
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
