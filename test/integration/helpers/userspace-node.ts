// Runs inside a test's node namespace (via `ip netns exec`): tagged HTTP and
// UDP backends, the userspace proxier bound to 0.0.0.0, and its portal rules
// applied to this namespace's iptables. Prints {"ports": {...}} once ready and
// shuts down when stdin closes.
//   argv[2]: JSON { nodeIPs, http: [{ip, port, name}], udp: [{ip, port, name}], services: [[ServicePortInfo, EndpointInfo[]], ...] }
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import { UserspaceProxier } from '../../../src/proxy/userspace/proxier.ts';
import { renderUserspace } from '../../../src/proxy/userspace/render.ts';
import { applyUserspaceRules } from '../../../src/proxy/userspace/apply.ts';
import { DEFAULT_SETTINGS, type EndpointInfo, type ProxyState, type ServicePortInfo } from '../../../src/proxy/model.ts';
import { run } from '../../../src/util/exec.ts';

interface Config {
  nodeIPs: string[];
  http: { ip: string; port: number; name: string }[];
  udp: { ip: string; port: number; name: string }[];
  services: [ServicePortInfo, EndpointInfo[]][];
}
const cfg = JSON.parse(process.argv[2]) as Config;

const servers: { close(): void }[] = [];
for (const b of cfg.http) {
  const s = http.createServer((_req, res) => res.end(b.name));
  await new Promise<void>((r) => s.listen(b.port, b.ip, r));
  servers.push(s);
}
for (const b of cfg.udp) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`${b.name}:${m}`, r.port, r.address));
  await new Promise<void>((r) => s.bind(b.port, b.ip, r));
  servers.push(s);
}

const state: ProxyState = {
  services: new Map(cfg.services.map(([s]) => [s.key, s])),
  endpoints: new Map(cfg.services.map(([s, e]) => [s.key, e])),
  serviceCIDRs: [],
};
const settings = { ...DEFAULT_SETTINGS, nodeName: 'node-01', nodeIPs: cfg.nodeIPs };
const proxier = new UserspaceProxier({ bindAddress: '0.0.0.0', nodeIPs: cfg.nodeIPs, shuffle: (e) => [...e] });
const ports = await proxier.update(state);
const rules = renderUserspace(state, settings, ports, '0.0.0.0');
await applyUserspaceRules({ name: 'node-01', exec: (argv, o) => run(argv, o) }, rules);
process.stdout.write(JSON.stringify({ ports: Object.fromEntries(ports) }) + '\n');

process.stdin.resume();
process.stdin.on('end', async () => {
  await proxier.close();
  for (const s of servers) s.close();
  process.exit(0);
});
