// `svclab doctor LAB_FILE_OR_NAME`: checks a lab file and, when the lab is up,
// the running lab; prints each check's verdict and every problem with its
// reasons. Exit 0 when clean, 1 when it found problems; -o json for scripts.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { readRecord, type LabRecord } from '../../lifecycle/state.ts';
import { EnvironmentError } from '../../util/errors.ts';
import { cidrString, parseCidr } from '../../util/cidr.ts';
import { selectLab } from '../lab-select.ts';
import { paint, sym } from '../../util/output.ts';
import { isProblem, networkFindings, type Finding, type NetworkPlan } from '../doctor/findings.ts';
import { checkLabFile, checkRunningLab, planOfLayout } from '../doctor/gather.ts';

/** The checks in the order they are reported, with what a clean result says. */
const CHECKS: { name: string; ids: string[]; running?: boolean; ok: (plan?: NetworkPlan) => string }[] = [
  { name: 'lab file', ids: ['lab-file', 'lab-warning'], ok: () => 'the lab file loads without errors or warnings' },
  {
    name: 'address plan',
    ids: ['pod-service-overlap', 'node-pod-overlap', 'node-service-overlap', 'node-podcidr-in-service-cidr'],
    ok: (p) => (p ? `nodes ${cidrString(parseCidr(p.nodeNetwork))}, pods ${cidrString(parseCidr(p.podCIDR))} and services ${cidrString(parseCidr(p.serviceCIDR))} do not overlap` : 'no overlapping ranges'),
  },
  { name: 'kube-proxy', ids: ['kube-proxy-unhealthy'], running: true, ok: () => 'kube-proxy answers /healthz with 200 on every node' },
  { name: 'endpoints', ids: ['service-no-endpoints'], running: true, ok: () => 'every Service with a selector has ready endpoints' },
  { name: 'pods', ids: ['pod-not-ready'], running: true, ok: () => 'every pod is Ready' },
  { name: 'pod addresses', ids: ['pod-ip-is-cluster-ip', 'pod-ip-in-service-cidr'], running: true, ok: () => 'no pod address lies in the service CIDR' },
];

function wrap(text: string, indent: string, width: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && indent.length + line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

export interface DoctorResult {
  lab?: string;
  file?: string;
  running: boolean;
  mode?: string;
  driver?: string;
  /** The ranges judged: the running lab's when it is up, else the file's. */
  plan?: NetworkPlan;
  checks: { name: string; ok: boolean }[];
  findings: Finding[];
  ok: boolean;
}

async function doctor(target: string): Promise<DoctorResult> {
  const isFile = existsSync(target) && statSync(target).isFile();
  let file: string | undefined = isFile ? target : undefined;
  let rec: LabRecord | undefined;
  let fileCheck = isFile ? await checkLabFile(target) : undefined;
  const name = isFile ? fileCheck?.name : target;
  if (name) rec = await readRecord(name);
  if (!isFile) {
    if (!rec) throw new EnvironmentError(`"${target}" is neither a lab file nor a lab that is up`, 'pass a lab file (labs/clusterip-db.yaml) or the name of a running lab (see `svclab status`)');
    if (rec.file && existsSync(rec.file)) {
      file = rec.file;
      fileCheck = await checkLabFile(rec.file);
    }
  }
  const running = rec?.phase === 'up';
  let findings: Finding[] = fileCheck?.findings ?? [];
  let plan = fileCheck?.plan;
  if (running) {
    // What was brought up decides the address plan, even if the file changed since.
    plan = planOfLayout(rec!.layout);
    const planIds = new Set(CHECKS[1].ids);
    findings = [...findings.filter((f) => !planIds.has(f.check)), ...networkFindings(plan)];
    const lab = await selectLab(rec!.name);
    try {
      findings.push(...(await checkRunningLab(lab)));
    } finally {
      lab.api.client.close();
    }
  }
  const checks = CHECKS.filter((c) => (c.running ? running : c.name !== 'lab file' || Boolean(file))).map((c) => ({ name: c.name, ok: !findings.some((f) => c.ids.includes(f.check) && isProblem(f)) }));
  return { lab: rec?.name ?? name, file, running, mode: rec?.mode, driver: rec?.driver, plan, checks, findings, ok: !findings.some(isProblem) };
}

function render(r: DoctorResult): string {
  const width = Math.min(process.stdout.columns || 100, 120);
  const state = r.running ? `up, ${r.mode} mode, ${r.driver} driver` : 'not up';
  const out = [`${paint('bold', `Lab ${r.lab ?? '?'}`)}${r.file ? ` — ${r.file}` : ''} (${state})`, ''];
  for (const c of CHECKS) {
    const verdict = r.checks.find((x) => x.name === c.name);
    if (!verdict) continue;
    const mine = r.findings.filter((f) => c.ids.includes(f.check));
    if (!mine.length) {
      out.push(`${sym.ok()} ${c.name}: ${c.ok(r.plan)}`);
      continue;
    }
    for (const f of mine) {
      const mark = f.severity === 'error' ? sym.fail() : f.severity === 'warning' ? sym.warn() : sym.dot();
      const label = f.severity === 'error' ? paint('red', 'error') : f.severity === 'warning' ? paint('yellow', 'warning') : 'info';
      out.push(`${mark} ${c.name}: ${label}: ${f.title}`);
      for (const d of f.details) out.push(wrap(d, '    ', width));
    }
  }
  if (!r.running) out.push(`${sym.dot()} the lab is not up: kube-proxy, endpoints and pods were not checked (svclab up ${r.file ?? r.lab} first)`);
  const problems = r.findings.filter(isProblem);
  const errors = problems.filter((f) => f.severity === 'error').length;
  out.push('', problems.length ? `${problems.length} problem${problems.length > 1 ? 's' : ''} found: ${errors} error${errors === 1 ? '' : 's'}, ${problems.length - errors} warning${problems.length - errors === 1 ? '' : 's'}.` : 'No problems found.');
  return out.join('\n');
}

export default function register(program: Command): void {
  program
    .command('doctor')
    .description('check a lab for service-networking problems: overlapping ranges; when it is up also kube-proxy health, Services without endpoints, pods not Ready')
    .argument('<lab>', 'a lab file (labs/x.yaml) or the name of a lab that is up')
    .option('-o, --output <format>', 'json')
    .addHelpText('after', '\nExit codes: 0 no problems, 1 problems found, 2 the lab cannot be read.\n\nExamples:\n  svclab doctor labs/overlapping-cidr.yaml\n  svclab doctor clusterip-db -o json')
    .action(async (target: string, opts: { output?: string }) => {
      const result = await doctor(target);
      if (opts.output === 'json') console.log(JSON.stringify(result, null, 2));
      else console.log(render(result));
      process.exitCode = result.ok ? 0 : 1;
    });
}

export { doctor as runDoctor };
