import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { loadObjects } from '../../lab/objects.ts';
import { DEFAULT_SETTINGS, type ProxySettings } from '../../proxy/model.ts';
import { buildProxyState } from '../../proxy/proxy-state.ts';
import { settingsFromConfig, type KubeProxyConfiguration } from '../../proxy/config.ts';
import type { EndpointSlice, Service, ServiceCIDR } from '../../k8s/objects.ts';
import { LabFileError } from '../../util/errors.ts';
import { proxyMode } from '../../proxy/modes.ts';
import { PROXY_MODES, parseProxyMode } from '../../k8s/proxy-mode.ts';

interface RenderOpts {
  mode: string;
  nodeName: string;
  nodeIp: string;
  config?: string;
  nfacct?: boolean;
  randomFully?: boolean;
  existingChains?: string;
  file: string;
  output?: string;
}

export default function register(program: Command): void {
  const proxy = program.command('proxy').description("our kube-proxy: print what it would program, or restart a lab's proxies in another mode");
  proxy
    .command('restart')
    .description("restart kube-proxy on every node of a lab that is up, in MODE (the old mode's rules are removed first)")
    .argument('[lab]', 'lab name or lab file (default: the only lab that is up)')
    .option('--mode <mode>', `${PROXY_MODES.join(' | ')} (default: the lab's current mode)`)
    .action(async (name: string | undefined, o: { mode?: string }) => {
      const { selectLab } = await import('../lab-select.ts');
      const { Progress } = await import('../../util/output.ts');
      const { loadLab } = await import('../../lab/load.ts');
      const { proxyModeError } = await import('../../lifecycle/preflight.ts');
      const { restartProxy } = await import('../../lifecycle/proxy-restart.ts');
      const running = await selectLab(name);
      const mode = o.mode === undefined ? running.record.mode : parseProxyMode(o.mode);
      const modeError = await proxyModeError(mode, running.driver.capabilities);
      if (modeError) throw modeError;
      // The lab file gives the KubeProxyConfiguration; its layout is the recorded one.
      const lab = { ...(await loadLab(running.record.file, { mode })), layout: running.record.layout };
      await restartProxy(lab, running, mode, new Progress(false));
    });
  proxy
    .command('render')
    .description('print the payload a full sync would apply for these Services and EndpointSlices (no host is touched)')
    .requiredOption('--mode <mode>', PROXY_MODES.join(' | '))
    .requiredOption('--node-name <name>', "this node's name (decides which endpoints are local)")
    .requiredOption('--node-ip <ips>', "every address of the node, comma-separated")
    .option('--config <file>', 'a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)')
    .option('--nfacct', 'the nfacct counters exist on this host (adds the localhost NodePort counter rules)')
    .option('--random-fully', 'MASQUERADE supports --random-fully on this host')
    .option('--existing-chains <file>', "the node's iptables-save output: stale kube-proxy chains found there are deleted")
    .requiredOption('-f, --file <objects>', 'multi-document YAML (or a v1 List) of Services, EndpointSlices, ServiceCIDRs')
    .option('-o, --output <format>', 'json: the same as structured data')
    .addHelpText('after', `\nWhat it prints, per mode:\n${PROXY_MODES.map((m) => `  ${m.padEnd(10)} ${proxyMode(m).renders}`).join('\n')}`)
    .action(async (o: RenderOpts) => {
      const mode = proxyMode(parseProxyMode(o.mode));
      const objects = await loadObjects(o.file);
      let config: KubeProxyConfiguration = {};
      if (o.config) {
        try {
          config = parseYaml(await readFile(o.config, 'utf8')) as KubeProxyConfiguration;
        } catch (err) {
          throw new LabFileError(`not a KubeProxyConfiguration: ${(err as Error).message}`, o.config);
        }
        if (config.kind && config.kind !== 'KubeProxyConfiguration') throw new LabFileError(`kind is ${config.kind}, expected KubeProxyConfiguration`, o.config);
      }
      const settings: ProxySettings = {
        ...DEFAULT_SETTINGS,
        ...settingsFromConfig(config),
        nodeName: o.nodeName,
        nodeIPs: o.nodeIp.split(',').map((s) => s.trim()).filter(Boolean),
        hasNfacct: Boolean(o.nfacct),
        randomFully: Boolean(o.randomFully),
      };
      const state = buildProxyState(
        {
          services: objects.filter((x): x is Service => x.kind === 'Service'),
          slices: objects.filter((x): x is EndpointSlice => x.kind === 'EndpointSlice'),
          serviceCIDRs: objects.filter((x): x is ServiceCIDR => x.kind === 'ServiceCIDR'),
        },
        settings,
      );
      const existing = o.existingChains ? await readFile(o.existingChains, 'utf8') : undefined;
      const payload = mode.render(state, settings, { existingIptablesSave: existing });
      if (o.output === 'json') console.log(JSON.stringify(payload.data, null, 2));
      else process.stdout.write(payload.text);
    });
}
