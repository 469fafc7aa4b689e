import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';

// Found by a new user's walkthrough: examples/describe.ts dropped IOT_JOBS_CERT/KEY/CA (so it could not reach
// AWS IoT Core or the TLS emulator), and examples/watch.ts connected before its thing name was checked and
// then never exited.

const repoRoot = join(__dirname, '..', '..');

const run = (script: string, args: readonly string[], env: Readonly<Record<string, string>> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join('examples', script), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => {
      proc.kill('SIGKILL');
    }, 20_000);
    proc.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });

describe('examples', () => {
  let dir: string;
  let emu: Emulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iot-jobs-examples-'));
    emu = await startEmulator({ tlsDir: dir, tlsThings: ['thing-A'] });
    emu.engine.createJob({ jobId: 'job-e1', targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: JSON.stringify({ op: 'x' }) });
  });

  afterAll(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describe.ts - connects with mutual TLS from IOT_JOBS_CERT, IOT_JOBS_KEY and IOT_JOBS_CA', async () => {
    const env = { IOT_JOBS_CERT: join(dir, 'thing-A.crt'), IOT_JOBS_KEY: join(dir, 'thing-A.key'), IOT_JOBS_CA: join(dir, 'ca.crt') };
    const { code, stdout, stderr } = await run('describe.ts', [emu.mqttUrl, 'thing-A'], env);
    expect(stderr).toBe('');
    expect(stdout).toContain('queued:      job-e1');
    expect(code).toBe(0);
  }, 30_000);

  // aws-crt has no binary for some platforms (a 32-bit Pi): there the example cannot run, and is skipped.
  const crtLoads = ((): boolean => {
    try {
      createRequire(__filename)('aws-iot-device-sdk-v2');
      return true;
    } catch {
      return false;
    }
  })();
  (crtLoads ? it : it.skip)('aws-crt.ts - describes over an aws-crt connection with mutual TLS, as describe.ts does over mqtt.js', async () => {
    const env = { IOT_JOBS_CERT: join(dir, 'thing-A.crt'), IOT_JOBS_KEY: join(dir, 'thing-A.key'), IOT_JOBS_CA: join(dir, 'ca.crt') };
    const { code, stdout, stderr } = await run('aws-crt.ts', [emu.mqttUrl, 'thing-A'], env);
    expect(stderr).toBe('');
    expect(stdout).toContain('queued:      job-e1');
    expect(stdout).toContain('"jobId": "job-e1"');
    expect(code).toBe(0);
  }, 30_000);

  it.each(['describe.ts', 'watch.ts', 'aws-crt.ts'])('%s - refuses a bad thing name before connecting, and exits 2', async (script) => {
    const { code, stderr } = await run(script, [emu.mqttUrl, 'bad!thing']);
    expect(stderr).toContain('invalid thing name "bad!thing"');
    expect(code).toBe(2);
  }, 30_000);
});
