import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as t from 'io-ts';
import { firstValueFrom, of, take, toArray } from 'rxjs';
import { createJobsClient, DecodeError, RejectedError, RequestTimeoutError, TransportError } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { issueDeviceCertificate } from '../../src/emulator/tls';
import { httpsTransport, type HttpsTransportOptions } from '../../src/transport/https';
import fixture from '../fixtures/http/official-sdk-http-requests.json';
import { thing } from '../helpers/names';
import { replyJson, startTestServer, waitForRequests, type TestHandler, type TestServer } from '../helpers/http-server';

const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

describe('httpsTransport on the emulator', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await emu.close();
  });

  const createJob = (jobId: string, document: object = { op: jobId }) => {
    const result = emu.engine.createJob({ jobId, targets: [arn('thing-A')], document: JSON.stringify(document) });
    if (!result.ok) throw new Error(result.message);
  };
  const transport = (overrides: Partial<HttpsTransportOptions> = {}) =>
    httpsTransport({ endpoint: emu.dataEndpoint, region: 'us-east-1', credentials: emu.credentials, ...overrides });
  const client = (overrides: Partial<HttpsTransportOptions> = {}) => createJobsClient({ thingName: 'thing-A', transport: transport(overrides), timeoutMs: 2000 });

  it('https transport - the four operations return the domain types MQTT gives (Date, parsed documents)', async () => {
    const Doc = t.type({ op: t.string });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: transport(), jobDocument: Doc });
    createJob('job-1', { op: 'install' });
    createJob('job-2');
    const pending = await firstValueFrom(jobs.getPendingJobExecutions());
    expect(pending).toMatchObject({ inProgressJobs: [], queuedJobs: [{ jobId: 'job-1', versionNumber: 1 }, { jobId: 'job-2' }] });
    expect(pending.queuedJobs[0]?.queuedAt).toBeInstanceOf(Date);
    const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: 'download' }, stepTimeoutInMinutes: 5 }));
    expect(execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', versionNumber: 2, jobDocument: { op: 'install' }, statusDetails: { step: 'download' } });
    expect(execution?.startedAt).toBeInstanceOf(Date);
    const described = await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1', executionNumber: 1, includeJobDocument: false }));
    expect(described.execution).toMatchObject({ jobId: 'job-1', executionNumber: 1 });
    expect(described.execution).not.toHaveProperty('jobDocument');
    expect((await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }))).execution?.jobDocument).toEqual({ op: 'install' });
    const done = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true, includeJobDocument: true }));
    expect(done).toEqual({ executionState: { status: 'SUCCEEDED', statusDetails: { step: 'download' }, versionNumber: 3 }, jobDocument: { op: 'install' } });
  });

  it('https transport - rejections carry the mapped code, httpStatus, exceptionName and clientToken', async () => {
    const jobs = client();
    const missing = await errorOf(firstValueFrom(jobs.describeJobExecution({ jobId: 'missing' })));
    expect(missing).toBeInstanceOf(RejectedError);
    expect(missing).toMatchObject({ code: 'ResourceNotFound', httpStatus: 404, exceptionName: 'ResourceNotFoundException', clientToken: expect.any(String) });
    createJob('job-1');
    const stale = await errorOf(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 9 })));
    expect(stale).toMatchObject({
      name: 'RejectedError',
      code: 'InvalidStateTransition',
      httpStatus: 409,
      exceptionName: 'InvalidStateTransitionException',
      executionState: { status: 'QUEUED', versionNumber: 1 },
    });
  });

  it('https transport - a wrong secret or an unknown key is a TransportError with status 403', async () => {
    const wrongSecret = await errorOf(firstValueFrom(client({ credentials: { ...emu.credentials, secretAccessKey: 'wrong' } }).getPendingJobExecutions()));
    expect(wrongSecret).toBeInstanceOf(TransportError);
    expect(wrongSecret).toMatchObject({ httpStatus: 403, operation: 'getPendingJobExecutions', message: expect.stringMatching(/^getPendingJobExecutions: HTTP 403 InvalidSignatureException: The request signature we calculated/) });
    const unknownKey = await errorOf(firstValueFrom(client({ credentials: { ...emu.credentials, accessKeyId: 'AKIDUNKNOWN' } }).getPendingJobExecutions()));
    expect(unknownKey).toMatchObject({ name: 'TransportError', httpStatus: 403, message: expect.stringContaining('UnrecognizedClientException') });
  });

  it('https transport - temporary credentials from a provider (Observable or Promise) are signed with their session token', async () => {
    const temporary = { ...emu.credentials, sessionToken: 'session/token+=', expiration: new Date(Date.now() + 3_600_000) };
    await expect(firstValueFrom(client({ credentials: () => of(temporary) }).getPendingJobExecutions())).resolves.toEqual({ inProgressJobs: [], queuedJobs: [] });
    await expect(firstValueFrom(client({ credentials: () => Promise.resolve(temporary) }).getPendingJobExecutions())).resolves.toEqual({ inProgressJobs: [], queuedJobs: [] });
  });

  it('https transport - a failing credentials provider fails the request with TransportError', async () => {
    const thrown = await errorOf(firstValueFrom(client({ credentials: () => Promise.reject(new Error('no IMDS')) }).getPendingJobExecutions()));
    expect(thrown).toMatchObject({ name: 'TransportError', message: 'cannot get credentials: no IMDS', cause: expect.objectContaining({ message: 'no IMDS' }) });
    const empty = await errorOf(firstValueFrom(client({ credentials: () => [] }).getPendingJobExecutions()));
    expect(empty).toMatchObject({ name: 'TransportError', message: 'the credentials provider gave no credentials' });
  });

  it('https transport - polled events: the same shapes as MQTT, emitted only on change', async () => {
    const jobs = client({ pollIntervalMs: 20 });
    const next: unknown[] = [];
    const changed: unknown[] = [];
    const subs = [
      jobs.nextJobExecutionChanged().subscribe((e) => next.push(e.execution === undefined ? 'none' : `${e.execution.jobId} ${e.execution.status} ${JSON.stringify(e.execution.jobDocument)}`)),
      jobs.jobExecutionsChanged().subscribe((e) => changed.push({ IN_PROGRESS: e.jobs.IN_PROGRESS?.map((j) => j.jobId), QUEUED: e.jobs.QUEUED?.map((j) => j.jobId), at: e.timestamp instanceof Date })),
    ];
    const settle = () => sleep(120);
    await settle(); // the baseline polls
    createJob('job-1', { op: 'install' });
    await settle();
    await firstValueFrom(jobs.startNextPendingJobExecution()); // QUEUED -> IN_PROGRESS: neither event
    await settle();
    createJob('job-2');
    await settle();
    await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' }));
    await settle();
    subs.forEach((s) => s.unsubscribe());
    expect(next).toEqual(['job-1 QUEUED {"op":"install"}', 'job-2 QUEUED {"op":"job-2"}']);
    expect(changed).toEqual([
      { QUEUED: ['job-1'], at: true },
      { IN_PROGRESS: ['job-1'], QUEUED: ['job-2'], at: true },
      { QUEUED: ['job-2'], at: true },
    ]);
  });

  it('https transport - the emulator in TLS mode, trusted through tls.ca', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iot-jobs-https-'));
    const tlsEmu = await startEmulator({ tlsDir: dir });
    try {
      const transport = httpsTransport({ endpoint: tlsEmu.dataEndpoint, region: 'us-east-1', credentials: tlsEmu.credentials, tls: { ca: readFileSync(join(dir, 'ca.crt'), 'utf8') } });
      expect(tlsEmu.dataEndpoint).toMatch(/^https:/);
      await expect(firstValueFrom(createJobsClient({ thingName: 'thing-A', transport }).getPendingJobExecutions())).resolves.toEqual({ inProgressJobs: [], queuedJobs: [] });
    } finally {
      await tlsEmu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('httpsTransport on the wire', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const serve = async (handler: TestHandler = (_req, res) => replyJson(res, 200, {})) => {
    server = await startTestServer(handler);
    return server;
  };
  const sdkKeys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const client = (url: string, timeoutMs = 2000, overrides: Partial<HttpsTransportOptions> = {}) =>
    createJobsClient({ thingName: 'thing-A', timeoutMs, transport: httpsTransport({ endpoint: url, region: 'us-east-1', credentials: sdkKeys, ...overrides }) });

  it('https transport - requests go out as the official SDK sends them (method, path, query, body, signed headers)', async () => {
    const { url, requests } = await serve();
    const jobs = client(url);
    await firstValueFrom(jobs.getPendingJobExecutions());
    await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: '1' }, stepTimeoutInMinutes: 5 }));
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1', executionNumber: 1, includeJobDocument: true }));
    await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', statusDetails: { r: 'ok' }, stepTimeoutInMinutes: 10, expectedVersion: 2, includeJobExecutionState: true, includeJobDocument: true, executionNumber: 1 }));
    const sdk = fixture.captured.slice(0, 4);
    expect(requests.map((r) => [r.method, r.url])).toEqual(sdk.map((c) => [c.method, c.rawUrl]));
    expect(requests[1]?.body).toBe(sdk[1]?.body);
    expect(JSON.parse(requests[3]?.body ?? '')).toEqual(JSON.parse(sdk[3]?.body ?? ''));
    expect(requests.map((r) => r.body === '' && r.headers['content-type'] === undefined && r.headers['content-length'] === undefined)).toEqual([true, false, true, false]);
    const signed = requests.map((r) => /SignedHeaders=([^,]+)/.exec(r.headers.authorization ?? '')?.[1]);
    expect(signed).toEqual([
      'host;x-amz-content-sha256;x-amz-date',
      'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
      'host;x-amz-content-sha256;x-amz-date',
      'content-length;content-type;host;x-amz-content-sha256;x-amz-date',
    ]);
    expect(requests[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/iot-jobs-data\/aws4_request, /);
    expect(requests[0]?.headers.host).toBe(new URL(url).host);
    await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }));
    expect(requests[4]?.url).toBe('/things/thing-A/jobs/%24next');
  });

  it('https transport - requests reuse one keep-alive connection', async () => {
    const test = await serve();
    const jobs = client(test.url);
    for (let i = 0; i < 3; i += 1) await firstValueFrom(jobs.getPendingJobExecutions());
    expect(test.requests).toHaveLength(3);
    expect(test.connections()).toBe(1);
  });

  it('https transport - unsubscribing aborts the request: the server sees the connection close', async () => {
    const test = await serve(() => undefined);
    const sub = client(test.url).getPendingJobExecutions().subscribe();
    await waitForRequests(test, 1);
    sub.unsubscribe();
    await expect(test.requests[0]?.closed).resolves.toBeUndefined();
  });

  it('https transport - no reply by the deadline is a RequestTimeoutError, and the request is aborted', async () => {
    const test = await serve(() => undefined);
    const error = await errorOf(firstValueFrom(client(test.url, 100).describeJobExecution({ jobId: 'job-1' })));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ operation: 'describeJobExecution', timeoutMs: 100 });
    await expect(test.requests[0]?.closed).resolves.toBeUndefined();
  });

  const html = '<html><body>Bad Gateway</body></html>';
  it.each([
    ['ResourceNotFoundException:http://internal.amazon.com/coral/', 404, { message: 'gone' }, { code: 'ResourceNotFound', exceptionName: 'ResourceNotFoundException', message: expect.stringContaining('gone') }],
    ['aws.protocols#ThrottlingException', 429, { message: 'slow down' }, { code: 'RequestThrottled', exceptionName: 'ThrottlingException' }],
    [undefined, 400, { __type: 'com.amazonaws.iot#InvalidRequestException', message: 'bad' }, { code: 'InvalidRequest', exceptionName: 'InvalidRequestException' }],
    [undefined, 400, { code: 'CertificateValidationException', message: 'bad cert' }, { code: 'CertificateValidationException' }],
    ['TerminalStateException', 410, { message: 'done' }, { code: 'TerminalStateReached', httpStatus: 410 }],
    ['ServiceUnavailableException', 503, { message: 'try later' }, { code: 'InternalError', httpStatus: 503 }],
    ['InvalidStateTransitionException', 409, { message: 'no', executionState: { status: 'FAILED', versionNumber: 4 } }, { code: 'InvalidStateTransition', executionState: { status: 'FAILED', versionNumber: 4 } }],
    ['ResourceNotFoundException', 404, html, { code: 'ResourceNotFound', message: expect.stringMatching(/ResourceNotFound: $/) }],
  ])('https transport - a Jobs exception is a RejectedError: x-amzn-ErrorType %s, status %i', async (type, status, body, expected) => {
    const test = await serve((_req, res) => replyJson(res, status, body, type === undefined ? {} : { 'x-amzn-ErrorType': type }));
    const error = await errorOf(firstValueFrom(client(test.url).describeJobExecution({ jobId: 'job-1' })));
    expect(error).toBeInstanceOf(RejectedError);
    expect(error).toMatchObject({ operation: 'describeJobExecution', httpStatus: status, clientToken: expect.any(String), ...expected });
  });

  it.each([
    ['AccessDeniedException', 403, { message: 'User is not authorized' }, 'describeJobExecution: HTTP 403 AccessDeniedException: User is not authorized'],
    [undefined, 502, html, `describeJobExecution: HTTP 502: ${html}`],
    [undefined, 500, { message: 'boom' }, 'describeJobExecution: HTTP 500: boom'],
    ['SomeNewException', 400, { message: 'new' }, 'describeJobExecution: HTTP 400 SomeNewException: new'],
    [undefined, 301, '', 'describeJobExecution: HTTP 301'],
  ])('https transport - anything else is a TransportError: x-amzn-ErrorType %s, status %i', async (type, status, body, message) => {
    const test = await serve((_req, res) => replyJson(res, status, body, type === undefined ? {} : { 'x-amzn-ErrorType': type }));
    const error = await errorOf(firstValueFrom(client(test.url).describeJobExecution({ jobId: 'job-1' })));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ httpStatus: status, operation: 'describeJobExecution', message });
  });

  it('https transport - a 200 reply that is not JSON is a DecodeError carrying the payload', async () => {
    const test = await serve((_req, res) => replyJson(res, 200, 'oops'));
    const error = await errorOf(firstValueFrom(client(test.url).getPendingJobExecutions()));
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ payload: 'oops', operation: 'getPendingJobExecutions' });
  });

  it('https transport - a refused connection is a TransportError without httpStatus', async () => {
    const test = await serve();
    const { url } = test;
    await test.close();
    server = undefined;
    const error = await errorOf(firstValueFrom(client(url).getPendingJobExecutions()));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ httpStatus: undefined, message: expect.stringMatching(/^GET 127\.0\.0\.1:\d+\/things\/thing-A\/jobs: connect ECONNREFUSED/) });
  });

  it('https transport - event subscribers share one poller', async () => {
    const test = await serve((_req, res) => replyJson(res, 200, {}));
    const jobs = client(test.url, 2000, { pollIntervalMs: 60_000 });
    const subs = [jobs.nextJobExecutionChanged().subscribe(), jobs.nextJobExecutionChanged().subscribe(), jobs.jobExecutionsChanged().subscribe()];
    const other = createJobsClient({ thingName: 'thing-A', transport: httpsTransport({ endpoint: test.url, region: 'us-east-1', credentials: sdkKeys }) });
    subs.push(other.nextJobExecutionChanged().subscribe());
    await waitForRequests(test, 3);
    await sleep(50);
    subs.forEach((s) => s.unsubscribe());
    // One poll per stream of each transport: Describe($next) and GetPending for `jobs`, Describe($next) for `other`.
    expect(test.requests.map((r) => r.url).sort()).toEqual([
      '/things/thing-A/jobs',
      '/things/thing-A/jobs/%24next?includeJobDocument=true',
      '/things/thing-A/jobs/%24next?includeJobDocument=true',
    ]);
  });

  it('https transport - device-certificate mode: mutual TLS, no SigV4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iot-jobs-mtls-'));
    try {
      const device = issueDeviceCertificate(dir, 'thing-A');
      const read = (name: string) => readFileSync(join(dir, name), 'utf8');
      const ca = read('ca.crt');
      server = await startTestServer((_req, res) => replyJson(res, 200, { inProgressJobs: [], queuedJobs: [] }), { cert: read('server.crt'), key: read('server.key'), clientCa: ca });
      const transport = httpsTransport({ endpoint: server.url, tls: { ...device, ca } });
      const jobs = createJobsClient({ thingName: 'thing-A', transport });
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toEqual({ inProgressJobs: [], queuedJobs: [] });
      expect(server.requests[0]).toMatchObject({ clientCn: 'thing-A', url: '/things/thing-A/jobs' });
      expect(server.requests[0]?.headers).not.toHaveProperty('authorization');
      const anonymous = httpsTransport({ endpoint: server.url, region: 'us-east-1', credentials: sdkKeys, tls: { ca } });
      await expect(firstValueFrom(createJobsClient({ thingName: 'thing-A', transport: anonymous }).getPendingJobExecutions())).rejects.toBeInstanceOf(TransportError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('https transport - device-certificate mode defaults to port 8443', async () => {
    const transport = httpsTransport({ endpoint: 'localhost', tls: { cert: 'c', key: 'k' } });
    const error = await errorOf(firstValueFrom(transport.request({ operation: 'getPendingJobExecutions', thingName: thing('thing-A'), clientToken: 't', payload: {} }).pipe(take(1), toArray())));
    expect(error).toMatchObject({ name: 'TransportError', message: expect.stringContaining('localhost:8443') });
  });
});
