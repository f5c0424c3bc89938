// Request bodies in Kubernetes' protobuf encoding (Content-Type
// application/vnd.kubernetes.protobuf), which client-go — and so kubectl's
// generators (create service|deployment|namespace, run, expose) — sends for
// built-in kinds. Upstream's wire format (apimachinery
// pkg/runtime/serializer/protobuf): the 4-byte magic "k8s\0", then a
// runtime.Unknown whose typeMeta names the kind and whose raw bytes are the
// object's message. Decoded into the same JSON object kubectl would have sent
// with -o json, so the server handles one shape.
import protobuf from 'protobufjs';
import { API_RESOURCES, apiVersionOf } from '../resources.ts';
import { PROTO_FILES } from './schema.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** Upstream's protobuf.ProtoEncodingPrefix. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** Why a protobuf body was refused; the server turns it into a 400 Status with this text. */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

let root: protobuf.Root | undefined;
function schema(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    for (const text of Object.values(PROTO_FILES)) protobuf.parse(text, r, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** The Go package whose generated.proto holds a group's messages: "" → core, "discovery.k8s.io" → discovery. */
function messageName(apiVersion: string, kind: string): string | undefined {
  // Upstream registers DeleteOptions in every served group version (metav1.AddToGroupVersion); client-go names the client's.
  if (kind === 'DeleteOptions' && (apiVersion === 'meta.k8s.io/v1' || API_RESOURCES.some((x) => apiVersionOf(x) === apiVersion))) return `${META}.DeleteOptions`;
  const r = API_RESOURCES.find((x) => x.kind === kind && apiVersionOf(x) === apiVersion);
  if (!r) return undefined;
  return `k8s.io.api.${r.group ? r.group.split('.')[0] : 'core'}.${r.version}.${kind}`;
}

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

/**
 * Decodes one enveloped object. `expectKind` is the kind the URL's resource
 * holds; upstream's error texts (apiserver endpoints/handlers transformDecodeError)
 * name it.
 */
export function decodeProtobufObject(body: Buffer, expectKind: string): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    // Upstream's protobuf serializer checks the prefix before anything else.
    throw new ProtobufDecodeError(`the object provided is unrecognized (must be of type ${expectKind}): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (${summarize(body)})`);
  }
  const s = schema();
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    unknown = s.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(body.subarray(MAGIC.length)) as typeof unknown;
  } catch (e) {
    throw new ProtobufDecodeError(`the object provided is unrecognized (must be of type ${expectKind}): ${(e as Error).message} (${summarize(body)})`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
  const cannot = (why: string) => new ProtobufDecodeError(`${kind} in version "${version}" cannot be handled as a ${expectKind}: ${why}`);
  if (!kind) throw new ProtobufDecodeError(`the object provided is unrecognized (must be of type ${expectKind}): Object 'Kind' is missing (${summarize(body)})`);
  // Upstream decodes raw bytes as they are; a content encoding (never set by client-go) would need a decompressor first.
  if (unknown.contentEncoding) throw cannot(`unsupported content encoding "${unknown.contentEncoding}"`);
  const name = messageName(apiVersion, kind);
  // Upstream's runtime.Scheme error for a kind it does not know (notRegisteredErr).
  if (!name) throw cannot(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "svclab"`);
  const type = s.lookupType(name);
  let msg: protobuf.Message;
  try {
    msg = type.decode(unknown.raw ?? new Uint8Array());
  } catch (e) {
    throw cannot((e as Error).message);
  }
  const plain = type.toObject(msg, { longs: Number, bytes: String, defaults: false, arrays: false, objects: false });
  return { kind, apiVersion, ...(toJSON(type, plain) as Record<string, unknown>) };
}

/** Upstream's summarizeData (apiserver endpoints/handlers): JSON as text, anything else as hex, 30 bytes at most. */
function summarize(body: Buffer): string {
  if (!body.length) return '<empty>';
  const head = body.subarray(0, 30);
  const more = body.length > 30 ? ' ...' : '';
  return body[0] === 0x7b ? head.toString('utf8') + more : head.toString('hex') + more;
}

type Plain = Record<string, unknown>;

const isZero = (v: unknown) => v === '' || v === 0 || v === false;

/** Go's time.RFC3339, metav1.Time's JSON (whole seconds, UTC). */
function rfc3339(t: Plain): string | null {
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  // metav1.Time marshals the zero time as no bytes; encoding/json writes it as null.
  if (!seconds && !nanos) return null;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

/** Types whose JSON form is not their message's fields (each has a custom MarshalJSON upstream). */
const SPECIAL: Record<string, (v: Plain) => unknown> = {
  [`.${META}.Time`]: rfc3339,
  // FieldsV1 holds its JSON text in Raw (managedFields).
  [`.${META}.FieldsV1`]: (v) => (v.Raw ? JSON.parse(Buffer.from(String(v.Raw), 'base64').toString('utf8')) : null),
  // intstr.Type: 0 Int, 1 String.
  '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': (v) => (Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : (v.intVal ?? 0)),
  '.k8s.io.apimachinery.pkg.api.resource.Quantity': (v) => v.string ?? '0',
};

function toJSON(type: protobuf.Type, v: Plain): unknown {
  const special = SPECIAL[type.fullName];
  if (special) return special(v);
  const out: Plain = {};
  for (const f of type.fieldsArray) {
    if (!(f.name in v)) continue;
    const value = v[f.name];
    const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const one = (x: unknown) => (sub ? toJSON(sub, x as Plain) : x);
    if (f.map) {
      out[f.name] = Object.fromEntries(Object.entries(value as Plain).map(([k, x]) => [k, one(x)]));
    } else if (f.repeated) {
      out[f.name] = (value as unknown[]).map(one);
    } else if (sub) {
      const c = one(value);
      if (f.options?.['(inline)']) Object.assign(out, c);
      else out[f.name] = c;
    } else if (!isZero(value) || f.options?.['(ptr)'] || f.options?.['(keep)']) {
      out[f.name] = value;
    }
  }
  return out;
}

/** Encodes an object the way client-go does; for tests and for tools that speak protobuf to the lab. */
export function encodeProtobufObject(obj: Record<string, unknown>): Buffer {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const name = messageName(apiVersion, kind);
  if (!name) throw new ProtobufDecodeError(`no protobuf message for ${kind} in ${apiVersion}`);
  const type = schema().lookupType(name);
  const raw = type.encode(type.fromObject(fromJSON(type, obj) as Plain)).finish();
  return envelope(apiVersion, kind, raw);
}

/** The magic and a runtime.Unknown around an object's bytes, as upstream's protobuf serializer writes them. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const unknown = schema().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  return Buffer.concat([MAGIC, unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish()]);
}

function fromJSON(type: protobuf.Type, v: unknown): unknown {
  switch (type.fullName) {
    case `.${META}.Time`:
      return v === null || v === undefined ? {} : { seconds: Math.floor(Date.parse(String(v)) / 1000), nanos: 0 };
    case `.${META}.FieldsV1`:
      return { Raw: Buffer.from(JSON.stringify(v)) };
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return typeof v === 'string' ? { type: 1, strVal: v } : { type: 0, intVal: v };
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return { string: String(v) };
  }
  const o = v as Plain;
  const out: Plain = {};
  for (const f of type.fieldsArray) {
    const sub = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    const one = (x: unknown) => (sub ? fromJSON(sub, x) : x);
    if (f.options?.['(inline)'] && sub) {
      out[f.name] = fromJSON(sub, o);
      continue;
    }
    const value = o[f.name];
    if (value === undefined || value === null) {
      if (sub?.fullName === `.${META}.Time` && f.name in o) out[f.name] = {};
      continue;
    }
    if (f.map) out[f.name] = Object.fromEntries(Object.entries(value as Plain).map(([k, x]) => [k, one(x)]));
    else if (f.repeated) out[f.name] = (value as unknown[]).map(one);
    else out[f.name] = one(value);
  }
  return out;
}
