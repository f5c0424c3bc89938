// Labs end to end on three real VMs (TCG here): `svclab run <copy of
// labs/LAB.yaml> --driver libvirt --mode M --down -o json`, as a user runs it:
// the ClusterIP database lab in iptables and then IPVS mode, and the NodePort web
// lab in IPVS and then userspace mode (the guest kernel has ip_vs, which this
// host lacks; the proxy-rules assertions read `ipvsadm -Ln`, `ipset save` and
// kube-ipvs0 on every node). Afterwards nothing of the lab may be left: no domains, volumes,
// qemu processes, namespaces or files. Prints the phase times of each run.
// Needs root, qemu, /dev/net/tun, a built dist/svclab.mjs, and a cached image
// or debootstrap to build one. SVCLAB_VM_RUNS=clusterip-db:ipvs,... picks the
// runs (`none` skips them, loudly); one lab (3 VMs) at a time, always torn down.
// Both labs switch modes on the same VMs, the path `pulumi up` takes after
// `pulumi config set svclab:mode ipvs`; after each switch the old mode's kernel
// state must be gone and one connection is traced (`svclab trace`) in the new mode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/util/exec.ts';
import { buildImage } from '../../src/image/build.ts';
import { whyNoVms } from './helpers/vm-preconditions.ts';
import { LibvirtBackend } from '../../src/cluster/libvirt/backends.ts';
import { listNetns } from '../../src/cluster/common/namespaces.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin', 'svclab.js');

async function whyNot(): Promise<string | undefined> {
  const missing = await whyNoVms();
  if (missing) return missing;
  if (!existsSync(join(ROOT, 'dist', 'svclab.mjs'))) return 'dist/svclab.mjs is missing: run `npm run build` first';
  return undefined;
}

/** Everything of `lab` that must be gone after `down`. */
async function leftovers(lab: string): Promise<string[]> {
  const left: string[] = [];
  const ns = (await listNetns()).filter((n) => n.startsWith(`svclab-${lab}-`));
  if (ns.length) left.push(`namespaces ${ns.join(' ')}`);
  if (existsSync(`/var/lib/svclab/${lab}`)) left.push(`/var/lib/svclab/${lab}`);
  if (existsSync('/etc/netns') && readdirSync('/etc/netns').some((n) => n.startsWith(`svclab-${lab}-`))) left.push('/etc/netns entries');
  const lv = new LibvirtBackend();
  if (await lv.reachable()) {
    const doms = await lv.list(lab);
    if (doms.length) left.push(`domains ${doms.join(' ')}`);
    const vols = await run(['virsh', '-c', lv.uri, 'vol-list', '--all'], { allowFailure: true }).catch(() => undefined);
    if (vols?.stdout.includes(`svclab-${lab}-`)) left.push('libvirt volumes');
    const nets = await run(['virsh', '-c', lv.uri, 'net-list', '--all', '--name'], { allowFailure: true });
    if (nets.stdout.includes(`svclab-${lab}`)) left.push('libvirt networks');
  }
  const ps = await run(['pgrep', '-f', `svclab-${lab}-`], { allowFailure: true });
  if (ps.stdout.trim()) left.push(`processes ${ps.stdout.trim().split('\n').join(' ')}`);
  return left;
}

// LAB:MODE is one run with --down; LAB:M1>M2 brings the lab up in M1, runs it, switches the
// same VMs to M2 (`svclab proxy restart`, the lab's manifests applied again) and runs it again.
const DEFAULT_RUNS = 'clusterip-db:iptables>ipvs,nodeport-web:ipvs>userspace';
const runs = (process.env.SVCLAB_VM_RUNS ?? DEFAULT_RUNS).split(',').filter((r) => r && r !== 'none').map((r) => {
  const [lab, modes] = r.split(':');
  return { lab, modes: (modes ?? 'iptables').split('>') };
});
const skip = runs.length === 0 ? 'SVCLAB_VM_RUNS=none' : await whyNot();

