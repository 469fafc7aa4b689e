import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { createJob, eventually, freshThing, jsonLines } from './helpers';

/**
 * The CLI as a process: every command closes its connection, so the process ends by itself (no dangling
 * handle keeps it alive), and `watch` ends with 0 on SIGTERM. Runs `node --import tsx src/cli/index.ts`.
 */

const repoRoot = join(__dirname, '..', '..');
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu.close();
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
