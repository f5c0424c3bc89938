// Brings a netns lab up slowly, for the "kill `up` half-way" test: the
// progress callback blocks for a while at each step, so the parent can
// SIGKILL this process between two steps. Argument: the layout as JSON.
import { up } from '../../../src/cluster/netns/driver.ts';

const pause = new Int32Array(new SharedArrayBuffer(4));
await up(JSON.parse(process.argv[2]), (phase, detail) => {
  process.stdout.write(`${phase} ${detail ?? ''}\n`);
  Atomics.wait(pause, 0, 0, 150);
});
process.stdout.write('up\n');
