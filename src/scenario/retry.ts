// Checks on a live system must retry: rules and endpoints converge within a
// sync period, pods become ready, DNS catches up. Retry until the deadline,
// keep the last failure's message for the report.
import { setTimeout as sleep } from 'node:timers/promises';

export async function retryUntil<T>(timeoutMs: number, fn: () => Promise<T>, intervalMs = 500): Promise<{ value: T; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      return { value: await fn(), attempts };
    } catch (err) {
      if (Date.now() + intervalMs > deadline) throw err;
      await sleep(intervalMs);
    }
  }
}
