import { isLeft } from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { DecodeError, InvalidRequestError, type EventName, type OperationName } from '../errors';

/**
 * The codec edge: every decode and encode in the library goes through here, so `Either` never leaves
 * src/codecs and every failure becomes a typed error with readable issue lines.
 */

const tagOf = (decoder: t.Decoder<unknown, unknown>): string | undefined => {
  const tag: unknown = '_tag' in decoder ? decoder._tag : undefined;
  return typeof tag === 'string' ? tag : undefined;
};

// Never throws: a BigInt or a circular object in a caller's request must still give a readable issue line.
const stringify = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    return typeof value === 'bigint' ? `${value.toString()}n` : undefined;
  }
};

// A URL's query (a presigned URL's, also a signed WebSocket one's, carries its signature and credentials), also
// with its slashes escaped (JSON inside a string); the query ends before a backslash, which escapes a quote.
const urlQuery = /((?:https?|wss?):(?:\\*\/){2}[^\s"?#]*)\?[^\s"#\\]*/giu;

/**
 * A short, printable rendering of a value for an issue line: invisible characters escaped, and a URL's query
 * left out (an issue line ends up in messages and logs; a presigned URL's query is a credential).
 */
export const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = (stringify(value) ?? typeof value)
    .replace(urlQuery, '$1?…')
    .replace(/\p{C}/gu, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * Turns io-ts errors into lines like `jobId: expected JobId, got "a/b"`. A failed union reports once, by
 * the union's name, instead of once per member.
 */
export const report = (errors: t.Errors): string[] => {
  const lines = errors.map((error) => {
    const path: string[] = [];
    let expected = 'value';
    for (const [i, entry] of error.context.entries()) {
      const parent = i > 0 ? error.context[i - 1] : undefined;
      // Fields, elements and record keys hold a different value than their parent; intersection and union
      // members (index keys) and wrappers (exact, pipe, refinement) hold the same one.
      if (parent !== undefined && entry.actual !== parent.actual) path.push(entry.key);
      expected = entry.type.name;
      if (tagOf(entry.type) === 'UnionType') break;
    }
    const at = path.length > 0 ? path.join('.') : '(root)';
    return `${at}: ${error.message ?? `expected ${expected}, got ${show(error.value)}`}`;
  });
  return [...new Set(lines)];
};

/** Validates a caller's request and returns it with its wire form; throws {@link InvalidRequestError}. */
export const encodeRequest = <A, O>(codec: t.Type<A, O>, request: unknown, operation: OperationName): { value: A; wire: O } => {
  // A JavaScript caller's object made by JSON.parse may hold the key at the top, where io-ts copies the request
  // (see refusedProtoKey). Inside statusDetails the StatusDetails codec refuses it.
  if (typeof request === 'object' && request !== null && Object.prototype.hasOwnProperty.call(request, protoKey)) {
    throw new InvalidRequestError([refusedProtoKey], { operation });
  }
  const result = codec.decode(request);
  if (isLeft(result)) throw new InvalidRequestError(report(result.left), { operation });
  return { value: result.right, wire: codec.encode(result.right) };
};

/** Where a payload came from, for the {@link DecodeError} it may raise. */
export interface PayloadSource {
  readonly operation?: OperationName | EventName;
  /** The payload as received. */
  readonly payload: string;
  readonly topic?: string;
}

/** Decodes a parsed payload; throws {@link DecodeError}. */
export const decodePayload = <A>(codec: t.Decoder<unknown, A>, value: unknown, source: PayloadSource): A => {
  const result = codec.decode(value);
  if (isLeft(result)) throw new DecodeError({ ...source, codec: codec.name, issues: report(result.left) });
  return result.right;
};

/**
 * The outcome of {@link parseJson}; `protoKey` when the text holds a `"__proto__"` key somewhere (see
 * {@link refusedProtoKey}).
 */
export type Parsed = { readonly ok: true; readonly value: unknown; readonly protoKey?: true } | { readonly ok: false; readonly message: string };

/** The key io-ts's object copies would turn into a prototype (see {@link refusedProtoKey}). */
export const protoKey = '__proto__';

/**
 * Why a payload holding a `"__proto__"` key is refused by the decoders below: JSON.parse keeps it as an own
 * key, but io-ts copies a changed object with `Object.assign`, which makes it the copy's prototype, and fields
 * hidden in it would then pass unchecked (a job document your codec never saw, say).
 */
export const refusedProtoKey = `(root): the key "${protoKey}" is refused (io-ts would turn it into a prototype)`;

/**
 * Parses JSON text without throwing, and notes a `"__proto__"` key. Only the decoders of untrusted payloads
 * refuse it; the journal and the emulator read their JSON as it is. The parsed value is searched for the key
 * only when the text could hold it (spelled out, or behind a `\u` escape), so ordinary payloads parse at
 * JSON.parse's speed.
 */
export const parseJson = (text: string): Parsed => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : 'invalid JSON' };
  }
  if (!text.includes(protoKey) && !text.includes('\\u')) return { ok: true, value };
  return holdsProtoKey(value) ? { ok: true, value, protoKey: true } : { ok: true, value };
};

/**
 * True when an object anywhere in a parsed JSON value has an own `"__proto__"` key. Walked with a stack of
 * its own, not by recursion (nor by JSON.parse's reviver, which recurses): JSON.parse reads any depth.
 */
const holdsProtoKey = (root: unknown): boolean => {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, protoKey)) return true;
    for (const inner of Object.values(value)) pending.push(inner);
  }
  return false;
};

/** Decodes an already parsed payload; throws {@link DecodeError} if it was not JSON or fails `codec`. */
export const decodeParsed = <A>(codec: t.Decoder<unknown, A>, body: Parsed, source: PayloadSource): A => {
  if (!body.ok) throw new DecodeError({ ...source, codec: codec.name, issues: [`(root): not JSON: ${body.message}`] });
  if (body.protoKey === true) throw new DecodeError({ ...source, codec: codec.name, issues: [refusedProtoKey] });
  return decodePayload(codec, body.value, source);
};

/**
 * {@link decodeParsed} for the per-request path: `source` is only called when the payload fails, so a
 * reply that decodes costs no allocation for it.
 */
export const decodeReply = <A>(codec: t.Decoder<unknown, A>, body: Parsed, source: () => PayloadSource): A => {
  if (!body.ok || body.protoKey === true) return decodeParsed(codec, body, source());
  const result = codec.decode(body.value);
  if (isLeft(result)) throw new DecodeError({ ...source(), codec: codec.name, issues: report(result.left) });
  return result.right;
};

/** Parses and decodes a payload; throws {@link DecodeError} if it is not JSON or fails `codec`. */
export const decodeJson = <A>(codec: t.Decoder<unknown, A>, source: PayloadSource): A =>
  decodeParsed(codec, parseJson(source.payload), source);
