// Found in review of the HTTPS transport (stop 10): each test states what the project's standards ask for.
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { inspect } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { createJobsClient } from '../../src';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { httpsTransport, type HttpsTransportOptions } from '../../src/transport/https';
import { useDevicePem } from '../helpers/device-pem';
import { replyJson, startTestServer, type TestHandler, type TestServer } from '../helpers/http-server';

const outcome = (p: Promise<unknown>): Promise<unknown> => p.then((value) => ({ value }), (error: unknown) => error);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN = 'SESSIONTOKENSECRETVALUE';
const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: TOKEN };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const serve = async (handler: TestHandler) => (server = await startTestServer(handler));
const client = (url: string, overrides: Partial<HttpsTransportOptions> = {}) =>
  createJobsClient({ thingName: 'thing-A', timeoutMs: 2000, transport: httpsTransport({ endpoint: url, region: 'us-east-1', credentials: keys, ...overrides }) });

describe('https - a 200 carrying an error body', () => {
  const errorBody = { __type: 'com.amazonaws.iot#ThrottlingException', message: 'Rate exceeded' };

  it('is a typed error, not an accepted update / an empty pending list', async () => {
    const { url } = await serve((_r, res) => replyJson(res, 200, errorBody, { 'x-amzn-ErrorType': 'ThrottlingException' }));
    const jobs = client(url);
    const update = await outcome(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' })));
    const pending = await outcome(firstValueFrom(jobs.getPendingJobExecutions()));
    expect(update).toBeInstanceOf(Error);
    expect(pending).toBeInstanceOf(Error);
  });

  it('does not make the poller report every job gone, then back', async () => {
    const job = { jobId: 'job-1', queuedAt: 1, lastUpdatedAt: 1, versionNumber: 1, executionNumber: 1 };
    let n = 0;
    const { url } = await serve((_r, res) => {
      n += 1;
      replyJson(res, 200, n === 2 ? errorBody : { inProgressJobs: [], queuedJobs: [job] });
    });
    const events: unknown[] = [];
    const sub = client(url, { pollIntervalMs: 20 }).jobExecutionsChanged().subscribe({ next: (e) => events.push(e), error: (e: unknown) => events.push(e) });
    await sleep(200);
    sub.unsubscribe();
    // The pending set never changed: nothing to notify.
    expect(events).toEqual([]);
  });
});

describe('https - secrets the server echoes are kept out of errors', () => {
  it('the request signature (IncompleteSignatureException echoes the Authorization header)', async () => {
    let signature = '';
    const { url } = await serve((r, res) => {
      const auth = String(r.headers.authorization);
      signature = /Signature=([0-9a-f]+)/.exec(auth)?.[1] ?? '';
      replyJson(res, 403, { message: `Authorization header requires 'Credential' parameter. Authorization=${auth}` }, { 'x-amzn-ErrorType': 'IncompleteSignatureException' });
    });
    const error = await outcome(firstValueFrom(client(url).getPendingJobExecutions()));
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(error).toMatchObject({ name: 'TransportError', httpStatus: 403 });
    expect(inspect(error, { depth: 10 })).not.toContain(signature);
  });

  it('the session token, when quoted as "X-Amz-Security-Token: <token>"', async () => {
    const { url } = await serve((r, res) => replyJson(res, 400, `Bad Request: header X-Amz-Security-Token: ${String(r.headers['x-amz-security-token'])} too long`));
    const error = await outcome(firstValueFrom(client(url).getPendingJobExecutions()));
    expect(error).toMatchObject({ name: 'TransportError', httpStatus: 400 });
    expect(inspect(error, { depth: 10 })).not.toContain(TOKEN);
  });
});

describe('https - credentials provider and TLS', () => {
  const devicePem = useDevicePem('review-https-');

  it('credentials that arrive within 30 s of their expiry count as a failed fetch: backed off, not fetched per request', async () => {
    const pem = devicePem();
    server = await startTestServer(
      (_r, res) => replyJson(res, 200, { credentials: { accessKeyId: 'ASIA1', secretAccessKey: 'S', sessionToken: 'T', expiration: new Date(Date.now() + 20_000).toISOString() } }),
      { cert: pem.serverCert, key: pem.serverKey, clientCa: pem.ca },
    );
    const get = iotCredentialsProvider({ endpoint: server.url, roleAlias: 'alias', cert: pem.cert, key: pem.key, ca: pem.ca });
    for (let i = 0; i < 5; i += 1) await outcome(firstValueFrom(get()));
    // Five requests in a row must not cost five credentials fetches (spec §11: never fetch per request, back off).
    expect(server.requests.length).toBeLessThanOrEqual(1);
  });

  it('agent options cannot turn host-name verification off (checkServerIdentity)', async () => {
    const pem = devicePem();
    // A server whose certificate names 127.0.0.1/localhost only, reached as data.jobs.iot.us-east-1.amazonaws.com.
    const srv = https.createServer({ cert: pem.serverCert, key: pem.serverKey }, (_req, res) => replyJson(res, 200, { inProgressJobs: [], queuedJobs: [] }));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = srv.address() as AddressInfo;
      const lookup = (_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
        o.all === true ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
      const agent = { lookup, checkServerIdentity: () => undefined } as unknown as https.AgentOptions;
      const jobs = client(`https://data.jobs.iot.us-east-1.amazonaws.com:${port}`, { tls: { ca: pem.ca }, agent });
      const result = await outcome(firstValueFrom(jobs.getPendingJobExecutions()));
      // "TLS is always verified, whatever the agent options say": a certificate for another host is refused.
      expect(result).toMatchObject({ name: 'TransportError', message: expect.stringContaining("does not match certificate's altnames") });
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});

// Found in review of the fixes above: the exact-token redaction ran after the body was cut to 200 characters,
// so a real session token (hundreds of characters) no longer matched; and forcing the host-name check threw a
// caller's stricter one (certificate pinning) away.
describe('https - the fixes above, reviewed', () => {
  it('a non-JSON error body quoting a full-size session token: no part of it reaches the error', async () => {
    const longToken = `IQoJb3JpZ2luX2VjE${'A'.repeat(200)}SECRETTAIL${'B'.repeat(500)}`;
    const { url } = await serve((r, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`Bad Request: header 'X-Amz-Security-Token' has an invalid value '${String(r.headers['x-amz-security-token'])}'`);
    });
    const error = await outcome(firstValueFrom(client(url, { credentials: { ...keys, sessionToken: longToken } }).getPendingJobExecutions()));
    expect(error).toMatchObject({ name: 'TransportError', httpStatus: 400 });
    expect(inspect(error, { depth: 10 })).not.toContain(longToken.slice(0, 40));
  });
});


describe('https - a caller\'s own server check', () => {
  const devicePem = useDevicePem('review-pin-');

  it('a stricter checkServerIdentity (certificate pinning, as in the Node docs) still runs, after the host-name check', async () => {
    const pem = devicePem();
    const srv = https.createServer({ cert: pem.serverCert, key: pem.serverKey }, (_request, res) => replyJson(res, 200, { inProgressJobs: [], queuedJobs: [] }));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const checked: string[] = [];
    const checkServerIdentity = (host: string, cert: tls.PeerCertificate): Error | undefined => {
      checked.push(host);
      return cert.fingerprint256 === 'AA:BB' ? undefined : new Error('certificate not pinned');
    };
    try {
      const { port } = srv.address() as AddressInfo;
      const jobs = client(`https://localhost:${port}`, { tls: { ca: pem.ca }, agent: { checkServerIdentity } });
      const result = await outcome(firstValueFrom(jobs.getPendingJobExecutions()));
      expect(checked).toEqual(['localhost']);
      expect(result).toMatchObject({ name: 'TransportError', message: expect.stringContaining('certificate not pinned') });
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});
