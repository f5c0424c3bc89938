// Just enough of Kubernetes' protobuf encoding to read the review bodies
// kubectl sends: kubectl encodes built-in types as protobuf (content type
// application/vnd.kubernetes.protobuf), an envelope of the magic "k8s\0"
// and a runtime.Unknown {typeMeta{apiVersion, kind}, raw, contentEncoding,
// contentType} whose raw bytes are the object's message. Field numbers are
// those of k8s.io/api's generated.proto. The general protobuf codec for every
// kind is other work of issue 12.
import { badRequest } from '../status.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** One message's fields: number → the length-delimited payloads or varints seen, in order. */
export type Fields = Map<number, (Buffer | bigint)[]>;

function varint(buf: Buffer, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const b = buf[i];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, i + 1];
    shift += 7n;
    if (shift > 63n) break;
  }
  throw badRequest('the body of the request could not be decoded: truncated protobuf varint');
}

export function decodeFields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let at = 0;
  while (at < buf.length) {
    const [key, next] = varint(buf, at);
    at = next;
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: Buffer | bigint;
    if (wire === 0) [value, at] = varint(buf, at);
    else if (wire === 2) {
      const [len, start] = varint(buf, at);
      const end = start + Number(len);
      if (end > buf.length) throw badRequest('the body of the request could not be decoded: truncated protobuf field');
      value = buf.subarray(start, end);
      at = end;
    } else if (wire === 1) (value = buf.subarray(at, at + 8)), (at += 8);
    else if (wire === 5) (value = buf.subarray(at, at + 4)), (at += 4);
    else throw badRequest(`the body of the request could not be decoded: protobuf wire type ${wire}`);
    out.set(num, [...(out.get(num) ?? []), value]);
  }
  return out;
}

export function str(f: Fields, n: number): string {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

export function sub(f: Fields, n: number): Fields | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? decodeFields(v) : undefined;
}

/** The envelope: typeMeta and the object's own message bytes. */
export function decodeEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('the body of the request could not be decoded: no "k8s\\0" protobuf envelope');
  const unknown = decodeFields(body.subarray(4));
  const typeMeta = sub(unknown, 1);
  const raw = unknown.get(2)?.[0];
  return { apiVersion: typeMeta ? str(typeMeta, 1) : '', kind: typeMeta ? str(typeMeta, 2) : '', raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0) };
}
