// The guest agent: the control channel between the host and a lab VM. It runs
// inside every VM on Debian's Node 18 and serves one virtio-serial port
// (/dev/virtio-ports/org.svclab.agent), so it needs no network path from the
// host and survives whatever a getty does on the serial console.
//
// Protocol: JSON lines. The host sends {id, op, ...}; the agent answers
// {id, ...} or {id, error}. Ops:
//   ping                         -> {hostname, uptime}
//   exec {argv, input?, env?, cwd?, timeoutMs?} -> {code, stdout, stderr}
//   daemon {argv, log, env?}     -> {pid}   (setsid, outlives the agent)
//   write {path, data(base64), gzip?, mode?, append?} -> {ok}
// ping lists `features` (e.g. "gzip"), so a host can talk to older images.
//   read {path}                  -> {data(base64)} | {missing: true}
// A host disconnect reads as EOF on the port: the agent drops any half line and
// keeps reading (a new host connection starts clean). Answers for a host that
// went away may reach the next one; the host ignores ids it did not send.
//
// It is kept as text (not a module of this program) because it is baked into
// the base image and its bytes are part of the image's cache key: it must be
// the same whether svclab runs from source or from the bundle. Plain JS, no
// template literals (this file wraps it in String.raw).
export const AGENT_SOURCE = String.raw`// svclab guest agent (generated into the image by svclab image build)
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';

const port = process.argv[2] || '/dev/virtio-ports/org.svclab.agent';
const stdio = port === '-';
const rfd = stdio ? 0 : fs.openSync(port, 'r+');
const wfd = stdio ? 1 : rfd;
const baseEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
};

let writing = Promise.resolve();
function send(msg) {
  const buf = Buffer.from(JSON.stringify(msg) + '\n');
  writing = writing.then(() => writeAll(buf)).catch(() => {});
}
function writeAll(buf) {
  return new Promise((resolve, reject) => {
    const step = (off) => {
      if (off >= buf.length) return resolve();
      fs.write(wfd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

function execOp(req) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(req.argv[0], req.argv.slice(1), {
        env: Object.assign({}, baseEnv, req.env || {}),
        cwd: req.cwd || '/',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      return resolve({ code: 127, stdout: '', stderr: String(err.message) });
    }
    let stdout = '';
    let stderr = '';
    let timer;
    if (req.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), req.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code === null ? 128 + (os.constants.signals[signal] || 1) : code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(req.input || '');
  });
}

function daemonOp(req) {
  fs.mkdirSync(path.dirname(req.log), { recursive: true });
  const out = fs.openSync(req.log, 'a');
  const child = spawn(req.argv[0], req.argv.slice(1), {
    env: Object.assign({}, baseEnv, req.env || {}),
    cwd: '/',
    detached: true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve({ pid: child.pid });
    });
  });
}

function writeOp(req) {
  fs.mkdirSync(path.dirname(req.path), { recursive: true });
  // virtio-serial moves a few hundred KiB/s under TCG: the host may gzip.
  const raw = Buffer.from(req.data || '', 'base64');
  const data = req.gzip ? zlib.gunzipSync(raw) : raw;
  if (req.append) fs.appendFileSync(req.path, data);
  else fs.writeFileSync(req.path, data);
  if (req.mode !== undefined) fs.chmodSync(req.path, req.mode);
  return { ok: true };
}

function readOp(req) {
  try {
    return { data: fs.readFileSync(req.path).toString('base64') };
  } catch (err) {
    if (err.code === 'ENOENT') return { missing: true };
    throw err;
  }
}

const ops = {
  ping: () => ({ hostname: os.hostname(), uptime: os.uptime(), features: ['gzip'] }),
  exec: execOp,
  daemon: daemonOp,
  write: writeOp,
  read: readOp,
};

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return; // noise from a previous connection's half line
  }
  const op = ops[req.op];
  try {
    if (!op) throw new Error('unknown op ' + req.op);
    send(Object.assign({ id: req.id }, await op(req)));
  } catch (err) {
    send({ id: req.id, error: String((err && err.message) || err) });
  }
}

const chunk = Buffer.alloc(1 << 16);
let decoder = new StringDecoder('utf8');
let pending = '';
function readLoop() {
  fs.read(rfd, chunk, 0, chunk.length, null, (err, n) => {
    if (err || n === 0) {
      if (stdio) return; // tests: stdin closed, finish in-flight work and exit
      // No host connected (virtio ports read EOF then): start clean and wait.
      pending = '';
      decoder = new StringDecoder('utf8');
      return setTimeout(readLoop, err ? 1000 : 150);
    }
    const text = decoder.write(chunk.subarray(0, n));
    // Search only the new text for the end of a line: a big write arrives in many reads.
    let from = pending.length;
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n', from)) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      from = 0;
      if (line.trim()) handle(line);
    }
    readLoop();
  });
}
readLoop();
`;
