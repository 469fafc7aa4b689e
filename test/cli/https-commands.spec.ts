import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { createJob, freshThing, isoDate, jsonLines, runCli } from './helpers';

/** The device sub-commands over the emulator's iot-jobs-data API (http:// on loopback, SigV4 checked). */

let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'iot-jobs-cli-https-'));
});

afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The emulator's keys as the AWS standard environment variables. */
const awsEnv = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey });

const on = (thing: string): string[] => ['--endpoint', emu.dataEndpoint, '--thing', thing];

describe('iot-jobs device commands over HTTPS (SigV4)', () => {
  it('cli https - pending, describe, update and start-next with the keys from AWS_* variables', async () => {
    const thing = freshThing('https');
    createJob(emu, thing, 'job-h1', { op: 'install' });
    createJob(emu, thing, 'job-h2');

    const [pending] = jsonLines((await runCli(['pending', ...on(thing), '--json'], awsEnv())).stdout);
    expect(pending).toEqual({
      inProgressJobs: [],
      queuedJobs: [expect.objectContaining({ jobId: 'job-h1', queuedAt: expect.stringMatching(isoDate) }), expect.objectContaining({ jobId: 'job-h2' })],
    });

    const described = await runCli(['describe', 'job-h1', ...on(thing), '--json'], awsEnv());
    expect(described.stderr).toBe('');
    // Over HTTPS the document arrives as a JSON string: it is printed parsed, as over MQTT.
    expect(jsonLines(described.stdout)).toEqual([{ execution: expect.objectContaining({ jobId: 'job-h1', status: 'QUEUED', jobDocument: { op: 'install' } }) }]);

    const updated = await runCli(['update', 'job-h1', 'IN_PROGRESS', ...on(thing), '--details', '{"step":"download"}'], awsEnv());
    expect(updated).toEqual({ code: 0, stdout: 'job-h1: IN_PROGRESS  version 2  details step=download\n', stderr: '' });
    const human = await runCli(['pending', ...on(thing)], awsEnv());
    expect(human.stdout).toMatch(/\nIN_PROGRESS +job-h1 +1 +2 /);
    expect(human.stdout).toMatch(/\nQUEUED +job-h2 +1 +1 /);

    const stale = await runCli(['update', 'job-h1', 'SUCCEEDED', ...on(thing), '--expected-version', '1'], awsEnv());
    // The HTTP API has no VersionMismatch: a stale version is an InvalidStateTransitionException.
    expect(stale).toEqual({ code: 1, stdout: '', stderr: 'iot-jobs: RejectedError: InvalidStateTransition: expectedVersion 1 does not match version 2\n' });
    const [started] = jsonLines((await runCli(['start-next', ...on(thing), '--json'], awsEnv())).stdout);
    expect(started).toEqual({ execution: expect.objectContaining({ jobId: 'job-h1', status: 'IN_PROGRESS' }) });
  });

  it('cli https - the keys from the config file work too; a rejection is RejectedError with its code', async () => {
    const thing = freshThing('https');
    createJob(emu, thing, 'job-c1');
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ endpoint: emu.dataEndpoint, thing, region: 'eu-west-1', ...emu.credentials }));
    const run = await runCli(['describe', '$next', '--config', file, '--json']);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([{ execution: expect.objectContaining({ jobId: 'job-c1' }) }]);
    const missing = await runCli(['describe', 'job-none', '--config', file]);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^iot-jobs: RejectedError: ResourceNotFound: [^\n]*\n$/) });
  });

  it('cli https - secrets never appear in the output: not with --verbose, not in errors', async () => {
    const thing = freshThing('https');
    const secret = emu.credentials.secretAccessKey;
    const token = 'session-token-that-must-stay-hidden';
    const ok = await runCli(['pending', ...on(thing), '--verbose'], { ...awsEnv(), AWS_SESSION_TOKEN: token });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/^iot-jobs: connecting to http:\/\/127\.0\.0\.1:\d+\/ as https-\S+ \(SigV4 keys from the environment, region us-east-1\)\n$/);

    const wrongSecret = 'not-the-emulator-secret-0123456789';
    const refused = await runCli(['pending', ...on(thing), '--verbose'], { AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: wrongSecret });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/iot-jobs: TransportError: getPendingJobExecutions: HTTP 403/);

    const file = join(dir, 'secret.json');
    writeFileSync(file, JSON.stringify({ endpoint: emu.dataEndpoint, thing, accessKeyId: emu.credentials.accessKeyId, secretAccessKey: wrongSecret }));
    const fromFile = await runCli(['describe', 'job-x', '--verbose', '--config', file]);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toContain(`SigV4 keys from config file ${file}`);

    for (const run of [ok, refused, fromFile]) {
      for (const hidden of [secret, token, wrongSecret]) expect(run.stdout + run.stderr).not.toContain(hidden);
    }
  });
});
