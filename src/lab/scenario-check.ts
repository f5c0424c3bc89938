// Checks that a scenario refers to things that exist: nodes (an error — the
// cluster is fixed), deployments, services and pods (a warning — a step may
// create them), `${variables}` saved by an earlier assertion (an error), and
// "host:port" targets that parse.
import type { Deployment, KubeObject, Service } from '../k8s/objects.ts';
import { ipFamily } from '../util/cidr.ts';
import type { LabLayout } from './layout.ts';
import { BUILTIN_VARS, type LabSpec, type ScenarioItem, type Target } from './schema.ts';
import { parseEqualitySelector, selectorMatches } from './selector.ts';
import type { Path, YamlSource } from './source.ts';

const VAR = /\$\{([^}]*)\}/g;
/** spec.type, spec.ports[0].nodePort, metadata.labels.app */
export const FIELD_PATH = /^[A-Za-z_][\w-]*(\[\d+\])*(\.[A-Za-z_][\w-]*(\[\d+\])*)*$/;
const VAR_NAME = /^[A-Za-z_]\w*$/;

/** Every string in `value` with its path, for `${var}` checks. */
function strings(value: unknown, path: Path, out: [Path, string][] = []): [Path, string][] {
  if (typeof value === 'string') out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, [...path, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) strings(v, [...path, k], out);
  return out;
}

/** "db:3306", "10.96.0.1:80", "[fd00::1]:80", "${dbIP}:3306". */
export function splitHostPort(text: string): { host: string; port: string } | undefined {
  const m = text.match(/^\[([^\]]+)\]:([^:]+)$/) ?? text.match(/^([^:]+):([^:]+)$/);
  return m ? { host: m[1], port: m[2] } : undefined;
}

/** Host keywords that stand for several nodes' IPs (see src/scenario/context.ts). */
const NODE_SETS = ['each-node', 'nodes-with-endpoints', 'nodes-without-endpoints'];

/**
 * `items` default to the lab's scenario at `scenario[i]`; an exercise passes its
 * break, checks and solution lists with their own key.
 */
