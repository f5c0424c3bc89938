// The IPVS connection table parse (src/proxy/ipvs/connections.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIpvsConnections } from '../../../src/proxy/ipvs/connections.ts';

test('ipvsadm -Lnc: virtual server and the real server picked', () => {
  const text = [
    'IPVS connection entries',
    'pro expire state       source             virtual            destination',
    'TCP 01:58  TIME_WAIT   10.244.2.2:21001   10.96.0.20:3306    10.244.1.3:3306',
    'TCP 14:59  ESTABLISHED 192.168.49.254:40112 192.168.49.2:30007 10.244.2.2:80',
    'UDP 04:59  UDP         10.244.1.2:53311   10.96.0.10:53      10.244.0.2:53',
  ].join('\n');
  const conns = parseIpvsConnections(text);
  assert.is(conns.length, 3);
  assert.equal(conns[0], { proto: 'TCP', expire: '01:58', state: 'TIME_WAIT', client: '10.244.2.2:21001', virtual: '10.96.0.20:3306', real: '10.244.1.3:3306' });
  assert.is(conns[1].real, '10.244.2.2:80');
});

test.run();
