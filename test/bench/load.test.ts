// The mode benchmark's readers of wrk and curl output (bench/load.ts), on output
// captured from Debian's wrk 4.1.0 and curl in a lab pod.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { curlArgv, parseCurl, parseDuration, parseWrk } from '../../bench/load.ts';

const WRK = `Running 3s test @ http://10.244.1.2/small
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   443.94us    0.96ms  16.09ms   94.71%
    Req/Sec    14.12k     3.07k   21.37k    76.67%
  Latency Distribution
     50%  232.00us
     75%  332.00us
     90%  456.00us
     99%    4.44ms
  42114 requests in 3.00s, 10.12MB read
Requests/sec:  14025.38
Transfer/sec:      3.37MB
`;

test('wrk: requests, requests/s and the 50%/99% latencies in seconds', () => {
  const r = parseWrk(WRK);
  assert.is(r.requests, 42114);
  assert.is(r.rps, 14025.38);
  assert.ok(Math.abs(r.p50 - 232e-6) < 1e-12);
  assert.ok(Math.abs(r.p99 - 4.44e-3) < 1e-12);
  assert.is(r.errors, 0);
});

test('wrk: socket errors and non-2xx answers are counted', () => {
  const r = parseWrk(`${WRK}  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 4\n`);
  assert.is(r.errors, 9);
});

test('wrk: output without a latency distribution is refused', () => {
  assert.throws(() => parseWrk('unable to connect to 10.0.0.1:80 Connection refused\n'), /no request count|no 50%/);
});

test('durations in us, ms and s', () => {
  assert.is(parseDuration('2.00s'), 2);
  assert.is(parseDuration('1.5ms'), 0.0015);
  assert.throws(() => parseDuration('fast'));
});

test('curl: one "bytes seconds" line per transfer; the argv downloads the URL that many times to /dev/null', () => {
  const r = parseCurl('104857600 0.055954\n104857600 0.075073\n');
  assert.equal(r.map((t) => t.bytes), [104857600, 104857600]);
  assert.ok(Math.abs(r[0].bytesPerSecond - 104857600 / 0.055954) < 1e-3);
  const argv = curlArgv('http://10.96.0.20/100mb.bin', 2, 60);
  assert.is(argv.filter((w) => w === 'http://10.96.0.20/100mb.bin').length, 2);
  assert.is(argv.filter((w) => w === '/dev/null').length, 2);
});

test.run();
