import mqtt from 'mqtt';
import { main } from '../../src/cli';
import { startEmulator, type Emulator } from '../../src/emulator';
import { captureIo, createJob, eventually, freshThing, isoDate, jsonLines } from './helpers';

/** `iot-jobs watch` in process, stopped by an AbortSignal (as SIGINT or SIGTERM stop it in a shell). */

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu.close();
});

/** Starts `watch` for a new thing; resolves once it says it is watching. */
const startWatch = async (args: readonly string[], env: Readonly<Record<string, string>> = {}) => {
  const thing = freshThing('watch');
  const abort = new AbortController();
  const captured = captureIo(env, { signal: abort.signal });
  const exit = main(['node', 'iot-jobs', 'watch', '--thing', thing, ...args], captured.io);
  await eventually(() => captured.stderr().includes('watching'), 10_000, 'watch ready line');
  return { thing, abort, exit, ...captured };
};

describe('iot-jobs watch', () => {
  it('cli watch - prints notify and notify-next when a job is created; an abort closes it and it exits 0', async () => {
    const watch = await startWatch(['--endpoint', emu.mqttUrl]);
    expect(watch.stderr()).toBe(`iot-jobs: watching ${watch.thing} on ${emu.mqttUrl}: 0 in progress, 0 queued (Ctrl-C to stop)\n`);
    createJob(emu, watch.thing, 'job-w1');
    await eventually(() => watch.stdout().includes('notify-next job-w1 QUEUED'), 10_000, 'notify-next line');
    await eventually(() => /notify +in progress: - {2}queued: job-w1\n/.test(watch.stdout()), 10_000, 'notify line');
    watch.abort.abort();
    expect(await watch.exit).toBe(0);
    const lines = watch.stdout().trimEnd().split('\n');
    expect(lines.sort()).toEqual([
      expect.stringMatching(/^\S+Z notify {6}in progress: - {2}queued: job-w1$/),
      expect.stringMatching(/^\S+Z notify-next job-w1 QUEUED$/),
    ]);
    // Closed: a change after the abort is not printed.
    const printed = watch.stdout();
    createJob(emu, watch.thing, 'job-w2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(watch.stdout()).toBe(printed);
  });

  it('cli watch - --json prints exactly one JSON document per line: event, ISO timestamp, jobs or execution', async () => {
    const watch = await startWatch(['--endpoint', emu.mqttUrl, '--json']);
    createJob(emu, watch.thing, 'job-j1', { op: 'install' });
    await eventually(() => watch.stdout().split('\n').length >= 3, 10_000, 'two JSON lines');
    watch.abort.abort();
    expect(await watch.exit).toBe(0);
    const docs = jsonLines(watch.stdout());
    expect(docs).toHaveLength(2);
    expect(docs).toEqual(
      expect.arrayContaining([
        { event: 'notify', timestamp: expect.stringMatching(isoDate), jobs: { QUEUED: [expect.objectContaining({ jobId: 'job-j1', queuedAt: expect.stringMatching(isoDate) })] } },
        { event: 'notify-next', timestamp: expect.stringMatching(isoDate), execution: expect.objectContaining({ jobId: 'job-j1', status: 'QUEUED', jobDocument: { op: 'install' } }) },
      ]),
    );
  });

  it('cli watch - a notification that cannot be decoded is one line on stderr, and the watch goes on', async () => {
    const watch = await startWatch(['--endpoint', emu.mqttUrl]);
    const other = await mqtt.connectAsync(emu.mqttUrl, { clientId: `${watch.thing}-other`, reconnectPeriod: 0 });
    try {
      await other.publishAsync(`$aws/things/${watch.thing}/jobs/notify-next`, '{"timestamp":"yesterday"}', { qos: 1 });
      await eventually(() => watch.stderr().includes('yesterday'), 10_000, 'the DecodeError line');
      createJob(emu, watch.thing, 'job-d1');
      await eventually(() => watch.stdout().includes('notify-next job-d1 QUEUED'), 10_000, 'notify-next line after it');
    } finally {
      await other.endAsync();
    }
    watch.abort.abort();
    expect(await watch.exit).toBe(0);
    expect(watch.stderr()).toMatch(/DecodeError: cannot decode NextJobExecutionChangedEvent on \$aws\/things\/\S+\/jobs\/notify-next: timestamp: expected EpochSeconds, got "yesterday"/);
  });

  it('cli watch - over HTTPS, polling at --poll-interval, prints the same events', async () => {
    const env = { AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey };
    const watch = await startWatch(['--endpoint', emu.dataEndpoint, '--poll-interval', '100', '--json'], env);
    createJob(emu, watch.thing, 'job-p1');
    await eventually(() => watch.stdout().includes('"event":"notify-next"') && watch.stdout().includes('"event":"notify"'), 10_000, 'polled events');
    watch.abort.abort();
    expect(await watch.exit).toBe(0);
    expect(jsonLines(watch.stdout())).toEqual(
      expect.arrayContaining([{ event: 'notify-next', timestamp: expect.stringMatching(isoDate), execution: expect.objectContaining({ jobId: 'job-p1' }) }]),
    );
  });
});
