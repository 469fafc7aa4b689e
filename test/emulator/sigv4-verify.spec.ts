import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4, type SignedRequest, type SigV4Verdict } from '../../src/emulator/http/sigv4-verify';
import fixture from '../fixtures/http/official-sdk-http-requests.json';

// Requests captured from @aws-sdk/client-iot-jobs-data-plane 3.956.0 (copied from ../shared/fixtures; see its README).
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const fixedDate = Date.parse(fixture.fixedDate);
const service = 'iot-jobs-data';
const minute = 60_000;

const captured = fixture.captured.map((c): [string, SignedRequest] => [
  c.command,
  {
    method: c.method,
    path: c.rawUrl,
    headers: Object.fromEntries(c.rawHeaders.map(([name = '', value = '']) => [name.toLowerCase(), value])),
    body: c.body,
  },
]);

const verify = (request: SignedRequest, now = fixedDate): Promise<SigV4Verdict> => verifySigV4(request, { credentials, service, now: () => now });

const signedNames = (request: SignedRequest): string[] =>
  /SignedHeaders=([^,]+)/.exec(String(request.headers.authorization))?.[1]?.split(';') ?? [];

const withHeaders = (request: SignedRequest, headers: IncomingHttpHeaders): SignedRequest => ({ ...request, headers: { ...request.headers, ...headers } });

/** Signs a request the way the SDK does: smithy's signer over the wire path, at `date`. */
const sign = async (
  request: { method: string; path: string; query?: Record<string, string>; body?: string },
  { date = fixedDate, secret = credentials.secretAccessKey, signingService = service } = {},
): Promise<SignedRequest> => {
  const signer = new SignatureV4({ credentials: { ...credentials, secretAccessKey: secret }, region: 'eu-west-1', service: signingService, sha256: Hash.bind(null, 'sha256') });
  const body = request.body ?? '';
  const out = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: '127.0.0.1', path: request.path, query: request.query ?? {}, headers: { host: '127.0.0.1:8080', ...(body === '' ? {} : { 'content-type': 'application/json' }) }, body },
    { signingDate: new Date(date) },
  );
  const query = new URLSearchParams(request.query ?? {}).toString();
  return { method: request.method, path: query === '' ? request.path : `${request.path}?${query}`, headers: out.headers, body };
};

const refusal = (verdict: SigV4Verdict): { exception: string; message: string } | undefined =>
  verdict.ok ? undefined : { exception: verdict.exception, message: verdict.message };

