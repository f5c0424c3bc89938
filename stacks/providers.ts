// Pulumi dynamic providers for the libvirt resources of a lab: the node
// network, a node's volume, a node's domain, and the svclab bundle inside it.
// There is no maintained libvirt package for Pulumi on npm, and svclab needs
// its own shape anyway (a bridge in the lab's namespace, qemu inside it), so
// these are thin wrappers over src/cluster/libvirt/resources.ts — the same code
// the CLI driver runs.
//
// Pulumi serializes a dynamic provider's functions into the stack state and
// runs them in its provider host. Serialized closures must not capture
// imported modules (they drag in Node internals that cannot be serialized), so
// each method captures only the implementation's path and imports it at run
// time (through tsx, which loads the TypeScript source).
import * as pulumi from '@pulumi/pulumi';
import type * as Impl from '../src/cluster/libvirt/resources.ts';

const IMPL = new URL('../src/cluster/libvirt/resources.ts', import.meta.url).href;

async function impl(): Promise<typeof Impl> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(IMPL, IMPL)) as typeof Impl;
}

/** A diff that replaces when any of `keys` changed and updates when any of `updates` did. */
function differ(keys: string[], updates: string[] = []) {
  return async (_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> => {
    const changed = (k: string) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null);
    const replaces = keys.filter(changed);
    return { changes: replaces.length > 0 || updates.some(changed), replaces, deleteBeforeReplace: true };
  };
}

export const networkProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return (await impl()).createNetwork(inputs as Impl.NetworkInputs);
  },
  async read(id, props) {
    const outs = await (await impl()).readNetwork(props as Impl.NetworkOutputs);
    return outs ? { id, props: outs } : {};
  },
  async delete(_id, props) {
    await (await impl()).deleteNetworkResource(props as Impl.NetworkOutputs);
  },
  diff: differ(['lab', 'nodeNetwork', 'gateway', 'external']),
};

export const volumeProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return (await impl()).createVolume(inputs as Impl.VolumeInputs);
  },
  async read(id, props) {
    const outs = await (await impl()).readVolume(props as Impl.VolumeOutputs);
    return outs ? { id, props: outs } : {};
  },
  async delete(_id, props) {
    await (await impl()).deleteVolume(props as Impl.VolumeOutputs);
  },
  diff: differ(['lab', 'node', 'image']),
};

export const domainProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return (await impl()).createDomain(inputs as Impl.DomainInputs);
  },
  async read(id, props) {
    const outs = await (await impl()).readDomain(props as Impl.DomainOutputs);
    return outs ? { id, props: outs } : {};
  },
  async delete(_id, props) {
    await (await impl()).deleteDomain(props as Impl.DomainOutputs);
  },
  diff: differ(['layout', 'index', 'disk', 'image', 'memoryMiB', 'vcpus', 'accel', 'tbCacheMiB', 'cpuModel', 'backend', 'uri', 'nic']),
};

export const bundleProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return (await impl()).copyBundle(inputs as Impl.BundleInputs);
  },
  async read(id, props) {
    const outs = await (await impl()).readBundle(props as Impl.BundleInputs);
    return outs ? { id, props: outs } : {};
  },
  async update(_id, _olds, news) {
    return { outs: (await (await impl()).copyBundle(news as Impl.BundleInputs)).outs };
  },
  async delete() {
    // The bundle goes with the VM.
  },
  diff: differ(['lab', 'node'], ['bundle', 'sha256']),
};

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** The lab's node network: a bridge in namespace svclab-<lab>-net plus the external client. */
export class LabNetwork extends pulumi.dynamic.Resource {
  declare readonly netns: pulumi.Output<string>;
  declare readonly externalNetns: pulumi.Output<string>;
  constructor(name: string, args: In<Impl.NetworkInputs>, opts?: pulumi.CustomResourceOptions) {
    super(networkProvider, name, { ...args, netns: undefined, externalNetns: undefined }, opts, 'svclab', 'LabNetwork');
  }
}

/** A node's disk: a qcow2 overlay on the base image. */
export class NodeVolume extends pulumi.dynamic.Resource {
  declare readonly disk: pulumi.Output<string>;
  constructor(name: string, args: In<Impl.VolumeInputs>, opts?: pulumi.CustomResourceOptions) {
    super(volumeProvider, name, { ...args, disk: undefined, base: undefined, kernel: undefined, initrd: undefined }, opts, 'svclab', 'NodeVolume');
  }
}

/** A node's VM (a libvirt domain, or qemu directly with backend "qemu"), up and configured. */
export class NodeDomain extends pulumi.dynamic.Resource {
  declare readonly domain: pulumi.Output<string>;
  declare readonly ip: pulumi.Output<string>;
  declare readonly agentSocket: pulumi.Output<string>;
  constructor(name: string, args: In<Impl.DomainInputs>, opts?: pulumi.CustomResourceOptions) {
    super(domainProvider, name, { ...args, domain: undefined, node: undefined, ip: undefined, agentSocket: undefined, backendKind: undefined, accelUsed: undefined }, opts, 'svclab', 'NodeDomain');
  }
}

/** dist/svclab.mjs inside a VM; a new build is copied again without touching the VM. */
export class NodeBundle extends pulumi.dynamic.Resource {
  constructor(name: string, args: In<Impl.BundleInputs>, opts?: pulumi.CustomResourceOptions) {
    super(bundleProvider, name, args, opts, 'svclab', 'NodeBundle');
  }
}
