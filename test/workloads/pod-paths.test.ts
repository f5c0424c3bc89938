import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerLogFile, containerPidFile, podDir, podExecArgv, podNetns } from '../../src/workloads/pod-paths.ts';
import { containerLaunchArgv, HOSTNAME_SCRIPT } from '../../src/workloads/containers.ts';

test('pod dir, netns, pid and log paths', () => {
  const dir = podDir('/var/lib/svclab/lab', 'default', 'db-7c9f-x2');
  assert.is(dir, '/var/lib/svclab/lab/pods/default_db-7c9f-x2');
  assert.is(containerPidFile(dir, 'mariadb'), `${dir}/mariadb.pid`);
  assert.is(containerLogFile(dir, 'mariadb'), `${dir}/mariadb.log`);
  assert.is(podNetns('svclab-lab-p-', 'default', 'db-0'), 'svclab-lab-p-default_db-0');
});

test('netns names stay unique where a dash would collide', () => {
  assert.is.not(podNetns('p-', 'a-b', 'c'), podNetns('p-', 'a', 'b-c'));
});

test('names that could escape a path or a command line are refused', () => {
  for (const [ns, name] of [['default', '../etc'], ['default', 'a/b'], ['Default', 'x'], ['default', '-rf'], ['a_b', 'x'], ['default', '']]) {
    assert.throws(() => podDir('/s', ns, name), /not a valid/, `${ns}/${name}`);
  }
  assert.throws(() => containerPidFile('/s', '../x'), /not a valid/);
});

test('exec enters the network, UTS and mount namespaces of the container pid', () => {
  assert.equal(podExecArgv(4242, ['getent', 'hosts', 'db']), ['nsenter', '-t', '4242', '-n', '-u', '-m', '--', 'getent', 'hosts', 'db']);
  assert.throws(() => podExecArgv(1, ['sh']));
});

test('a container starts through ip netns exec and unshare --uts, the hostname and argv passed as parameters', () => {
  const argv = containerLaunchArgv('svclab-lab-p-default_web-0', 'web-0', ['nginx', '-g', '$(rm -rf /)']);
  assert.equal(argv, ['ip', 'netns', 'exec', 'svclab-lab-p-default_web-0', 'unshare', '--uts', '--', 'sh', '-c', HOSTNAME_SCRIPT, 'pod', 'web-0', 'nginx', '-g', '$(rm -rf /)']);
  assert.is(HOSTNAME_SCRIPT, 'hostname "$1" && shift && exec "$@"');
});

test.run();
