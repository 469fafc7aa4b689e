import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { countingServer, createJob, eventually, freshThing, jsonLines } from './helpers';

/**
 * The CLI as a process: every command closes its connection, so the process ends by itself (no dangling
 * handle keeps it alive), and `watch` ends with 0 on SIGTERM. Runs `node --import tsx src/cli/index.ts`.
 */

const repoRoot = join(__dirname, '..', '..');
let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'iot-jobs-proc-'));
});

afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

// The machine's own AWS keys must not leak into these runs.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('IOT_JOBS_')));

const cli = (args: readonly string[], env: Readonly<Record<string, string>> = {}) => {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: repoRoot, stdio: 'pipe', env: { ...baseEnv, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited, stdout: () => stdout, stderr: () => stderr };
};

/** The exit code, or a failure when the process is still alive after `ms` (a dangling handle). */
const exitWithin = async (run: ReturnType<typeof cli>, ms: number): Promise<number | null> => {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const result = await Promise.race([run.exited, hung]).finally(() => clearTimeout(timer));
  if (result === 'hung') {
    run.proc.kill('SIGKILL');
    throw new Error(`still running after ${ms} ms; stderr: ${run.stderr()}`);
  }
  return result;
};

describe('iot-jobs as a process', () => {
  it('cli process - one-shot commands over MQTT and HTTP exit by themselves', async () => {
    const thing = freshThing('proc');
    createJob(emu, thing, 'job-p');
    const keys = { AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey };
    const runs = [
      cli(['pending', '--json', '--endpoint', emu.mqttUrl, '--thing', thing]),
      cli(['describe', 'job-p', '--json'], { IOT_JOBS_ENDPOINT: emu.dataEndpoint, IOT_JOBS_THING: thing, ...keys }),
    ];
    for (const run of runs) {
      expect(await exitWithin(run, 30_000)).toBe(0);
      expect(run.stderr()).toBe('');
      expect(jsonLines(run.stdout())).toHaveLength(1);
    }
  }, 90_000);

  it('cli process - watch prints a notification, and exits 0 on SIGTERM', async () => {
    const thing = freshThing('proc');
    const run = cli(['watch', '--endpoint', emu.mqttUrl, '--thing', thing]);
    await eventually(() => run.stderr().includes('watching'), 30_000, 'watch ready line');
    createJob(emu, thing, 'job-sig');
    await eventually(() => run.stdout().includes('notify-next job-sig QUEUED'), 10_000, 'notify-next line');
    run.proc.kill('SIGTERM');
    expect(await exitWithin(run, 10_000)).toBe(0);
  }, 90_000);
});

/** Closes the reading end of the child's stdout once it has printed something: `| head -1`. */
const closeStdoutAfterFirstLine = (run: ReturnType<typeof cli>): Promise<void> =>
  new Promise((resolve) => {
    run.proc.stdout.once('data', () => {
      run.proc.stdout.destroy();
      resolve();
    });
  });

const noStackTrace = (stderr: string): void => {
  expect(stderr).not.toMatch(/Unhandled 'error' event|\n\s+at /);
};

// Found by review: a closed stdout (`| head -1`) crashed the command with an unhandled EPIPE 'error' event and
// a stack trace; `run` left its handler running and `demo` its temporary folder. Now `watch` and `run` stop as
// on SIGTERM, and other commands finish without writing.
describe('iot-jobs with a closed stdout', () => {
  it('cli - watch | head -1: a closed stdout ends the watch without a stack trace', async () => {
    const thing = freshThing('epipe-w');
    const run = cli(['watch', '--endpoint', emu.mqttUrl, '--thing', thing]);
    const closed = closeStdoutAfterFirstLine(run);
    await eventually(() => run.stderr().includes('watching'), 30_000, 'watch ready line');
    createJob(emu, thing, 'job-e1');
    await closed;
    createJob(emu, thing, 'job-e2');
    createJob(emu, thing, 'job-e3');
    const code = await exitWithin(run, 15_000).catch(() => -1);
    run.proc.kill('SIGTERM');
    noStackTrace(run.stderr());
    expect(code).toBe(0); // stopped as on SIGTERM; null would be a death by signal
  }, 90_000);

  it('cli - run | head -1: a closed stdout does not crash the runner with a stack trace', async () => {
    const thing = freshThing('epipe-r');
    for (let i = 0; i < 3; i++) createJob(emu, thing, `job-r${i}`, { operation: 'no-such-handler' });
    const run = cli(['run', '--once', '--endpoint', emu.mqttUrl, '--thing', thing, '--journal', join(dir, `${thing}.json`), '--handlers', dir]);
    await closeStdoutAfterFirstLine(run);
    await exitWithin(run, 30_000);
    noStackTrace(run.stderr());
  }, 90_000);

  it('cli - demo | head -1: no stack trace, and the temporary folder is removed (docs/cli.md:210)', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const run = cli(['demo'], { TMPDIR: tmp });
    await closeStdoutAfterFirstLine(run);
    await exitWithin(run, 60_000);
    noStackTrace(run.stderr());
    expect(readdirSync(tmp).filter((name) => name.startsWith('iot-jobs-demo-'))).toEqual([]);
  }, 90_000);

});

// Found in review of stop 9: Ctrl-C during `demo` (what `npm start` runs) killed the process by the signal, and
// its temporary folder (emulator state, device files, journal) stayed behind.
describe('iot-jobs demo stopped', () => {
  it.each([['SIGINT'], ['SIGTERM']] as const)('cli - demo: %s while the jobs run removes the temporary folder and exits 1 with one line', async (signal) => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const run = cli(['demo'], { TMPDIR: tmp });
    await eventually(() => run.stdout().includes('firmware-2-1-0') || run.stdout().includes('JOB'), 30_000, 'the demo under way');
    run.proc.kill(signal);
    expect(await exitWithin(run, 15_000)).toBe(1);
    noStackTrace(run.stderr());
    expect(run.stderr()).toBe(`iot-jobs: Stopped: ${signal} came before the demo's jobs ended\n`);
    expect(readdirSync(tmp).filter((name) => name.startsWith('iot-jobs-demo-'))).toEqual([]);
  }, 60_000);
});

// Found by review: Ctrl-C or SIGTERM while `watch` or `run` was still connecting killed the process by the
// signal (exit 130 in a shell) instead of the documented exit 0.
describe('iot-jobs stopped while connecting', () => {
  it.each([['watch'], ['run']])('cli - %s: SIGINT while still connecting exits 0', async (command) => {
    // A server that takes the TCP connection and never answers CONNACK: the connect waits for --timeout.
    const server = await countingServer();
    try {
      const extra = command === 'run' ? ['--journal', join(dir, 'sigc.json'), '--handlers', dir] : [];
      const run = cli([command, '--endpoint', server.url, '--thing', freshThing('sigc'), '--timeout', '5000', ...extra]);
      await eventually(() => server.connections() > 0, 30_000, 'connection attempt');
      run.proc.kill('SIGINT');
      expect(await exitWithin(run, 15_000)).toBe(0);
      noStackTrace(run.stderr());
    } finally {
      await server.close();
    }
  }, 60_000);
});