/** What an item of each mode's rule check must mention: proof the rules were read from that mode's kernel tables. */
const RULES_SEEN: Record<string, string> = { iptables: 'KUBE-SVC-', ipvs: 'on kube-ipvs0', nftables: 'service-', userspace: 'KUBE-PORTALS-' };

if (skip) {
  console.log(`\n!!!!! SKIP libvirt-labs: ${skip} !!!!!\n`);
  test.skip('labs on three VMs');
} else {
  test.before(async () => {
    const t0 = performance.now();
    const image = await buildImage({ progress: (p, d) => console.log(`  image ${p}: ${d ?? ''}`) });
    console.log(`  image ${image.cached ? 'reused' : 'built'} in ${((performance.now() - t0) / 1000).toFixed(1)}s: ${image.dir}`);
  });

  type RunResult = { passed: number; failed: number; skipped: number; seconds: number; setupSeconds?: number; phases?: { phase: string; seconds: number }[]; items: { name?: string; status?: string; message?: string }[] };

  /** `svclab run FILE --mode M -o json` (with --driver libvirt when it brings the lab up); asserts it passed in M. */
  async function runScenario(source: string, file: string, mode: string, extra: string[]): Promise<void> {
    const t0 = performance.now();
    const r = await run(['node', CLI, 'run', file, '--driver', 'libvirt', '--mode', mode, '-o', 'json', ...extra], { allowFailure: true, timeoutMs: 30 * 60_000 });
    const wall = ((performance.now() - t0) / 1000).toFixed(1);
    let result: RunResult | undefined;
    try {
      result = JSON.parse(r.stdout);
    } catch {
      /* reported below */
    }
    console.log(`  [${source} ${mode}] exit ${r.code}, ${wall}s wall; setup ${result?.setupSeconds?.toFixed(1)}s, scenario ${result?.seconds?.toFixed(1)}s, ${result?.passed} passed, ${result?.failed} failed, ${result?.skipped} skipped`);
    for (const p of result?.phases ?? []) console.log(`    ${p.seconds.toFixed(1).padStart(6)}s  ${p.phase}`);
    if (!result || result.failed || r.code !== 0) {
      console.log(r.stderr.slice(-4000));
      for (const it of result?.items ?? []) if (it.status === 'fail') console.log(`    ${JSON.stringify(it).slice(0, 600)}`);
    }
    assert.ok(result, `run printed JSON (exit ${r.code}): ${r.stderr.slice(-2000)}`);
    assert.is(result!.failed, 0, 'no assertion failed');
    assert.ok(result!.passed > 0, 'some assertions ran');
    assert.ok(JSON.stringify(result!.items).includes(RULES_SEEN[mode] ?? '?'), `the rule checks read ${mode} state (${RULES_SEEN[mode]})`);
    assert.is(r.code, 0);
  }

  async function cli(argv: string[]): Promise<string> {
    const t0 = performance.now();
    const r = await run(['node', CLI, ...argv], { allowFailure: true, timeoutMs: 20 * 60_000 });
    console.log(`  svclab ${argv.join(' ')}: exit ${r.code} in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    assert.is(r.code, 0, `svclab ${argv.join(' ')}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  }

  /** After `proxy restart` from `from` to `to`, the old mode's kernel state is gone (as upstream's --cleanup leaves it). */
  async function assertOldModeGone(lab: string, from: string, to: string): Promise<void> {
    const onNode = (argv: string[]) => cli(['exec', '--lab', lab, 'node-02', '--', ...argv]);
    if (from === 'iptables' && to !== 'iptables') {
      assert.not.match(await onNode(['iptables-save', '-t', 'nat']), /KUBE-SVC-|KUBE-SEP-/, `the iptables mode's service chains are gone after switching to ${to}`);
    }
    if (from === 'ipvs' && to !== 'ipvs') {
      assert.not.match(await onNode(['ipvsadm', '-Ln']), /^TCP|^UDP/m, `no IPVS virtual server is left after switching to ${to}`);
      assert.not.match(await onNode(['ip', '-o', 'link', 'show']), /kube-ipvs0/, `kube-ipvs0 is gone after switching to ${to}`);
      assert.not.match(await onNode(['ipset', 'list', '-n']), /KUBE-/, `the IPVS ipsets are gone after switching to ${to}`);
    }
  }

  /** `svclab trace` of one real connection in `mode` on the VMs: answered by an endpoint, found where that mode keeps it. */
  async function assertTraced(lab: string, source: string, mode: string): Promise<void> {
    const [from, to] = source === 'nodeport-web' ? ['external', 'node-01:30007'] : ['app=client', 'db-service:3306'];
    const t = JSON.parse(await cli(['trace', '--lab', lab, from, to, '-o', 'json'])) as {
      mode: string; connection: { ok: boolean }; endpoints: { podName?: string }[];
      nodes: { ipvs?: { virtual: string; real: string } }[]; answered?: { pod?: string; isEndpoint?: boolean; source: string };
    };
    console.log(`    trace ${from} → ${to} (${mode}): answered by ${t.answered?.pod} via ${t.answered?.source}${t.nodes[0]?.ipvs ? `, ipvs ${t.nodes[0].ipvs.virtual} → ${t.nodes[0].ipvs.real}` : ''}`);
    assert.is(t.mode, mode);
    assert.ok(t.connection.ok, 'the traced connection succeeded');
    assert.ok(t.answered?.isEndpoint, `answered by an endpoint: ${JSON.stringify(t.answered)}`);
    assert.ok(t.endpoints.some((e) => e.podName === t.answered!.pod), `${t.answered?.pod} is one of the Service's endpoints`);
    const where: Record<string, string> = { ipvs: 'ipvs', userspace: 'userspace proxy' };
    if (where[mode]) assert.is(t.answered!.source, where[mode], `the answer was found in the ${mode} mode's own state`);
    if (mode === 'ipvs') assert.ok(t.nodes[0].ipvs, 'the IPVS connection entry is in the trace');
  }

  for (const { lab: source, modes } of runs) {
    const title = modes.length === 1
      ? `svclab run ${source} --driver libvirt --mode ${modes[0]} --down passes and leaves nothing`
      : `${source} on the same VMs in ${modes.join(', then ')} mode (proxy restart + apply, as pulumi up does after a mode change), then nothing left`;
    test(title, async () => {
      const lab = `vm-${source.slice(0, 8)}-${modes[0].slice(0, 3)}-${randomBytes(2).toString('hex')}`;
      const dir = mkdtempSync(join(tmpdir(), 'svclab-vmlab-'));
      const file = join(dir, `${lab}.yaml`);
      const text = readFileSync(join(ROOT, 'labs', `${source}.yaml`), 'utf8');
      assert.match(text, new RegExp(`^ {2}name: ${source}$`, 'm'));
      writeFileSync(file, text.replace(new RegExp(`^ {2}name: ${source}$`, 'm'), `  name: ${lab}`));
      try {
        if (modes.length === 1) {
          await runScenario(source, file, modes[0], ['--down']);
        } else {
          await runScenario(source, file, modes[0], []);
          let previous = modes[0];
          for (const mode of modes.slice(1)) {
            await cli(['proxy', 'restart', lab, '--mode', mode]);
            // The scenario changed the workloads (scaled, deleted a Service): the lab file applies them back.
            await cli(['apply', '-f', file, '--lab', lab]);
            await assertOldModeGone(lab, previous, mode);
            previous = mode;
            await assertTraced(lab, source, mode);
            await runScenario(source, file, mode, []);
          }
          await cli(['down', lab]);
        }
      } finally {
        // After a failure (or a crash) nothing may stay behind either.
        if (existsSync(`/var/lib/svclab/${lab}`) || (await listNetns()).some((n) => n.startsWith(`svclab-${lab}-`))) {
          await run(['node', CLI, 'down', lab], { allowFailure: true, timeoutMs: 5 * 60_000 });
        }
        rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(await leftovers(lab), [], 'nothing of the lab is left');
    });
  }
}

test.run();
