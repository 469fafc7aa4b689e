import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { createJobsClient, RejectedError, TransportError } from '../../src';
import { defaultRoleAlias, startEmulator, type Emulator } from '../../src/emulator';
import { issueDeviceCertificate } from '../../src/emulator/tls';
import { iotCredentialsProvider, type IotCredentialsProviderOptions } from '../../src/transport/credentials';
import { httpsTransport, type HttpsTlsOptions } from '../../src/transport/https';
import { signRequest } from '../../src/transport/sigv4';

const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);
const empty = { inProgressJobs: [], queuedJobs: [] };

interface Pem {
  readonly cert: string;
  readonly key: string;
}

describe('emulator data plane in TLS mode', () => {
  let dir: string;
  let otherDir: string;
  let emu: Emulator;
  let ca: string;
  let thingA: Pem;
  let stranger: Pem;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iot-jobs-tls-data-'));
    otherDir = mkdtempSync(join(tmpdir(), 'iot-jobs-tls-other-'));
    emu = await startEmulator({ tlsDir: dir, tlsThings: ['thing-A', 'thing-B'] });
    ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    thingA = { cert: readFileSync(join(dir, 'thing-A.crt'), 'utf8'), key: readFileSync(join(dir, 'thing-A.key'), 'utf8') };
    // Same CN, another CA: a certificate the emulator never issued.
    stranger = issueDeviceCertificate(otherDir, 'thing-A');
  });
  afterAll(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });

  const createJob = (jobId: string, thing = 'thing-A') => {
    const result = emu.engine.createJob({ jobId, targets: [`arn:aws:iot:us-east-1:123456789012:thing/${thing}`], document: JSON.stringify({ op: jobId }) });
    if (!result.ok) throw new Error(result.message);
  };
  const certClient = (thingName: string, tls: HttpsTlsOptions = { ...thingA, ca }) =>
    createJobsClient({ thingName, transport: httpsTransport({ endpoint: emu.dataEndpoint, tls }), timeoutMs: 5000 });
  const provider = (overrides: Partial<IotCredentialsProviderOptions> = {}) =>
    iotCredentialsProvider({ endpoint: emu.credentialsEndpoint ?? '', roleAlias: defaultRoleAlias, thingName: 'thing-A', ...thingA, ca, ...overrides });

  it('tls data plane - the four operations work with a device certificate and no SigV4', async () => {
    createJob('cert-job');
    const jobs = certClient('thing-A');
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [{ jobId: 'cert-job' }] });
    const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: 'download' } }));
    expect(execution).toMatchObject({ jobId: 'cert-job', status: 'IN_PROGRESS', versionNumber: 2, jobDocument: { op: 'cert-job' } });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'cert-job' }))).resolves.toMatchObject({ execution: { status: 'IN_PROGRESS' } });
    const done = await firstValueFrom(jobs.updateJobExecution({ jobId: 'cert-job', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }));
    expect(done).toEqual({ executionState: { status: 'SUCCEEDED', statusDetails: { step: 'download' }, versionNumber: 3 } });
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toEqual(empty);
  });

  it("tls data plane - another thing's path with thing-A's certificate is 403 ForbiddenException", async () => {
    createJob('b-job', 'thing-B');
    const error = await errorOf(firstValueFrom(certClient('thing-B').getPendingJobExecutions()));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ httpStatus: 403, message: expect.stringMatching(/^getPendingJobExecutions: HTTP 403 ForbiddenException: Not authorized: the device certificate is for thing thing-A/) });
    expect(emu.engine.getPendingJobExecutions('thing-B').queuedJobs).toHaveLength(1);
  });

  it('tls data plane - a certificate of another CA without SigV4 is 400 CertificateValidationException', async () => {
    const error = await errorOf(firstValueFrom(certClient('thing-A', { ...stranger, ca }).getPendingJobExecutions()));
    expect(error).toBeInstanceOf(RejectedError);
    expect(error).toMatchObject({ code: 'CertificateValidationException', httpStatus: 400, exceptionName: 'CertificateValidationException' });
  });

  it('tls data plane - neither a certificate nor SigV4 is 403 MissingAuthenticationTokenException', async () => {
    const reply = await rawGet('/things/thing-A/jobs', {});
    expect(reply.status).toBe(403);
    expect(reply.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(reply.body).toMatch(/no device certificate was presented/);
  });

  it('tls data plane - SigV4 works for any thing, with or without a certificate, and the signature decides', async () => {
    const sigv4 = (thingName: string, tls: HttpsTlsOptions) =>
      createJobsClient({ thingName, transport: httpsTransport({ endpoint: emu.dataEndpoint, region: 'us-east-1', credentials: emu.credentials, tls }) });
    await expect(firstValueFrom(sigv4('thing-C', { ca }).getPendingJobExecutions())).resolves.toEqual(empty);
    await expect(firstValueFrom(sigv4('thing-C', { ...thingA, ca }).getPendingJobExecutions())).resolves.toEqual(empty);
    const wrong = createJobsClient({
      thingName: 'thing-A',
      transport: httpsTransport({ endpoint: emu.dataEndpoint, region: 'us-east-1', credentials: { ...emu.credentials, secretAccessKey: 'wrong' }, tls: { ...thingA, ca } }),
    });
    await expect(errorOf(firstValueFrom(wrong.getPendingJobExecutions()))).resolves.toMatchObject({ name: 'TransportError', httpStatus: 403 });
  });

  it('credentials endpoint - iotCredentialsProvider gets temporary credentials whose SigV4 (with session token) the data plane accepts', async () => {
    expect(emu.credentialsEndpoint).toBe(emu.dataEndpoint);
    const credentials = provider();
    const keys = await firstValueFrom(credentials());
    expect(keys).toMatchObject({ accessKeyId: emu.credentials.accessKeyId, secretAccessKey: emu.credentials.secretAccessKey, sessionToken: expect.stringMatching(/^[A-Za-z0-9+/=]{40,}$/) });
    const lifetimeS = ((keys.expiration?.getTime() ?? 0) - Date.now()) / 1000;
    expect(lifetimeS).toBeGreaterThan(3590);
    expect(lifetimeS).toBeLessThanOrEqual(3600);
    createJob('sigv4-job', 'thing-B');
    const jobs = createJobsClient({ thingName: 'thing-B', transport: httpsTransport({ endpoint: emu.dataEndpoint, region: 'us-east-1', credentials, tls: { ca } }) });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'sigv4-job' }))).resolves.toMatchObject({ execution: { jobId: 'sigv4-job', status: 'QUEUED' } });
  });

  it('credentials endpoint - the session token is a signed header: changing it after signing is 403', async () => {
    const keys = await firstValueFrom(provider()());
    const host = new URL(emu.dataEndpoint).host;
    const path = '/things/thing-A/jobs';
    const signed = await signRequest({ method: 'GET', path, headers: { host } }, { credentials: keys, region: 'us-east-1', service: 'iot-jobs-data', now: Date.now() });
    expect(signed['x-amz-security-token']).toBe(keys.sessionToken);
    expect(signed.authorization).toContain('x-amz-security-token');
    await expect(rawGet(path, { host, ...signed })).resolves.toMatchObject({ status: 200 });
    const tampered = await rawGet(path, { host, ...signed, 'x-amz-security-token': 'another-token' });
    expect(tampered).toMatchObject({ status: 403, headers: expect.objectContaining({ 'x-amzn-errortype': 'InvalidSignatureException' }) });
  });

  it('credentials endpoint - an unknown role alias is a TransportError with status 404', async () => {
    const error = await errorOf(firstValueFrom(provider({ roleAlias: 'no-such-alias' })()));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ httpStatus: 404, message: 'the credentials provider answered 404 ResourceNotFoundException: Role alias does not exist' });
  });

  it("credentials endpoint - a thing name other than the certificate's is 403 Invalid thing name passed; no header is fine", async () => {
    const error = await errorOf(firstValueFrom(provider({ thingName: 'thing-B' })()));
    expect(error).toMatchObject({ name: 'TransportError', httpStatus: 403, message: 'the credentials provider answered 403 AccessDeniedException: Invalid thing name passed' });
    const withoutThing = iotCredentialsProvider({ endpoint: emu.credentialsEndpoint ?? '', roleAlias: defaultRoleAlias, ...thingA, ca });
    await expect(firstValueFrom(withoutThing())).resolves.toMatchObject({ accessKeyId: emu.credentials.accessKeyId });
  });

  it('credentials endpoint - a certificate of another CA is 403 AccessDeniedException', async () => {
    const error = await errorOf(firstValueFrom(provider(stranger)()));
    expect(error).toMatchObject({ name: 'TransportError', httpStatus: 403, message: 'the credentials provider answered 403 AccessDeniedException: Certificate is invalid on this endpoint' });
  });

  /** An HTTPS GET on the data plane with exactly these headers and no client certificate. */
  const rawGet = (path: string, headers: Readonly<Record<string, string>>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(emu.dataEndpoint);
      const req = https.request({ hostname, port, path, method: 'GET', headers, ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: { ...res.headers }, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      req.end();
    });
});

describe('emulator without TLS', () => {
  it('credentials endpoint - not offered without TLS; /role-aliases/... needs SigV4 like any path', async () => {
    const emu = await startEmulator();
    try {
      expect(emu.credentialsEndpoint).toBeUndefined();
      const response = await fetch(`${emu.dataEndpoint}/role-aliases/${defaultRoleAlias}/credentials`);
      expect(response.status).toBe(403);
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
      await response.arrayBuffer();
    } finally {
      await emu.close();
    }
  });
});
