// IptablesBackend.sync against a recording command runner (no kernel): a failed partial
// restore is counted and followed at once by a full sync, as upstream's syncProxyRules does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExecOptions, ExecResult } from '../../../src/util/exec.ts';
import { CommandError } from '../../../src/util/errors.ts';
import type { CommandRunner } from '../../../src/proxy/jump-rules.ts';
import { IptablesBackend } from '../../../src/proxy/iptables/backend.ts';
import { ProxyMetrics } from '../../../src/proxy/metrics.ts';
import { servicePortChainNames } from '../../../src/proxy/chain-names.ts';
import { buildProxyState } from '../../../src/proxy/proxy-state.ts';
import { makeService, makeSlice, upstreamSettings } from './helpers.ts';

/** Answers iptables-save with an empty dump; fails the next `--counters` restore when told to. */
class RecordingRunner implements CommandRunner {
  readonly name = 'test-node';
  readonly calls: Array<{ argv: string[]; input?: string }> = [];
  failNextRestore = false;

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv, input: opts.input });
    if (argv.includes('--counters') && this.failNextRestore) {
      this.failNextRestore = false;
      throw new CommandError(argv, 1, 'iptables-restore: line 42 failed', this.name);
    }
    return { code: 0, stdout: '', stderr: '' };
  }

  tools(): string[] {
    return this.calls.map((c) => `${c.argv[0]}${c.argv.includes('--counters') ? ' --counters' : ''}`);
  }
}

function objects(endpointsOfB: string[]) {
  const svc = (name: string, ip: string) => makeService('ns1', name, (s) => {
    s.spec.clusterIP = ip;
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
  });
  const slice = (name: string, ips: string[]) => makeSlice('ns1', name, 1, (e) => {
    e.endpoints = ips.map((ip) => ({ addresses: [ip] }));
    e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
  });
  return { services: [svc('a', '172.30.0.41'), svc('b', '172.30.0.42')], slices: [slice('a', ['10.180.0.1']), slice('b', endpointsOfB)] };
}

test('a failed partial restore is counted and followed by a full sync in the same call', async () => {
  const settings = upstreamSettings();
  const runner = new RecordingRunner();
  const backend = new IptablesBackend(settings, { runner, iptablesBackend: 'nft' });
  const metrics = new ProxyMetrics();
  const first = await backend.sync(buildProxyState(objects(['10.180.0.2']), settings), undefined, metrics);
  assert.is(first.full, true);

  runner.calls.length = 0;
  runner.failNextRestore = true;
  const next = buildProxyState(objects(['10.180.0.2', '10.180.0.3']), settings);
  const outcome = await backend.sync(next, new Set(['ns1/b:p80']), metrics);
  assert.is(outcome.full, true, 'the fallback is a full sync');
  assert.is(metrics.partialRestoreFailures.get(), 1);
  assert.is(metrics.restoreFailures.get(), 0, 'the full sync succeeded');
  const tools = runner.tools();
  assert.equal([tools[0], tools[1], tools.at(-1)], ['iptables-nft-restore --counters', 'iptables-nft-save', 'iptables-nft-restore --counters'], 'partial restore, then a full sync starting from iptables-save');

  const svcChain = (svc: string) => servicePortChainNames(`ns1/${svc}:p80`, 'tcp').clusterPolicy;
  const partial = runner.calls[0].input!;
  const full = runner.calls.at(-1)!.input!;
  assert.ok(partial.includes(`:${svcChain('b')} `) && !partial.includes(`:${svcChain('a')} `), 'the partial payload wrote only b');
  assert.ok(full.includes(`:${svcChain('a')} `) && full.includes(`:${svcChain('b')} `), 'the full payload writes every service');
});

test('a failed full restore is counted and thrown: the proxier retries with a full sync', async () => {
  const settings = upstreamSettings();
  const runner = new RecordingRunner();
  const backend = new IptablesBackend(settings, { runner, iptablesBackend: 'nft' });
  const metrics = new ProxyMetrics();
  runner.failNextRestore = true;
  let thrown: unknown;
  await backend.sync(buildProxyState(objects(['10.180.0.2']), settings), undefined, metrics).catch((e) => (thrown = e));
  assert.instance(thrown, CommandError);
  assert.equal([metrics.restoreFailures.get(), metrics.partialRestoreFailures.get()], [1, 0]);
});

test.run();
