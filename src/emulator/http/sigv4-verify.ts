import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';

/**
 * The emulator's check of AWS Signature Version 4 on an incoming request: it signs the request again with
 * the signer the AWS SDK uses (@smithy/signature-v4), over exactly the headers the client named, and
 * compares. Messages follow AWS's wording so that the SDK and people recognise them; they never contain the
 * secret key or the signature the emulator computed.
 */

/** An access key pair. */
export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A request as it arrived on the wire. */
export interface SignedRequest {
  readonly method: string;
  /** The raw request target: path and query exactly as sent (`/things/T/jobs/%24next?a=b`). */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as received (bytes, or text already decoded as UTF-8). */
  readonly body: string | Uint8Array;
}

/** Options of {@link verifySigV4}. */
export interface VerifySigV4Options {
  /** The only key pair accepted. */
  readonly credentials: SigV4Credentials;
  /** The signing name the Credential scope must name, e.g. `iot-jobs-data`. */
  readonly service: string;
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /** How far `x-amz-date` may be from `now()`. Default 15 minutes, as AWS. */
  readonly maxSkewMs?: number;
}

/** The AWS exception a refused request is answered with (all HTTP 403 in the emulator). */
export type SigV4Exception =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

/** The outcome of {@link verifySigV4}. */
export type SigV4Verdict = { readonly ok: true } | { readonly ok: false; readonly exception: SigV4Exception; readonly message: string };

/** Verifier for requests signed with smithy's signer; exposes the canonical request for error messages. */
class Verifier extends SignatureV4 {
  canonicalRequest(request: Parameters<SignatureV4['presign']>[0], signed: ReadonlySet<string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, getCanonicalHeaders(request, undefined, new Set(signed)), payloadHash);
  }
}

const fail = (exception: SigV4Exception, message: string): SigV4Verdict => ({ ok: false, exception, message });

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** `20240115T123045Z` → epoch ms, or undefined if it is not a valid ISO 8601 basic date-time. */
const parseAmzDate = (text: string): number | undefined => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return formatAmzDate(ms) === text ? ms : undefined;
};

const formatAmzDate = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

/** A header's value; header names come from the client, so only own properties count. */
const headerOf = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value: unknown = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.join(',') : undefined;
};

