import * as t from 'io-ts';
import { parseJson, refusedProtoKey } from './decode';
import type { DocumentCodec } from './job-execution';

/**
 * What differs on the HTTPS API: the job document is a JSON string (0–32768 characters) instead of an
 * embedded object, and errors are `{"message"}` bodies named by the `x-amzn-ErrorType` header.
 */

/** A JSON text on the wire, its parsed value in the domain. */
export const JsonFromString = new t.Type<unknown, string, unknown>(
  'JsonFromString',
  t.unknown.is,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'expected a JSON string');
    if (u.length > 32_768) return t.failure(u, c, 'job document longer than 32768 characters');
    // The HTTP model allows 0 characters; no document is JSON of none, and only a JSON document can be checked.
    if (u.trim() === '') return t.failure(u, c, 'empty: a job document is JSON');
    const parsed = parseJson(u);
    if (!parsed.ok) return t.failure(u, c, `not JSON: ${parsed.message}`);
    return parsed.protoKey === true ? t.failure(u, c, refusedProtoKey) : t.success(parsed.value);
  },
  (value) => JSON.stringify(value),
);

/** The caller's document codec as the HTTPS API carries documents: parse the string, then check it. */
export const httpDocument = <D>(document: DocumentCodec<D>): DocumentCodec<D> => JsonFromString.pipe(document, document.name);

/** An HTTP error body. */
export const HttpErrorBody = t.partial({ message: t.string, Message: t.string, code: t.string, __type: t.string }, 'HttpErrorBody');
export type HttpErrorBody = t.TypeOf<typeof HttpErrorBody>;
