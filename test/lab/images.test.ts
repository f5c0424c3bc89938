import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageRepository, KNOWN_IMAGES, resolveImage } from '../../src/lab/images.ts';

test('the repository part decides, whatever the registry, tag or digest', () => {
  const cases: [string, string | undefined][] = [
    ['nginx', 'nginx'],
    ['nginx:1.27-alpine', 'nginx'],
    ['docker.io/library/nginx:latest', 'nginx'],
    ['mariadb:10.11', 'mariadb'],
    ['mysql:8.0', 'mariadb'],
    ['localhost:5000/mysql', 'mariadb'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', 'netexec'],
    ['k8s.gcr.io/e2e-test-images/agnhost:2.39', 'netexec'],
    ['gcr.io/kubernetes-e2e-test-images/netexec:1.1', 'netexec'],
    ['registry.k8s.io/echoserver:1.10', 'netexec'],
    ['registry.k8s.io/coredns/coredns:v1.11.1', 'dns'],
    ['coredns/coredns:1.11.1', 'dns'],
    ['busybox:1.36', 'shell'],
    ['alpine', 'shell'],
    ['curlimages/curl:8.8.0', 'shell'],
    ['docker.io/curlimages/curl', 'shell'],
    ['debian:12-slim', 'shell'],
    ['ubuntu@sha256:0123abcd', 'shell'],
    ['redis:7', undefined],
    ['someone/curl', undefined],
    ['my-nginx-fork/app', undefined],
    ['', undefined],
  ];
  for (const [image, kind] of cases) assert.is(resolveImage(image), kind, image);
});

test('imageRepository keeps a registry port and drops tag and digest', () => {
  assert.is(imageRepository('localhost:5000/team/nginx:1.2@sha256:ab'), 'localhost:5000/team/nginx');
});

test('the known patterns are listed for messages', () => {
  assert.ok(KNOWN_IMAGES.includes('nginx*'));
  assert.ok(KNOWN_IMAGES.includes('registry.k8s.io/e2e-test-images/agnhost*'));
  assert.ok(KNOWN_IMAGES.includes('curlimages/curl*'));
});

test.run();
