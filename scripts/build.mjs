// Bundles the whole product into one ESM file: the CLI on the host and the node
// daemons (control plane, kubelet, proxy) run from it, and the libvirt driver
// copies this single file to VMs that only have Debian's Node 18.
import { build } from 'esbuild';

// The OpenAPI schemas the apiserver serves, regenerated from kubernetes-types (deterministic: an unchanged tree gives the committed file).
await import('./gen-openapi.mjs');

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/svclab.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS deps may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
