import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { groupAlive, groupGone, journaledStepGroup } from '../helpers/process-group';
import { captureIo, countingServer, createJob, eventually, freshThing, jsonLines, runCli } from './helpers';
import { main } from '../../src/cli';

/** `iot-jobs run`: the runner on the command line, in process and as a process killed with SIGKILL. */

const repoRoot = join(__dirname, '..', '..');
let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator();
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iot-jobs-run-'));
});

const statusOf = (jobId: string, thing: string): { status: string; statusDetails: Record<string, string> } => {
  const result = emu.engine.describeExecution(jobId, thing);
  if (!result.ok) throw new Error(result.message);
  return result.value;
};

/** A handler folder with one program, `hello.sh`, that prints its arguments. */
const handlerFolder = (): string => {
  const folder = join(dir, 'handlers');
  const script = join(folder, 'hello.sh');
  mkdirSync(folder, { mode: 0o700 });
  writeFileSync(script, '#!/bin/sh\necho "hello $2"\n');
  chmodSync(script, 0o700);
  return folder;
};

const connection = (thing: string): string[] => ['--endpoint', emu.mqttUrl, '--thing', thing];

/**
 * Starts `iot-jobs run` as a process on a job whose step sleeps 30 s, kills it with SIGKILL once the step's
 * process group is journaled, and returns the journal and that group.
 */
const killRunnerMidStep = async (thing: string, jobId: string): Promise<{ journal: string; pgid: number }> => {
  createJob(emu, thing, jobId, { version: '1.0', steps: [{ action: { name: 'Wait', type: 'runCommand', input: { command: 'sleep,30' } } }] });
  const journal = join(dir, 'j.json');
  const args = ['--import', 'tsx', 'src/cli/index.ts', 'run', ...connection(thing), '--handlers', handlerFolder(), '--journal', journal, '--allow-commands'];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await eventually(() => out.includes('started'), 20_000, 'the job starts in the child');
  await eventually(() => existsSync(journal) && readFileSync(journal, 'utf8').includes('"pgid"'), 10_000, 'the step group is journaled');
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return { journal, pgid: journaledStepGroup(journal) };
};