describe('verifySigV4', () => {
  it.each(captured)('verifySigV4 - the official SDK request %s verifies at its capture time', async (_name, request) => {
    expect(await verify(request)).toEqual({ ok: true });
  });

  it.each(captured)('verifySigV4 - %s is refused once any signed header changes', async (_name, request) => {
    const names = signedNames(request);
    expect(names).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'amz-sdk-invocation-id']));
    for (const name of names) {
      const value = String(request.headers[name]);
      const changed = name === 'x-amz-date' ? value.replace(/\d\dZ$/, (s) => `${String((Number(s.slice(0, 2)) + 1) % 60).padStart(2, '0')}Z`) : `${value}0`;
      const verdict = await verify(withHeaders(request, { [name]: changed }));
      expect({ name, verdict: refusal(verdict)?.exception }).toEqual({ name, verdict: 'InvalidSignatureException' });
    }
  });

  it.each(captured)('verifySigV4 - %s is refused when a signed header is dropped or the path changes', async (_name, request) => {
    const rest = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'amz-sdk-request'));
    expect(refusal(await verify({ ...request, headers: rest }))?.message).toBe('SignedHeaders names amz-sdk-request, which the request does not carry.');
    expect(refusal(await verify({ ...request, path: request.path.replace('/jobs', '/jobz') }))?.message).toMatch(/^The request signature we calculated does not match/);
    expect(refusal(await verify({ ...request, path: request.path.replace('thing', 'Thing') }))?.exception).toBe('InvalidSignatureException');
  });

  it('verifySigV4 - changing, adding or dropping a query parameter is refused', async () => {
    const [, describe] = captured.find(([name]) => name === 'DescribeJobExecution') ?? [];
    if (describe === undefined) throw new Error('fixture has no DescribeJobExecution');
    expect(describe.path).toBe('/things/thing-A/jobs/job-1?executionNumber=1&includeJobDocument=true');
    for (const path of [
      '/things/thing-A/jobs/job-1?executionNumber=2&includeJobDocument=true',
      '/things/thing-A/jobs/job-1?executionNumber=1&includeJobDocument=false',
      '/things/thing-A/jobs/job-1?executionNumber=1',
      '/things/thing-A/jobs/job-1?executionNumber=1&includeJobDocument=true&x=1',
    ]) {
      expect({ path, verdict: refusal(await verify({ ...describe, path }))?.exception }).toEqual({ path, verdict: 'InvalidSignatureException' });
    }
    // Parameter order on the wire does not matter: the canonical query is sorted.
    expect(await verify({ ...describe, path: '/things/thing-A/jobs/job-1?includeJobDocument=true&executionNumber=1' })).toEqual({ ok: true });
  });

  it('verifySigV4 - a changed body is refused, whether or not x-amz-content-sha256 is updated to match', async () => {
    const [, update] = captured.find(([name]) => name === 'UpdateJobExecution') ?? [];
    if (update === undefined) throw new Error('fixture has no UpdateJobExecution');
    const body = String(update.body).replace('SUCCEEDED', 'FAILED');
    expect(refusal(await verify({ ...update, body }))?.message).toBe("The provided 'x-amz-content-sha256' header does not match what was computed.");
    const { createHash } = await import('node:crypto');
    const rehashed = withHeaders({ ...update, body }, { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') });
    expect(refusal(await verify(rehashed))?.message).toMatch(/^The request signature we calculated does not match/);
  });

  it.each(captured)('verifySigV4 - %s is refused 16 minutes away from its date and accepted 14 minutes away', async (_name, request) => {
    expect(refusal(await verify(request, fixedDate + 16 * minute))?.message).toBe(
      'Signature expired: 20240115T123045Z is now earlier than 20240115T123145Z (20240115T124645Z - 15 min.)',
    );
    expect(refusal(await verify(request, fixedDate - 16 * minute))?.message).toBe(
      'Signature not yet current: 20240115T123045Z is still later than 20240115T122945Z (20240115T121445Z + 15 min.)',
    );
    expect(await verify(request, fixedDate + 14 * minute)).toEqual({ ok: true });
    expect(await verify(request, fixedDate - 14 * minute)).toEqual({ ok: true });
  });

  it('verifySigV4 - a wrong secret is refused with AWS wording and the canonical request, never the secret', async () => {
    const wrongSecret = 'not-the-secret-key-0123456789';
    const request = await sign({ method: 'GET', path: '/things/thing-A/jobs' }, { secret: wrongSecret });
    const verdict = refusal(await verify(request));
    expect(verdict?.exception).toBe('InvalidSignatureException');
    expect(verdict?.message).toMatch(/^The request signature we calculated does not match the signature you provided\./);
    expect(verdict?.message).toContain("The Canonical String for this request should have been\n'GET\n/things/thing-A/jobs\n\nhost:127.0.0.1:8080\n");
    expect(verdict?.message).not.toContain(wrongSecret);
    expect(verdict?.message).not.toContain(credentials.secretAccessKey);
  });

  it('verifySigV4 - both a raw $next and %24next in the wire path verify as the SDK signs them', async () => {
    const raw = await sign({ method: 'PUT', path: '/things/thing-A/jobs/$next', body: '{}' });
    const encoded = await sign({ method: 'GET', path: '/things/thing-A/jobs/%24next', query: { includeJobDocument: 'true' } });
    expect(await verify(raw)).toEqual({ ok: true });
    expect(await verify(encoded)).toEqual({ ok: true });
    // The canonical URI (shown when a signature does not match) is the wire path encoded once more.
    const canonicalUri = async (request: Parameters<typeof sign>[0]) =>
      /should have been\n'[A-Z]+\n([^\n]*)\n/.exec(refusal(await verify(await sign(request, { secret: 'other' })))?.message ?? '')?.[1];
    expect(await canonicalUri({ method: 'PUT', path: '/things/thing-A/jobs/$next', body: '{}' })).toBe('/things/thing-A/jobs/%24next');
    expect(await canonicalUri({ method: 'GET', path: '/things/thing-A/jobs/%24next' })).toBe('/things/thing-A/jobs/%2524next');
    // The two wire forms are different canonical requests: a signature for one does not verify the other.
    expect(refusal(await verify({ ...encoded, path: encoded.path.replace('%24next', '$next') }))?.exception).toBe('InvalidSignatureException');
  });

  it('verifySigV4 - an unknown access key, another service and a missing or garbled header are refused by name', async () => {
    const good = await sign({ method: 'GET', path: '/things/thing-A/jobs' });
    const auth = String(good.headers.authorization);
    expect(refusal(await verify(withHeaders(good, { authorization: auth.replace('AKIDEXAMPLE', 'AKIDOTHER') })))).toEqual({
      exception: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid: unknown access key AKIDOTHER',
    });
    expect(refusal(await verify(await sign({ method: 'GET', path: '/things/thing-A/jobs' }, { signingService: 'iot' })))).toEqual({
      exception: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'iot-jobs-data', not 'iot'.",
    });
    expect(refusal(await verify(withHeaders(good, { authorization: undefined })))?.exception).toBe('MissingAuthenticationTokenException');
    for (const garbled of ['Bearer abc', auth.replace(/, Signature=.*$/, ''), auth.replace('/aws4_request', ''), auth.replace(/Signature=[0-9a-f]+/, 'Signature=XYZ')]) {
      expect({ garbled, exception: refusal(await verify(withHeaders(good, { authorization: garbled })))?.exception }).toEqual({ garbled, exception: 'IncompleteSignatureException' });
    }
    expect(refusal(await verify(withHeaders(good, { 'x-amz-date': '2024-01-15T12:30:45Z' })))?.exception).toBe('IncompleteSignatureException');
    // Header names come from the client: inherited properties are not headers.
    const prototypeNames = auth.replace('SignedHeaders=', 'SignedHeaders=__proto__;constructor;');
    expect(refusal(await verify(withHeaders(good, { authorization: prototypeNames })))?.message).toBe('SignedHeaders names __proto__, constructor, which the request does not carry.');
    expect(refusal(await verify(withHeaders(good, { authorization: auth.replace('20240115/', '20240116/') })))?.message).toMatch(/^Date in Credential scope does not match/);
  });
});
