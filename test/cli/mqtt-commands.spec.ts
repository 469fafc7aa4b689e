import { startEmulator, type Emulator } from '../../src/emulator';
import { startBroker } from '../helpers/broker';
import { countingServer, createJob, freshThing, isoDate, jsonLines, runCli } from './helpers';

/** The device sub-commands over mqtt:// against the emulator, in process. */

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu.close();
});

const on = (thing: string): string[] => ['--endpoint', emu.mqttUrl, '--thing', thing];

describe('iot-jobs device commands over MQTT', () => {
  it('cli pending - a table of in-progress then queued executions; --json has both lists with ISO dates', async () => {
    const thing = freshThing();
    expect(await runCli(['pending', ...on(thing)])).toEqual({ code: 0, stdout: `no pending job executions for ${thing}\n`, stderr: '' });
    createJob(emu, thing, 'job-a');
    createJob(emu, thing, 'job-b');
    expect((await runCli(['start-next', ...on(thing)])).code).toBe(0);

    const human = await runCli(['pending', ...on(thing)]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STATUS\s+JOB\s+EXECUTION\s+VERSION\s+QUEUED\s+UPDATED$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['IN_PROGRESS', 'job-a', '1', '2'],
      ['QUEUED', 'job-b', '1', '1'],
    ]);

    const json = await runCli(['pending', ...on(thing), '--json']);
    expect(json.stderr).toBe('');
    const docs = jsonLines(json.stdout);
    expect(docs).toEqual([
      {
        inProgressJobs: [expect.objectContaining({ jobId: 'job-a', versionNumber: 2, executionNumber: 1, queuedAt: expect.stringMatching(isoDate), startedAt: expect.stringMatching(isoDate) })],
        queuedJobs: [expect.objectContaining({ jobId: 'job-b', versionNumber: 1, queuedAt: expect.stringMatching(isoDate) })],
      },
    ]);
  });

  it('cli describe - one execution with its document; --no-document leaves it out; $next with nothing pending is not an error', async () => {
    const thing = freshThing();
    const none = await runCli(['describe', '$next', ...on(thing)]);
    expect(none).toEqual({ code: 0, stdout: `no pending job execution for ${thing}\n`, stderr: '' });
    expect(jsonLines((await runCli(['describe', '$next', ...on(thing), '--json'])).stdout)).toEqual([{ execution: null }]);

    createJob(emu, thing, 'job-d', { operation: 'reboot' });
    const human = await runCli(['describe', 'job-d', ...on(thing)]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^job-d {2}QUEUED {2}execution 1 {2}version 1\n/);
    expect(human.stdout).toContain('document  {"operation":"reboot"}');

    const [full] = jsonLines((await runCli(['describe', '$next', ...on(thing), '--json'])).stdout);
    expect(full).toEqual({
      execution: expect.objectContaining({ jobId: 'job-d', status: 'QUEUED', versionNumber: 1, jobDocument: { operation: 'reboot' }, queuedAt: expect.stringMatching(isoDate) }),
    });
    const [bare] = jsonLines((await runCli(['describe', 'job-d', ...on(thing), '--json', '--no-document', '--execution-number', '1'])).stdout);
    expect(bare).toEqual({ execution: expect.objectContaining({ jobId: 'job-d', executionNumber: 1 }) });
    expect(bare).not.toHaveProperty('execution.jobDocument');
  });

  it('cli describe - a rejection exits 1 with one line `iot-jobs: RejectedError: <code>: <message>`, nothing on stdout', async () => {
    const thing = freshThing();
    createJob(emu, thing, 'job-r');
    for (const args of [['describe', 'job-nope'], ['describe', 'job-r', '--execution-number', '7']]) {
      const run = await runCli([...args, ...on(thing), '--json']);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^iot-jobs: RejectedError: ResourceNotFound: \S.*\n$/);
    }
  });

  it('cli start-next - starts the next execution with --details and --step-timeout; then nothing pending', async () => {
    const thing = freshThing();
    createJob(emu, thing, 'job-s', { op: 'install' });
    const [started] = jsonLines((await runCli(['start-next', ...on(thing), '--json', '--details', '{"step":"download"}', '--step-timeout', '5'])).stdout);
    expect(started).toEqual({
      execution: expect.objectContaining({ jobId: 'job-s', status: 'IN_PROGRESS', statusDetails: { step: 'download' }, versionNumber: 2, startedAt: expect.stringMatching(isoDate) }),
    });
    const described = await runCli(['describe', 'job-s', ...on(thing)]);
    expect(described.stdout).toMatch(/\n {2}details +step=download\n/);
    expect(described.stdout).toMatch(/times out in {2}\d+ s/);
    // Already IN_PROGRESS: returned as it is.
    expect((await runCli(['start-next', ...on(thing)])).stdout).toMatch(/^job-s {2}IN_PROGRESS {2}execution 1 {2}version 2\n/);
    expect((await runCli(['update', 'job-s', 'SUCCEEDED', ...on(thing)])).code).toBe(0);
    expect(await runCli(['start-next', ...on(thing)])).toEqual({ code: 0, stdout: `nothing pending for ${thing}\n`, stderr: '' });
  });

  it('cli update - reports a status with details and prints the new state; a stale --expected-version is a RejectedError (exit 1)', async () => {
    const thing = freshThing();
    createJob(emu, thing, 'job-u');
    const progress = await runCli(['update', 'job-u', 'in_progress', ...on(thing), '--details', '{"step":"flash","percent":"40"}', '--step-timeout', '10']);
    expect(progress).toEqual({ code: 0, stdout: 'job-u: IN_PROGRESS  version 2  details step=flash, percent=40\n', stderr: '' });
    const stale = await runCli(['update', 'job-u', 'SUCCEEDED', ...on(thing), '--expected-version', '1']);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe('');
    expect(stale.stderr).toMatch(/^iot-jobs: RejectedError: VersionMismatch: .*\n$/);
    const [done] = jsonLines((await runCli(['update', 'job-u', 'SUCCEEDED', ...on(thing), '--expected-version', '2', '--execution-number', '1', '--json'])).stdout);
    expect(done).toEqual({ executionState: { status: 'SUCCEEDED', versionNumber: 3, statusDetails: { step: 'flash', percent: '40' } } });
  });

  it('cli usage - a bad job id, status, --details or number exits 2 with one line, before any connection', async () => {
    const server = await countingServer();
    try {
      const cases = [
        ['describe', 'a/b'],
        ['describe', 'job+1'],
        ['update', 'job-1', 'DONE'],
        ['update', 'job-1', 'SUCCEEDED', '--details', '{not json'],
        ['update', 'job-1', 'SUCCEEDED', '--details', '{"percent":40}'],
        ['update', 'job-1', 'SUCCEEDED', '--details', '["a"]'],
        ['update', 'job-1', 'SUCCEEDED', '--expected-version', '-3'],
        ['start-next', '--step-timeout', '0'],
        ['start-next', '--details', '{"bad key":"x"}'],
        ['pending', '--timeout', 'soon'],
        ['pending', '--bogus'],
        ['update', 'job-1'],
      ];
      for (const args of cases) {
        const run = await runCli([...args, '--endpoint', server.url, '--thing', 'thing-A']);
        expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(run.stderr).toMatch(/^iot-jobs: UsageError: [^\n]+\n$/);
      }
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('cli help - every device command has --help (exit 0, usage on stdout)', async () => {
    for (const name of ['describe', 'pending', 'start-next', 'update', 'watch']) {
      const run = await runCli([name, '--help']);
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(run.stdout).toContain(`Usage: iot-jobs ${name}`);
      expect(run.stdout).toContain('--endpoint <url>');
      expect(run.stdout).toContain('--json');
    }
  });

  it('cli errors - a refused connection and a request with no reply exit 1 with one line', async () => {
    const server = await countingServer();
    const port = new URL(server.url).port;
    await server.close();
    const refused = await runCli(['pending', '--endpoint', `mqtt://127.0.0.1:${port}`, '--thing', 'thing-A']);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^iot-jobs: TransportError: cannot connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n$/) });

    // A broker without the Jobs service: the request is published and never answered.
    const broker = await startBroker();
    try {
      const silent = await runCli(['describe', '$next', '--endpoint', broker.url, '--thing', 'thing-A', '--timeout', '300']);
      expect(silent).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^iot-jobs: RequestTimeoutError: describeJobExecution of \$next timed out after 300 ms .*\n$/) });
      // Found in review of stop 13: with the caller's frames off by default, --verbose printed only a timer's
      // stack. The command asks for them: its stack shows the command that called describeJobExecution.
      const verbose = await runCli(['describe', '$next', '--verbose', '--endpoint', broker.url, '--thing', 'thing-A', '--timeout', '300']);
      expect(verbose.code).toBe(1);
      expect(verbose.stderr).toMatch(/RequestTimeoutError: describeJobExecution of \$next timed out after 300 ms/);
      expect(verbose.stderr).toMatch(/\n\s+at .*src[\\/]cli[\\/]describe\.ts/);
    } finally {
      await broker.close();
    }
  });
});
