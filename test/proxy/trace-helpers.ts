// Test scaffolding for the mode tracers: a LabNode that records what it was
// asked to run and answers from a function, a monitor toolkit that hands out
// canned output, and a trace plan for a ClusterIP connection from a pod.
import type { LabNode } from '../../src/cluster/driver.ts';
import type { Monitor, TracePlan, TraceToolkit } from '../../src/proxy/tracer.ts';
import type { ExecOptions, ExecResult } from '../../src/util/exec.ts';

export interface FakeNode extends LabNode {
  readonly calls: { argv: string[]; input?: string }[];
}

export function fakeNode(name: string, ip: string, answer: (argv: string[]) => string = () => ''): FakeNode {
  const calls: FakeNode['calls'] = [];
  return {
    name,
    ip,
    calls,
    async exec(argv: string[], opts?: ExecOptions): Promise<ExecResult> {
      calls.push({ argv, ...(opts?.input !== undefined ? { input: opts.input } : {}) });
      return { code: 0, stdout: answer(argv), stderr: '' };
    },
    startDaemon: async () => 0,
    writeFile: async () => {},
    readFile: async () => undefined,
  };
}

/** Monitors that print `output(node name)` when stopped; `started` lists "node argv…" in start order. */
export function fakeToolkit(output: (node: string) => string = () => ''): TraceToolkit & { started: string[]; stopped: string[] } {
  const started: string[] = [];
  const stopped: string[] = [];
  return {
    started,
    stopped,
    async startMonitor(node: LabNode, argv: string[]): Promise<Monitor> {
      started.push(`${node.name} ${argv.join(' ')}`);
      return {
        async stop() {
          stopped.push(node.name);
          return output(node.name);
        },
      };
    },
  };
}

/** pod on node-03 (10.244.2.2) dials the db-service ClusterIP 10.106.141.239:3306; endpoints on node-03 and node-02. */
export function clusterIPPlan(overrides: Partial<TracePlan> = {}): TracePlan {
  return {
    entry: fakeNode('node-03', '192.168.49.4'),
    others: [fakeNode('node-01', '192.168.49.2'), fakeNode('node-02', '192.168.49.3')],
    origin: 'arriving',
    clientIP: '10.244.2.2',
    sport: 24001,
    dst: '10.106.141.239',
    dport: 3306,
    endpoints: [{ ip: '10.244.2.3', port: 3306 }, { ip: '10.244.1.2', port: 3306 }],
    ...overrides,
  };
}
