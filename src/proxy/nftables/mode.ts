// nftables mode: one table ip kube-proxy with verdict maps (service-ips,
// service-nodeports), written as one `nft -f` transaction.
import { access, constants } from 'node:fs/promises';
import { EnvironmentError } from '../../util/errors.ts';
import type { ProxyModeModule } from '../mode-module.ts';
import { fullTransaction, renderNftables } from './render.ts';
import { nftablesTracer } from './tracer.ts';

const NFT = '/usr/sbin/nft';

export const nftablesMode: ProxyModeModule = {
  name: 'nftables',
  renders: 'the transaction for table ip kube-proxy',
  // Upstream's nftables proxier keeps the service CIDRs in a set of its own (for the no-endpoint drop).
  tracer: nftablesTracer,
  watchesServiceCIDRs: true,
  render(state, settings) {
    const r = renderNftables(state, settings);
    return { text: fullTransaction(r), data: r };
  },
  async createBackend(settings, opts) {
    const { NftablesBackend } = await import('./backend.ts');
    return new NftablesBackend(settings, opts);
  },
  async hostError(host) {
    if (!host.needsHostTools) return undefined; // VMs carry nft in their image.
    const hasNft = await access(NFT, constants.X_OK).then(() => true, () => false);
    return hasNft ? undefined : new EnvironmentError('nftables mode needs the nft tool', 'apt-get install nftables');
  },
  async checkRules(node, spec, want) {
    const { checkNftRules } = await import('./rules-check.ts');
    return checkNftRules(node, spec, want);
  },
};
