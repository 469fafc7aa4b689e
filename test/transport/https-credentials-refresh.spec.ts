import { asyncScheduler, firstValueFrom, type SchedulerLike } from 'rxjs';
import { createJobsClient } from '../../src';
import { iotCredentialsProvider } from '../../src/transport/credentials';
import { httpsTransport } from '../../src/transport/https';
import { useDevicePem } from '../helpers/device-pem';
import { replyJson, startTestServer, type TestServer } from '../helpers/http-server';

const minute = 60_000;

describe('a slow credentials refresh does not fail requests that hold valid credentials', () => {
  const devicePem = useDevicePem('review-refresh-');
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('past 80 % of the lifetime, with the credentials endpoint hanging, requests still succeed on the held credentials', async () => {
    const pem = devicePem();
    let issued = 0;
    const creds = await startTestServer((_r, res) => {
      issued += 1;
      if (issued > 1) return; // the endpoint hangs from now on
      replyJson(res, 200, { credentials: { accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: new Date(Date.now() + 60 * minute).toISOString() } });
    }, { cert: pem.serverCert, key: pem.serverKey, clientCa: pem.ca });
    const jobsServer = await startTestServer((_r, res) => replyJson(res, 200, { inProgressJobs: [], queuedJobs: [] }));
    servers.push(creds, jobsServer);
    // The wall clock, moved forward on demand (the provider's documented `scheduler` option).
    let skew = 0;
    const clock: SchedulerLike = { now: () => Date.now() + skew, schedule: asyncScheduler.schedule.bind(asyncScheduler) };
    // Both deadlines equal, as their defaults are (10 s each); 1 s here to keep the test quick.
    const credentials = iotCredentialsProvider({ endpoint: creds.url, roleAlias: 'alias', cert: pem.cert, key: pem.key, ca: pem.ca, scheduler: clock, timeoutMs: 1000 });
    const jobs = createJobsClient({ thingName: 'thing-A', timeoutMs: 1000, transport: httpsTransport({ endpoint: jobsServer.url, region: 'us-east-1', credentials }) });
    await firstValueFrom(jobs.getPendingJobExecutions());
    skew = 49 * minute; // past the 80 % refresh point; the credentials are good for 11 more minutes
    // Found by review: the requests waited on the hanging refresh instead of using the held credentials, and
    // missed their deadline, again at each retry (every retryAfterMs, 30 s). They go on with the held ones.
    const outcome = () => firstValueFrom(jobs.getPendingJobExecutions()).then(() => 'ok', (e: unknown) => (e instanceof Error ? e.name : String(e)));
    const outcomes = [await outcome(), await outcome()];
    skew += 31_000;
    outcomes.push(await outcome());
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
  });
});
