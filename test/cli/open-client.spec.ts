import { firstValueFrom, toArray } from 'rxjs';
import { openJobsClient, resolveConnection } from '../../src/cli';
import { startEmulator } from '../../src/emulator';
import { startBroker } from '../helpers/broker';
import { createJob, eventually, freshThing } from './helpers';

/** openJobsClient(): the helper `run` reuses; reconnected$ and close(). */

const io = (env: Readonly<Record<string, string>> = {}) => ({ env, cwd: process.cwd() });

describe('openJobsClient', () => {
  it('open client - reconnected$ emits each time the MQTT connection comes back, and completes on close', async () => {
    const broker = await startBroker();
    try {
      const opened = await openJobsClient(resolveConnection({ endpoint: broker.url, thing: 'thing-A' }, io()), { reconnectPeriodMs: 50 });
      const seen: string[] = [];
      const all = firstValueFrom(opened.reconnected$.pipe(toArray()));
      opened.reconnected$.subscribe(() => seen.push('reconnected'));
      broker.dropClients();
      await eventually(() => seen.length === 1, 10_000, 'first reconnect');
      broker.dropClients();
      await eventually(() => seen.length === 2, 10_000, 'second reconnect');
      await opened.close();
      await expect(all).resolves.toHaveLength(2);
      await opened.close(); // idempotent
    } finally {
      await broker.close();
    }
  });

  // Found by review: mqttTransport() checks lingerMs, and it threw after the connection was up, outside the
  // close-on-failure path: the caller never got close() and the client kept reconnecting.
  it('open client - a bad lingerMs rejects and leaves no MQTT connection open', async () => {
    const emu = await startEmulator();
    try {
      const thing = freshThing('linger');
      const outcome = await openJobsClient(resolveConnection({ endpoint: emu.mqttUrl, thing }, io()), { lingerMs: 1.5 }).then(
        async (opened) => {
          await opened.close();
          return 'opened';
        },
        (error: unknown) => (error instanceof Error ? error.name : String(error)),
      );
      expect(outcome).toBe('InvalidRequestError');
      // Closed before the rejection: nothing is left to drop.
      expect(emu.faults.disconnect(thing)).toBe(0);
    } finally {
      await emu.close();
    }
  });

  it('open client - over HTTP(S) the client works, reconnected$ never emits and completes on close', async () => {
    const emu = await startEmulator();
    try {
      const thing = freshThing('open');
      createJob(emu, thing, 'job-o');
      const env = { AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey };
      const opened = await openJobsClient(resolveConnection({ endpoint: emu.dataEndpoint, thing }, io(env)));
      const all = firstValueFrom(opened.reconnected$.pipe(toArray()));
      await expect(firstValueFrom(opened.client.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [{ jobId: 'job-o' }] });
      await opened.close();
      await expect(all).resolves.toEqual([]);
    } finally {
      await emu.close();
    }
  });

  it('open client - a connection that fails rejects with TransportError; settings carry no secret in plain sight', async () => {
    const broker = await startBroker();
    const port = broker.port;
    await broker.close();
    await expect(openJobsClient(resolveConnection({ endpoint: `mqtt://127.0.0.1:${port}`, thing: 'thing-A', timeout: 2000 }, io()))).rejects.toMatchObject({ name: 'TransportError' });
    const settings = resolveConnection({ endpoint: 'http://127.0.0.1:1', thing: 'thing-A' }, io({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'very-secret-key' }));
    expect(JSON.stringify(settings)).not.toContain('very-secret-key');
    expect(settings.summary).not.toContain('very-secret-key');
    expect(settings).toMatchObject({ protocol: 'https', region: 'us-east-1', clientId: 'thing-A', timeoutMs: 10_000 });
  });
});
