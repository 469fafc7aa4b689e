// Found by review: timer options of 2^31 ms or more fired at once; an explicit :443 became 8443.
import { firstValueFrom, take, toArray } from 'rxjs';
import { createJobsClient } from '../../src';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { httpsTransport } from '../../src/transport/https';
import { useDevicePem } from '../helpers/device-pem';
import { replyJson, startTestServer, type TestServer } from '../helpers/http-server';
import { thing } from '../helpers/names';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('transport and provider options', () => {
  const devicePem = useDevicePem('review-opt-');
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('device-certificate mode keeps an explicit :443 in the endpoint URL', async () => {
    const transport = httpsTransport({ endpoint: 'https://localhost:443', tls: { cert: 'c', key: 'k' } });
    const error = await firstValueFrom(
      transport.request({ operation: 'getPendingJobExecutions', thingName: thing('thing-A'), clientToken: 't', payload: {} }).pipe(take(1), toArray()),
    ).catch((e: unknown) => e);
    expect(String(error)).not.toContain('localhost:8443');
  });

  it('pollIntervalMs beyond 2^31-1 ms is refused (or honoured), never a poll every millisecond', async () => {
    server = await startTestServer((_r, res) => replyJson(res, 200, { inProgressJobs: [], queuedJobs: [] }));
    const make = () => httpsTransport({ endpoint: server?.url ?? '', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' }, pollIntervalMs: 2 ** 31 });
    let transport: ReturnType<typeof make>;
    try {
      transport = make();
    } catch (error) {
      expect(error).toMatchObject({ name: 'InvalidRequestError' });
      return;
    }
    const sub = createJobsClient({ thingName: 'thing-A', transport }).jobExecutionsChanged().subscribe({ error: () => undefined });
    await sleep(200);
    sub.unsubscribe();
    expect(server.requests.length).toBeLessThanOrEqual(1);
  });

  it('iotCredentialsProvider timeoutMs beyond 2^31-1 ms is refused (or honoured), never a timeout at once', async () => {
    const pem = devicePem();
    server = await startTestServer(
      (_r, res) => replyJson(res, 200, { credentials: { accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: new Date(Date.now() + 3_600_000).toISOString() } }),
      { cert: pem.serverCert, key: pem.serverKey, clientCa: pem.ca },
    );
    let get: ReturnType<typeof iotCredentialsProvider>;
    try {
      get = iotCredentialsProvider({ endpoint: server.url, roleAlias: 'alias', cert: pem.cert, key: pem.key, ca: pem.ca, timeoutMs: 2 ** 31 });
    } catch (error) {
      expect(error).toMatchObject({ name: 'InvalidRequestError' });
      return;
    }
    await expect(firstValueFrom(get())).resolves.toMatchObject({ accessKeyId: 'ASIA1' });
  });
});

// Found by review: http:// was taken for any host, so signatures and session tokens could cross a network in
// clear; TLS must be verified whatever the agent options say.
describe('plain HTTP', () => {
  const keys = { region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'S' } };

  it.each(['http://192.168.1.20:8080', 'http://example.com', 'http://10.0.0.1'])('refuses %s unless allowPlainHttp', (endpoint) => {
    expect(() => httpsTransport({ endpoint, ...keys })).toThrow(/endpoint: http:\/\/ only to a loopback host/);
    expect(() => httpsTransport({ endpoint, ...keys, allowPlainHttp: true })).not.toThrow();
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080', 'http://127.1.2.3'])('takes the loopback host %s', (endpoint) => {
    expect(() => httpsTransport({ endpoint, ...keys })).not.toThrow();
  });
});
