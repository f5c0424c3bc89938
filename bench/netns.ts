// Throw-away network namespaces for benchmarks that touch the kernel's rules:
// named svcbench-<pid>-<n> (never a lab's svclab-… names), always deleted.
import { run } from '../src/util/exec.ts';
import { EnvironmentError } from '../src/util/errors.ts';

let counter = 0;

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new EnvironmentError(`${what} needs root (it creates network namespaces)`, 'run it with sudo');
}

/** Runs fn with the name of a fresh, empty network namespace; deletes it afterwards, whatever happens. */
export async function withNetns<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `svcbench-${process.pid}-${counter++}`;
  await run(['ip', 'netns', 'add', ns]);
  try {
    // Loopback up, as in any lab node; nothing else exists in it.
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return await fn(ns);
  } finally {
    await run(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
}