export function checkScenario(spec: LabSpec, layout: LabLayout, src: YamlSource, known: KubeObject[], key = 'scenario', items: ScenarioItem[] = spec.scenario): string[] {
  const warnings: string[] = [];
  const nodes = layout.nodes.map((n) => n.name);
  const saved = new Set<string>(BUILTIN_VARS);
  const find = (kind: string, name: string, ns = 'default') =>
    known.some((o) => o.kind === kind && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === ns);
  const missing = (path: Path, what: string) =>
    warnings.push(src.warning(path, `${what} is not in manifests or any apply step; it must exist by the time this item runs`));

  const checkTarget = (t: Target, path: Path) => {
    if ('node' in t && !nodes.includes(t.node)) {
      throw src.error([...path, 'node'], `node "${t.node}" is not in this lab (nodes: ${nodes.join(', ')})`);
    }
    if ('pod' in t) checkPod(t.pod, [...path, 'pod']);
  };

  // A pod name, or a label selector some pod or Deployment template carries.
  const checkPod = (ref: string, path: Path) => {
    const sel = parseEqualitySelector(ref);
    const found = sel
      ? known.some((o) => (o.kind === 'Pod' && selectorMatches({ matchLabels: sel }, o.metadata?.labels))
          || (o.kind === 'Deployment' && selectorMatches({ matchLabels: sel }, (o as Deployment).spec?.template.metadata?.labels)))
      : known.some((o) => (o.kind === 'Pod' || o.kind === 'Deployment') && o.metadata?.name === ref);
    if (!found) missing(path, sel ? `no pod matches "${ref}": a pod with those labels` : `pod "${ref}"`);
  };

  const checkHostPort = (to: string, path: Path) => {
    if (/^\$\{[^}]*\}$/.test(to)) return; // the whole address comes from a variable
    const hp = splitHostPort(to);
    if (!hp) throw src.error(path, `"${to}" is not host:port (like db-service:3306, 10.96.0.10:53 or \${dbIP}:3306)`);
    const portOk = /^\$\{[^}]*\}$/.test(hp.port) || (/^\d+$/.test(hp.port) && Number(hp.port) >= 1 && Number(hp.port) <= 65535);
    if (!portOk) throw src.error(path, `"${hp.port}" in "${to}" is not a port (1-65535)`);
    const host = hp.host;
    if (host.includes('${') || ipFamily(host) || nodes.includes(host) || host === 'external') return;
    if (NODE_SETS.includes(host)) return;
    if (host.startsWith('pod/')) return checkPod(host.slice(4), path);
    // A service name: "db", "db.prod", "db.prod.svc", "db.prod.svc.cluster.local".
    const [svc, ns = 'default'] = host.split('.');
    if (!find('Service', svc, ns)) missing(path, `service "${ns}/${svc}"`);
  };

  items.forEach((item: ScenarioItem, i) => {
    const at = (...p: (string | number)[]): Path => [key, i, ...p];

    // Variables: used only after an earlier item saved them.
    for (const [path, text] of strings(item, at())) {
      for (const m of text.matchAll(VAR)) {
        const name = m[1];
        if (!VAR_NAME.test(name)) throw src.error(path, `"\${${name}}" is not a variable name (letters, digits and _)`);
        if (!saved.has(name)) {
          throw src.error(path, `variable \${${name}} is used before any assertion saves it (add save: ${name} to an earlier service-ip assertion)`);
        }
      }
    }

    if ('step' in item) {
      switch (item.step) {
        case 'apply':
          if ((item.manifest === undefined) === (item.file === undefined)) {
            throw src.error(at(), 'an apply step needs exactly one of manifest: (an object) or file: (a path relative to the lab file)');
          }
          break;
        case 'delete':
          if (!find(item.kind, item.name, item.namespace)) missing(at('name'), `${item.kind} "${item.namespace}/${item.name}"`);
          break;
        case 'scale':
          if (!find('Deployment', item.deployment, item.namespace)) missing(at('deployment'), `deployment "${item.namespace}/${item.deployment}"`);
          break;
        case 'exec':
          checkTarget(item.on, at('on'));
          checkRegex(item.expect?.stdout, src, at('expect', 'stdout'));
          break;
        case 'wait':
          break;
        case 'answer':
          if ((item.value === undefined) === (item.from === undefined)) {
            throw src.error(at(), 'an answer step needs exactly one of value: (the answer) or from: (a command whose output holds it)');
          }
          if (item.from) {
            checkTarget(item.from.on, at('from', 'on'));
            checkRegex(item.from.match, src, at('from', 'match'));
          }
          break;
        case 'reconfigure':
          // The new ranges are checked where the lab is rebuilt (src/lab/reconfigure.ts).
          if (!item.cluster && !item.proxy) throw src.error(at(), 'a reconfigure step needs cluster: (new ranges) or proxy: (a new mode), or both');
          break;
        default:
          // A step kind added to the schema is a compile error here until someone decides what it refers to.
          item satisfies never;
      }
      return;
    }

    switch (item.assert) {
      case 'service-ip':
        if (!find('Service', item.service, item.namespace)) missing(at('service'), `service "${item.namespace}/${item.service}"`);
        if (item.save) saved.add(item.save);
        break;
      case 'proxy-rules': {
        const svc = known.find((o) => o.kind === 'Service' && o.metadata?.name === item.service && (o.metadata?.namespace ?? 'default') === item.namespace);
        if (!svc) missing(at('service'), `service "${item.namespace}/${item.service}"`);
        else if (!((svc as Service).spec?.ports ?? []).some((p) => p.port === item.port)) {
          warnings.push(src.warning(at('port'), `service "${item.namespace}/${item.service}" has no port ${item.port} in its manifest`));
        }
        (item.nodes ?? []).forEach((n, j) => {
          if (!nodes.includes(n)) throw src.error(at('nodes', j), `node "${n}" is not in this lab (nodes: ${nodes.join(', ')})`);
        });
        break;
      }
      case 'dns':
        checkTarget(item.from, at('from'));
        if (!find('Service', item.service, item.namespace)) missing(at('service'), `service "${item.namespace}/${item.service}"`);
        break;
      case 'reach':
      case 'unreachable':
      case 'source-ip':
        checkTarget(item.from, at('from'));
        checkHostPort(item.to, at('to'));
        break;
      case 'exec':
        checkTarget(item.on, at('on'));
        checkRegex(item.expect.stdout, src, at('expect', 'stdout'));
        break;
      case 'object':
        if (!find(item.kind, item.name, item.namespace)) missing(at('name'), `${item.kind} "${item.namespace}/${item.name}"`);
        for (const field of Object.keys(item.fields ?? {})) {
          if (!FIELD_PATH.test(field)) throw src.error(at('fields', field), `"${field}" is not a field path (write it like spec.type or spec.ports[0].nodePort)`);
        }
        break;
      case 'answer':
        if (item.equals === undefined && item.matches === undefined) throw src.error(at(), 'an answer assertion needs equals: or matches: (or both)');
        checkRegex(item.matches, src, at('matches'));
        if (item.save) saved.add(item.save);
        break;
      case 'ranges-disjoint':
        break;
      default:
        item satisfies never;
    }
    if (item.assert === 'reach' && item.answeredBy) checkPod(item.answeredBy, at('answeredBy'));
  });
  return warnings;
}

function checkRegex(re: string | undefined, src: YamlSource, path: Path): void {
  if (re === undefined) return;
  try {
    new RegExp(re);
  } catch (e) {
    throw src.error(path, `not a valid regular expression: ${(e as Error).message}`);
  }
}
