// The learner's kubeconfig, as kind writes it: `svclab up` merges a cluster,
// a user and a context all named svclab-<lab> into the file kubectl reads
// ($KUBECONFIG's first path, else ~/.kube/config) and makes the context
// current; `svclab down` removes exactly those three entries (and
// current-context when it pointed there). The yaml package edits the
// document in place, so every other entry, and its comments, stay as they were.
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Document, isMap, isSeq, parseDocument, stringify, YAMLSeq } from 'yaml';
import { LabFileError } from '../util/errors.ts';

export interface LabCredentials {
  lab: string;
  /** https://127.0.0.1:<port> */
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The name of the cluster, user and context of a lab (kind says kind-<name>). */
export const contextName = (lab: string) => `svclab-${lab}`;

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/** The lab's own kubeconfig (what `svclab kubeconfig LAB` prints). */
export function labKubeconfig(c: LabCredentials): Record<string, unknown> {
  const name = contextName(c.lab);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: c.server, 'certificate-authority-data': b64(c.caPem) } }],
    users: [{ name, user: { 'client-certificate-data': b64(c.certPem), 'client-key-data': b64(c.keyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  };
}

export function labKubeconfigText(c: LabCredentials): string {
  return stringify(labKubeconfig(c));
}

/** The file kubectl would write to: the first path of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const first = (env.KUBECONFIG ?? '').split(':').find(Boolean);
  return first ?? join(home, '.kube', 'config');
}

function load(text: string | undefined, file: string): Document {
  // A new file starts as a block mapping, as kubectl writes it (parsing "{}" would make it flow style).
  const doc = text?.trim() ? parseDocument(text) : new Document({});
  if (doc.errors.length) throw new LabFileError(`${file} is not valid YAML: ${doc.errors[0].message}`, file);
  if (!isMap(doc.contents)) throw new LabFileError(`${file} is not a kubeconfig (its top level is not a mapping)`, file);
  return doc;
}

/** Replaces (or appends) the entry called `name` in the list under `key`, leaving the other entries alone. */
function upsert(doc: Document, key: string, entry: Record<string, unknown>, file: string): void {
  let seq = doc.get(key);
  if (seq === undefined || seq === null) {
    seq = new YAMLSeq();
    doc.set(key, seq);
  }
  if (!isSeq(seq)) throw new LabFileError(`${file}: ${key} is not a list`, file);
  const at = seq.items.findIndex((it) => isMap(it) && it.get('name') === entry.name);
  const node = doc.createNode(entry);
  if (at >= 0) seq.items[at] = node;
  else seq.items.push(node);
}

function drop(doc: Document, key: string, name: string): boolean {
  const seq = doc.get(key);
  if (!isSeq(seq)) return false;
  const before = seq.items.length;
  seq.items = seq.items.filter((it) => !(isMap(it) && it.get('name') === name));
  return seq.items.length !== before;
}

/** `existing` (a kubeconfig's text, or nothing) with the lab's entries merged in and, if asked, made current. */
export function mergeKubeconfig(existing: string | undefined, c: LabCredentials, makeCurrent = true, file = 'kubeconfig'): string {
  const doc = load(existing, file);
  if (!doc.has('apiVersion')) doc.set('apiVersion', 'v1');
  if (!doc.has('kind')) doc.set('kind', 'Config');
  const lab = labKubeconfig(c) as { clusters: Record<string, unknown>[]; users: Record<string, unknown>[]; contexts: Record<string, unknown>[] };
  upsert(doc, 'clusters', lab.clusters[0], file);
  upsert(doc, 'users', lab.users[0], file);
  upsert(doc, 'contexts', lab.contexts[0], file);
  if (makeCurrent) doc.set('current-context', contextName(c.lab));
  return doc.toString();
}

/** `existing` without the lab's cluster, user and context; current-context cleared if it named the lab. */
export function removeFromKubeconfig(existing: string, lab: string, file = 'kubeconfig'): { text: string; removed: boolean } {
  const doc = load(existing, file);
  const name = contextName(lab);
  const removed = [drop(doc, 'clusters', name), drop(doc, 'users', name), drop(doc, 'contexts', name)].some(Boolean);
  // kubectl writes an unset current-context as "", as here.
  const current = doc.get('current-context') === name;
  if (current) doc.set('current-context', '');
  return { text: doc.toString(), removed: removed || current };
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes through a temporary file; a file made here is 0600 (it holds a private key). */
async function writeKeepingMode(file: string, text: string, existed: boolean): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.svclab-tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  if (existed) {
    await chmod(tmp, (await stat(file)).mode & 0o777);
  }
  await rename(tmp, file);
}

/** Merges the lab's context into the user's kubeconfig and makes it current; returns the file. */
export async function installContext(c: LabCredentials, file = kubeconfigPath()): Promise<string> {
  const existing = await readIfThere(file);
  await writeKeepingMode(file, mergeKubeconfig(existing, c, true, file), existing !== undefined);
  return file;
}

/** Removes the lab's entries from the user's kubeconfig; returns the file when something was removed. */
export async function uninstallContext(lab: string, file = kubeconfigPath()): Promise<string | undefined> {
  const existing = await readIfThere(file);
  if (existing === undefined) return undefined;
  const { text, removed } = removeFromKubeconfig(existing, lab, file);
  if (!removed) return undefined;
  await writeKeepingMode(file, text, true);
  return file;
}
