// The line a scenario item is printed and reported as: its `name` when it has
// one, else a title made from the fields that tell items of a kind apart.
import type { Assertion, ScenarioItem, Step, Target } from '../lab/schema.ts';
import { isAssertion, unhandled } from './items.ts';

export function itemTitle(item: ScenarioItem): string {
  return isAssertion(item) ? assertionTitle(item) : stepTitle(item);
}

function stepTitle(step: Step): string {
  // A delete step's `name` is the object's name, not a title.
  if (step.step === 'delete') return `delete ${step.kind.toLowerCase()}/${step.name}`;
  if (step.name) return step.name;
  switch (step.step) {
    case 'reconfigure': {
      const ranges = Object.entries(step.cluster ?? {}).map(([k, v]) => (k === 'nodes' ? 'node ranges' : `${k} ${v}`));
      return `rebuild the lab with ${[...ranges, step.proxy?.mode && `proxy mode ${step.proxy.mode}`].filter(Boolean).join(', ')}`;
    }
    case 'answer': return `answer ${step.key}`;
    case 'scale': return titled(step.step, [step.deployment && `${step.deployment}=${step.replicas}`]);
    case 'apply':
    case 'exec':
    case 'wait':
      return step.step;
    default: return unhandled(step);
  }
}

function assertionTitle(a: Assertion): string {
  // An object assertion's `name` is the object's name, not a title.
  if (a.assert === 'object') {
    const fields = Object.entries(a.fields ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
    return `${a.kind.toLowerCase()}/${a.name}${fields ? ` has ${fields}` : ' exists'}`;
  }
  if (a.name) return a.name;
  switch (a.assert) {
    case 'answer': return `answer ${a.key}`;
    case 'service-ip': return titled(a.assert, [a.service]);
    case 'proxy-rules':
      return `${titled(a.assert, [a.service])}${a.absent ? ' (absent)' : ''}${a.endpoints !== undefined ? ` (${a.endpoints} endpoints)` : ''}`;
    case 'dns': return titled(a.assert, [a.service], a.from);
    case 'reach':
    case 'unreachable':
    case 'source-ip':
      return titled(a.assert, [a.service, a.to && `→ ${a.to}`], a.from);
    case 'exec':
    case 'ranges-disjoint':
      return a.assert;
    default: return unhandled(a);
  }
}

/** "reach db → db:3306 from pod app=client": the kind, the bits that are set, where it starts. */
function titled(kind: string, bits: (string | undefined)[], from?: Target): string {
  const text = bits.filter(Boolean).join(' ');
  return `${kind}${text ? ` ${text}` : ''}${from ? ` from ${fromText(from)}` : ''}`;
}

const fromText = (t: Target): string => ('pod' in t ? `pod ${t.pod}` : 'node' in t ? t.node : 'external');