interface Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=…/date/region/service/aws4_request, SignedHeaders=…, Signature=…`. */
const parseAuthorization = (header: string): Authorization | string => {
  const algorithm = 'AWS4-HMAC-SHA256 ';
  if (!header.startsWith(algorithm)) return `Authorization header must use the AWS4-HMAC-SHA256 algorithm, got ${JSON.stringify(header.split(' ')[0])}`;
  const fields = new Map(
    header
      .slice(algorithm.length)
      .split(',')
      .map((part) => [part.slice(0, part.indexOf('=')).trim(), part.slice(part.indexOf('=') + 1).trim()] as const),
  );
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [['Credential', credential], ['SignedHeaders', signedHeaders], ['Signature', signature]].filter(([, v]) => v === undefined || v === '');
  if (missing.length > 0) return missing.map(([name = '']) => `Authorization header requires '${name}' parameter.`).join(' ');
  const scope = (credential ?? '').split('/');
  const [accessKeyId, date, region, service, terminator] = scope;
  if (scope.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined || service === undefined || terminator !== 'aws4_request' || !/^\d{8}$/.test(date)) {
    return `Credential must be <access key>/<YYYYMMDD>/<region>/<service>/aws4_request, got ${JSON.stringify(credential)}`;
  }
  if (!/^[0-9a-f]{64}$/.test(signature ?? '')) return 'Signature must be 64 lower-case hexadecimal characters';
  const names = (signedHeaders ?? '').split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) return `SignedHeaders must be lower-case header names separated by ';', got ${JSON.stringify(signedHeaders)}`;
  return { accessKeyId, date, region, service, signedHeaders: names, signature: signature ?? '' };
};

/** The query of a wire path as smithy's signer wants it: decoded keys and values, repeated keys as lists. */
const parseQuery = (query: string): Record<string, string | string[]> | undefined => {
  const result: Record<string, string | string[]> = {};
  try {
    for (const part of query.split('&').filter((p) => p !== '')) {
      const at = part.indexOf('=');
      const key = decodeURIComponent(at < 0 ? part : part.slice(0, at));
      const value = at < 0 ? '' : decodeURIComponent(part.slice(at + 1));
      const before = Object.hasOwn(result, key) ? result[key] : undefined;
      result[key] = before === undefined ? value : [...(typeof before === 'string' ? [before] : before), value];
    }
  } catch {
    return undefined;
  }
  return result;
};

/**
 * Verifies the SigV4 `Authorization` header of a request. The canonical URI is the wire path encoded once
 * more per segment (the generic, non-S3 rule the AWS SDK follows, ../shared/spec/dependencies.md §4), so a
 * raw `$next` is signed as `%24next` and a wire `%24next` as `%2524next`, both exactly as the SDK signs
 * them. Any region is accepted; the service, the key, the date window and the body hash are checked.
 */
export const verifySigV4 = async (request: SignedRequest, options: VerifySigV4Options): Promise<SigV4Verdict> => {
  const header = headerOf(request.headers, 'authorization');
  if (header === undefined || header === '') return fail('MissingAuthenticationTokenException', 'Missing Authentication Token: the request has no SigV4 Authorization header');
  const auth = parseAuthorization(header);
  if (typeof auth === 'string') return fail('IncompleteSignatureException', auth);
  if (auth.accessKeyId !== options.credentials.accessKeyId) {
    return fail('UnrecognizedClientException', `The security token included in the request is invalid: unknown access key ${auth.accessKeyId}`);
  }
  if (auth.service !== options.service) return fail('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}', not '${auth.service}'.`);
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) return fail('InvalidSignatureException', `'${required}' must be a SignedHeader in the AWS Authorization.`);
  }
  const unsent = auth.signedHeaders.filter((name) => headerOf(request.headers, name) === undefined);
  if (unsent.length > 0) return fail('InvalidSignatureException', `SignedHeaders names ${unsent.join(', ')}, which the request does not carry.`);
  const amzDate = headerOf(request.headers, 'x-amz-date') ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return fail('IncompleteSignatureException', `X-Amz-Date must be an ISO 8601 basic date-time like 20240115T123045Z, got ${JSON.stringify(amzDate)}`);
  if (auth.date !== amzDate.slice(0, 8)) {
    return fail('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  const now = options.now();
  const skew = options.maxSkewMs ?? 15 * 60_000;
  const window = `${skew / 60_000} min.`;
  if (signedAt < now - skew) return fail('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${window})`);
  if (signedAt > now + skew) return fail('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${window})`);
  const payloadHash = sha256Hex(request.body);
  const declaredHash = headerOf(request.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== payloadHash) {
    return fail('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const at = request.path.indexOf('?');
  const query = parseQuery(at < 0 ? '' : request.path.slice(at + 1));
  if (query === undefined) return fail('InvalidSignatureException', 'The query string is not valid percent-encoding, so it has no canonical form.');
  const headers = Object.fromEntries(auth.signedHeaders.map((name) => [name, headerOf(request.headers, name) ?? '']));
  const toSign = { method: request.method, protocol: 'http:', hostname: headers['host'] ?? '', path: at < 0 ? request.path : request.path.slice(0, at), query, headers, body: request.body };
  const verifier = new Verifier({
    credentials: options.credentials,
    region: auth.region,
    service: auth.service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await verifier.sign(toSign, { signingDate: new Date(signedAt), signableHeaders: new Set(auth.signedHeaders) });
  const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers['authorization'] ?? '')?.[1] ?? '';
  if (expected.length === auth.signature.length && timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'))) return { ok: true };
  const canonical = verifier.canonicalRequest(toSign, new Set(auth.signedHeaders), payloadHash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return fail(
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
      `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n` +
      `The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}'\n`,
  );
};
