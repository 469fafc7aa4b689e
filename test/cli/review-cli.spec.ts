import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { main } from '../../src/cli';
import { startEmulator, type Emulator } from '../../src/emulator';
import { captureIo, createJob, eventually, freshThing, runCli } from '../cli/helpers';

/** Findings of a review of the `iot-jobs` command; each test failed before its fix. */

let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'iot-jobs-review-'));
});

afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey });

describe('iot-jobs CLI: found by review', () => {
  it('cli - an IPv6 literal MQTT endpoint (the emulator\'s own mqttUrl with --host ::1) connects', async () => {
    const emu6 = await startEmulator({ host: '::1' });
    try {
      const thing = freshThing('v6');
      createJob(emu6, thing, 'job-v6');
      expect(emu6.mqttUrl).toMatch(/^mqtt:\/\/\[::1\]:\d+$/);
      const run = await runCli(['pending', '--json', '--endpoint', emu6.mqttUrl, '--thing', thing]);
      // Today: exit 1, "iot-jobs: TransportError: cannot connect to [::1]:NNNN: getaddrinfo ENOTFOUND [::1]"
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toContain('job-v6');
    } finally {
      await emu6.close();
    }
  });

  it('cli - a 403 from the data plane does not print the session token (docs/cli.md:40 "It never prints a secret")', async () => {
    const token = 'SESSION-TOKEN-SECRET-0123456789';
    const run = await runCli(['pending', '--endpoint', emu.dataEndpoint, '--thing', freshThing('tok')], {
      AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: 'a-wrong-secret',
      AWS_SESSION_TOKEN: token,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^iot-jobs: TransportError: /);
    expect(run.stderr).not.toContain(token);
  });

  it('cli - --verbose does not print a password given in --credentials-endpoint', async () => {
    const pem = join(dir, 'dummy.pem');
    writeFileSync(pem, 'not used before the verbose line');
    const run = await runCli(
      ['--verbose', 'pending', '--endpoint', 'https://127.0.0.1:1', '--thing', freshThing('ce'), '--cert', pem, '--key', pem,
        '--credentials-endpoint', 'https://admin:S3CRETPW@127.0.0.1:1', '--role-alias', 'alias', '--timeout', '500'],
    );
    // Today the verbose line reads "... (role alias alias from https://admin:S3CRETPW@127.0.0.1:1, region us-east-1)".
    expect(run.stderr).not.toContain('S3CRETPW');
  });

  it('cli - a certificate file that is not PEM over mqtts:// is reported as a documented error, not a bare Error', async () => {
    const notPem = join(dir, 'not-pem.crt');
    writeFileSync(notPem, 'this is not PEM\n');
    const run = await runCli(['pending', '--endpoint', 'mqtts://127.0.0.1:1', '--thing', freshThing('pem'), '--cert', notPem, '--key', notPem]);
    // It was exit 1, "iot-jobs: Error: error:0480006C:PEM routines::no start line". Bad input: exit 2.
    expect(run.stderr).toMatch(/^iot-jobs: InvalidRequestError: invalid request: cert, key, ca: not usable PEM: /);
    expect(run.code).toBe(2);
  });

  it('cli - a usage error is one line on stderr even when the argument holds a newline (pretty-printed --details)', async () => {
    const run = await runCli(['start-next', '--endpoint', 'mqtt://127.0.0.1:1', '--thing', 'thing-A', '--details', '{\n  "step": 1\n}']);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('cli - an https:// endpoint with a path or query is refused rather than silently dropped', async () => {
    const thing = freshThing('path');
    const run = await runCli(['pending', '--endpoint', `${emu.dataEndpoint}/some/prefix?x=1`, '--thing', thing], keys());
    // Today: exit 0, requests go to /things/<thing>/jobs: the path and query are ignored.
    expect(run.code).toBe(2);
  });

  it('cli - watch: a DecodeError line does not pass terminal escape sequences from the payload to stderr', async () => {
    const thing = freshThing('esc');
    const abort = new AbortController();
    const captured = captureIo({}, { signal: abort.signal });
    const exit = main(['node', 'iot-jobs', 'watch', '--endpoint', emu.mqttUrl, '--thing', thing], captured.io);
    await eventually(() => captured.stderr().includes('watching'), 10_000, 'watch ready line');
    const publisher = await mqtt.connectAsync(emu.mqttUrl, { clientId: `${thing}-pub` });
    await publisher.publishAsync(`$aws/things/${thing}/jobs/notify`, '\u001b[2J\u001b]0;PWNED\u0007');
    await publisher.endAsync();
    await eventually(() => captured.stderr().includes('DecodeError'), 10_000, 'DecodeError line');
    abort.abort();
    expect(await exit).toBe(0);
    expect(captured.stderr()).not.toContain('\u001b');
  });

  it.each(['', 'us east/1', 'EU-WEST-1'])('cli - --region %p is a ConfigError (exit 2), not a 403 at run time', async (region) => {
    const run = await runCli(['pending', '--endpoint', emu.dataEndpoint, '--thing', freshThing('reg'), '--region', region], keys());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^iot-jobs: ConfigError: --region: expected a region name/);
  });

  it.each([['--mqtt-port', ''], ['--mqtt-port', '0x10'], ['--data-port', '1e3'], ['--control-port', '70000']])('cli - emulator %s %p is a usage error (exit 2)', async (flag, value) => {
    const captured = captureIo();
    const code = await main(['node', 'iot-jobs', 'emulator', flag, value], captured.io);
    expect(code).toBe(2);
    expect(captured.stderr()).toContain('not a port');
  });

  it('cli - emulator: an invalid --thing is a usage error (exit 2) and --tls writes nothing', async () => {
    const tlsDir = join(dir, 'tls-bad-thing');
    const captured = captureIo();
    const code = await main(['node', 'iot-jobs', 'emulator', '--mqtt-port', '0', '--data-port', '0', '--control-port', '0', '--tls', tlsDir, '--thing', 'bad name'], captured.io);
    expect(code).toBe(2);
    expect(captured.stderr()).toContain('not a thing name');
    expect(existsSync(tlsDir)).toBe(false);
  });

  it('cli - run with an invalid thing exits 2 without creating the journal folder', async () => {
    const journal = join(dir, 'never-created', 'journal.json');
    const run = await runCli(['run', '--once', '--endpoint', emu.mqttUrl, '--thing', 'bad thing', '--journal', journal]);
    expect(run.code).toBe(2);
    expect(existsSync(join(dir, 'never-created'))).toBe(false);
  });
});