describe('iot-jobs run', () => {
  it('cli run - --once runs the pending Device Client jobs from the handler folder and exits 0', async () => {
    const thing = freshThing('run');
    createJob(emu, thing, 'hello-1', { version: '1.0', includeStdOut: true, steps: [{ action: { name: 'Hello', type: 'runHandler', input: { handler: 'hello.sh', args: ['world'] } } }] });
    const journal = join(dir, 'state', 'journal.json');
    const run = await runCli(['run', ...connection(thing), '--handlers', handlerFolder(), '--journal', journal, '--once']);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/started\s+hello-1 #1 \(device-client\)/);
    expect(run.stdout).toMatch(/reported\s+hello-1 #1 SUCCEEDED/);
    expect(statusOf('hello-1', thing)).toMatchObject({ status: 'SUCCEEDED', statusDetails: { reason: 'Job exited with status: 0', stdout: 'hello world⏎' } });
    expect(existsSync(journal)).toBe(true);
  });

  it('cli run - runCommand is REJECTED without --allow-commands and runs with it; --json prints events', async () => {
    const thing = freshThing('run');
    const document = { version: '1.0', steps: [{ action: { name: 'Touch', type: 'runCommand', input: { command: `touch,${join(dir, 'touched')}` } } }] };
    createJob(emu, thing, 'cmd-1', document);
    const refused = await runCli(['run', ...connection(thing), '--handlers', handlerFolder(), '--journal', join(dir, 'j.json'), '--once', '--json']);
    expect(refused.code).toBe(0);
    const events = jsonLines(refused.stdout);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'rejected', jobId: 'cmd-1' }));
    expect(statusOf('cmd-1', thing).statusDetails['reason']).toContain('runCommand is disabled');
    expect(existsSync(join(dir, 'touched'))).toBe(false);

    createJob(emu, thing, 'cmd-2', document);
    const allowed = await runCli(['run', ...connection(thing), '--handlers', join(dir, 'handlers'), '--journal', join(dir, 'j.json'), '--once', '--allow-commands', '--json']);
    expect(allowed.code).toBe(0);
    expect(jsonLines(allowed.stdout)).toContainEqual(expect.objectContaining({ kind: 'reported', jobId: 'cmd-2', status: 'SUCCEEDED' }));
    expect(existsSync(join(dir, 'touched'))).toBe(true);
  });

  it('cli run - stops on a signal (exit 0) and the next start ends the interrupted job FAILED "interrupted"', async () => {
    const thing = freshThing('run');
    createJob(emu, thing, 'slow-1', { version: '1.0', steps: [{ action: { name: 'Wait', type: 'runCommand', input: { command: 'sleep,30' } } }] });
    const journal = join(dir, 'j.json');
    const stop = new AbortController();
    const captured = captureIo({}, { signal: stop.signal });
    const running = main(['node', 'iot-jobs', 'run', ...connection(thing), '--handlers', handlerFolder(), '--journal', journal, '--allow-commands'], captured.io);
    await eventually(() => captured.stdout().includes('started'), 10_000, 'the job starts');
    stop.abort();
    expect(await running).toBe(0);
    expect(JSON.parse(readFileSync(journal, 'utf8'))).toMatchObject({ running: { jobId: 'slow-1', handler: 'device-client' } });
    expect(statusOf('slow-1', thing).status).toBe('IN_PROGRESS');

    const again = await runCli(['run', ...connection(thing), '--handlers', join(dir, 'handlers'), '--journal', journal, '--once', '--allow-commands']);
    expect(again.code).toBe(0);
    expect(statusOf('slow-1', thing)).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'interrupted' } });
  }, 30_000);

  it('cli run - a runner killed with SIGKILL mid-job ends the job FAILED "interrupted" on restart, never stuck', async () => {
    const thing = freshThing('run');
    const { journal, pgid } = await killRunnerMidStep(thing, 'killed-1');
    expect(statusOf('killed-1', thing).status).toBe('IN_PROGRESS');
    // The step (sleep 30) runs on in its own process group: the runner's death does not stop it.
    expect(groupAlive(pgid)).toBe(true);

    const again = await runCli(['run', ...connection(thing), '--handlers', join(dir, 'handlers'), '--journal', journal, '--once', '--allow-commands']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/failed\s+killed-1 #1: interrupted/);
    expect(statusOf('killed-1', thing)).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'interrupted', cleanup: `killed the step's leftover process group ${pgid}` } });
    expect(await groupGone(pgid)).toBe(true);
  }, 60_000);

  it('cli run - a step left by a killed runner is killed at the next start even when its job was canceled meanwhile', async () => {
    const thing = freshThing('run');
    const { journal, pgid } = await killRunnerMidStep(thing, 'killed-2');
    expect(emu.engine.cancelJob('killed-2', { force: true }).ok).toBe(true);

    const again = await runCli(['run', ...connection(thing), '--handlers', join(dir, 'handlers'), '--journal', journal, '--once', '--allow-commands']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/canceled\s+killed-2 #1 \(CANCELED\)/);
    expect(await groupGone(pgid)).toBe(true);
  }, 60_000);

  it('cli run - --install-dir runs firmware updates too: download, sha256, install, self-test', async () => {
    const thing = freshThing('run');
    const image = Buffer.alloc(50_000, 7);
    const file = emu.files.put('app-3.1.0.bin', image);
    createJob(emu, thing, 'fw-3-1-0', { operation: 'firmware-update', version: '3.1.0', url: file.url, sha256: file.sha256, size: file.size });
    const installDir = join(dir, 'app');
    const run = await runCli(['run', ...connection(thing), '--journal', join(dir, 'j.json'), '--once', '--install-dir', installDir, '--self-test', 'sh,-c,test -s current/app-3.1.0.bin']);
    expect(run).toMatchObject({ code: 0 });
    expect(statusOf('fw-3-1-0', thing)).toMatchObject({ status: 'SUCCEEDED', statusDetails: { version: '3.1.0' } });
    expect(readlinkSync(join(installDir, 'current'))).toBe(join('releases', '3.1.0'));
    const bad = await runCli(['run', ...connection(thing), '--journal', join(dir, 'j.json'), '--once', '--install-dir', installDir, '--allow-url', 'https://example.com/no-slash']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('allowedUrlPrefixes');
    // Found in review of stop 9: checked only once connected. Refused before any connection now.
    const server = await countingServer();
    try {
      const early = await runCli(['run', '--endpoint', server.url, '--thing', thing, '--timeout', '2000', '--journal', join(dir, 'j.json'), '--once', '--install-dir', installDir, '--allow-url', 'https://example.com/no-slash']);
      expect(early.code).toBe(2);
      expect(early.stderr).toContain('allowedUrlPrefixes');
      expect(server.connections()).toBe(0);
    } finally {
      await server.close();
    }
    // Firmware flags without --install-dir are a usage error, before any connection.
    const orphan = await runCli(['run', '--endpoint', 'mqtt://127.0.0.1:9', '--thing', thing, '--once', '--reboot', 'sudo,reboot']);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('need --install-dir');
  });

  it('cli run - a journal that cannot be written is a failure (exit 1) before any job runs', async () => {
    const thing = freshThing('run');
    createJob(emu, thing, 'never-1', {});
    writeFileSync(join(dir, 'file'), '');
    const run = await runCli(['run', ...connection(thing), '--journal', join(dir, 'file', 'journal.json'), '--once']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^iot-jobs: /);
    expect(statusOf('never-1', thing).status).toBe('QUEUED');
  });
});
