import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRoleAlias, startEmulator, type Emulator } from '../../src/emulator';
import { createJob, jsonLines, runCli } from './helpers';

/** Mutual TLS with the emulator's device certificate: mqtts://, https:// without SigV4, and the role alias. */

let dir: string;
let emu: Emulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iot-jobs-cli-tls-'));
  emu = await startEmulator({ tlsDir: dir, tlsThings: ['thing-A'] });
});

afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `--cert`, `--key`, `--ca` relative to the TLS folder (the working folder of the run). */
const pem = ['--thing', 'thing-A', '--cert', 'thing-A.crt', '--key', 'thing-A.key', '--ca', 'ca.crt'];

const queuedIds = (stdout: string): unknown => {
  const [doc] = jsonLines(stdout);
  return typeof doc === 'object' && doc !== null && 'queuedJobs' in doc && Array.isArray(doc.queuedJobs) ? doc.queuedJobs.map((j: unknown) => (typeof j === 'object' && j !== null && 'jobId' in j ? j.jobId : j)) : doc;
};

describe('iot-jobs device commands with the device certificate', () => {
  it('cli tls - mqtts://, https:// in device-certificate mode, and https:// with the role alias all see the same jobs', async () => {
    createJob(emu, 'thing-A', 'job-tls');
    const modes: [string, readonly string[], RegExp][] = [
      ['mqtts', ['--endpoint', emu.mqttUrl], /\(client id thing-A, device certificate\)\n$/],
      ['device certificate', ['--endpoint', emu.dataEndpoint], /\(device certificate\)\n$/],
      [
        'role alias',
        ['--endpoint', emu.dataEndpoint, '--credentials-endpoint', emu.credentialsEndpoint ?? '', '--role-alias', defaultRoleAlias],
        new RegExp(`\\(role alias ${defaultRoleAlias} from https://\\S+, region us-east-1\\)\\n$`),
      ],
    ];
    const key = readFileSync(join(dir, 'thing-A.key'), 'utf8');
    expect(key).toContain('PRIVATE KEY');
    for (const [mode, args, summary] of modes) {
      const run = await runCli(['pending', '--json', ...pem, ...args, '--verbose'], {}, { cwd: dir });
      expect({ mode, code: run.code }).toEqual({ mode, code: 0 });
      expect(queuedIds(run.stdout)).toEqual(['job-tls']);
      expect(run.stderr).toMatch(summary);
      // Never the key, whatever --verbose prints.
      expect(run.stderr).not.toContain('PRIVATE KEY');
      expect(run.stderr).not.toContain(key.split('\n')[1]);
    }
  });

  it('cli tls - without a trusted CA the TLS connection fails: exit 1, one line', async () => {
    const run = await runCli(['pending', '--thing', 'thing-A', '--cert', 'thing-A.crt', '--key', 'thing-A.key', '--endpoint', emu.mqttUrl, '--timeout', '3000'], {}, { cwd: dir });
    expect(run).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(/^iot-jobs: TransportError: [^\n]+\n$/) });
  });
});
