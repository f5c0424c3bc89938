// "No code outside the mode modules compares a mode string" (issue 11): a scan of
// src for a comparison with, or a `case` of, a proxy mode's name outside the
// mode folders src/proxy/<mode>/ and the mode list src/k8s/proxy-mode.ts.
// Naming a mode in text (help, messages, lists) is fine; deciding on it is not —
// such a decision belongs in that mode's module, behind the registry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { PROXY_MODES } from '../../src/k8s/proxy-mode.ts';
import { sourceFiles } from '../architecture/import-graph.ts';

const NAMES = PROXY_MODES.join('|');
const DECISIONS = [
  new RegExp(`[!=]==?\\s*['"\`](${NAMES})['"\`]`),
  new RegExp(`['"\`](${NAMES})['"\`]\\s*[!=]==?`),
  new RegExp(`case\\s+['"\`](${NAMES})['"\`]\\s*:`),
  /\bmode\s*[!=]==?\s*['"`]/,
];
// The node network's plan has actions of kind 'iptables' (the gateway's own rules, a tool, not a mode).
const ACTION_KIND = /\bkind\s*[!=]==?|[!=]==?\s*[\w.]*\bkind\b/;
const MODE_HOMES = new RegExp(`^src/proxy/(${NAMES})/|^src/k8s/proxy-mode\\.ts$`);

test('no file outside the mode modules decides on a proxy mode name', () => {
  const found: string[] = [];
  for (const file of sourceFiles('src')) {
    if (MODE_HOMES.test(file)) continue;
    let switchOn = '';
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      switchOn = /\bswitch\s*\(([^)]*)\)/.exec(line)?.[1] ?? switchOn;
      if (ACTION_KIND.test(line) || (/^\s*case\b/.test(line) && /\bkind$/.test(switchOn))) return;
      if (DECISIONS.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(found, [], `decisions on a mode name outside src/proxy/<mode>/:\n  ${found.join('\n  ')}`);
});

test('the scan does catch a decision on a mode name', () => {
  for (const line of ["if (mode === 'nftables') {", "const counters = mode !== 'nftables';", "case 'ipvs': return x;", "if ('userspace' === ctx.mode)"]) {
    assert.ok(DECISIONS.some((re) => re.test(line)), line);
  }
  for (const line of ["`--mode ${PROXY_MODES.join(', ')}`", "console.log(`kube-proxy in ${mode} mode`);", "'iptables | nftables | ipvs | userspace'"]) {
    assert.not.ok(DECISIONS.some((re) => re.test(line)), line);
  }
});

test.run();
