import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firmwareUpdateHandler } from '../../../src/agent/firmware/handler';
import { installLayout, installRelease, partFile, pointCurrentAt, prepareLayout, releaseTarget } from '../../../src/agent/firmware/install';
import type { FirmwareUpdateOptions } from '../../../src/agent/firmware/options';
import { firstValueFrom } from 'rxjs';
import { openJournal } from '../../../src/agent/journal';
import { type Harness, createHarness, jobIdOf, kinds } from '../runner-harness';
import { image, recordingProxy, script, sha256, tempDir } from './helpers';

/** The firmware updater under runJobs, on the emulator, with real files, real HTTP and real commands. */

jest.setTimeout(90_000);
const wait = 30_000; // generous: another suite may be running on this 2-core machine

const running = (journal: string): unknown => (JSON.parse(readFileSync(journal, 'utf8')) as { running?: unknown }).running;

/** An install folder whose `current` is release 1.0.0. */
const withRelease1 = (): string => {
  const dir = tempDir();
  const layout = installLayout(dir);
  prepareLayout(layout);
  writeFileSync(partFile(layout, '1.0.0'), 'release one');
  installRelease(layout, '1.0.0', 'app.bin', partFile(layout, '1.0.0'));
  pointCurrentAt(layout, releaseTarget('1.0.0'));
  return dir;
};

describe('firmwareUpdateHandler under runJobs', () => {
  let harness: Harness;
  let data: Buffer;
  let document: Record<string, unknown>;

  beforeEach(async () => {
    harness = await createHarness('thing-A', 2000);
    data = image(200_000);
    const served = harness.emulator.files.put('app-2.0.0.bin', data);
    document = { operation: 'firmware-update', version: '2.0.0', url: served.url, sha256: served.sha256, size: served.size };
  });

  afterEach(async () => {
    await harness.close();
  });

  const handler = (options: FirmwareUpdateOptions) => firmwareUpdateHandler(options);

  it('firmware runner - without a reboot: SUCCEEDED with { version, previous }, current on the new release', async () => {
    const dir = withRelease1();
    harness.addJob('fw-2', document);
    const runner = harness.start({ handlers: [handler({ installDir: dir })], journal: join(harness.dir, 'journal.json') });
    await runner.waitFor((event) => event.kind === 'reported', wait);
    expect(harness.status('fw-2')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { version: '2.0.0', previous: '1.0.0' } });
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/2.0.0');
    expect(readFileSync(join(dir, 'current', 'app-2.0.0.bin')).equals(data)).toBe(true);
    expect(kinds(runner.events, 'fw-2')).toEqual(expect.arrayContaining(['started', 'progress', 'succeeded', 'reported']));
  });

  it('firmware runner - with a reboot: the runner stops, a second one resumes, the self-test passes, SUCCEEDED', async () => {
    const dir = withRelease1();
    const journal = join(harness.dir, 'journal.json');
    const called = join(dir, 'reboot-called');
    const reboot = script(dir, 'reboot.sh', `echo "$IOT_JOBS_FIRMWARE_VERSION" > '${called}'\nexec sleep 60`);
    const tested = join(dir, 'self-test-ran');
    // Healthy only when the new release is active: the test reads it through `current`.
    const selfTest = script(dir, 'self-test.sh', `cmp -s current/app-2.0.0.bin "$IOT_JOBS_FIRMWARE_FILE" && echo "$IOT_JOBS_FIRMWARE_PREVIOUS" > '${tested}'`);
    const options = { installDir: dir, reboot: [reboot], selfTest: [selfTest] };
    harness.addJob('fw-2', document);

    const first = harness.start({ handlers: [handler(options)], journal });
    await waitForFile(called);
    expect(readFileSync(called, 'utf8').trim()).toBe('2.0.0');
    expect(running(journal)).toMatchObject({ handler: 'firmware-update', step: 'reboot', checkpoint: { phase: 'rebooting', version: '2.0.0', previous: '1.0.0' } });
    expect(existsSync(tested)).toBe(false);
    first.stop(); // the device goes down (the reboot command is killed with the runner)
    expect(harness.status('fw-2').status).toBe('IN_PROGRESS');

    const second = harness.start({ handlers: [handler(options)], journal });
    await second.waitFor((event) => event.kind === 'reported', wait);
    expect(kinds(second.events, 'fw-2')[0]).toBe('resumed');
    expect(readFileSync(tested, 'utf8').trim()).toBe('1.0.0');
    expect(harness.status('fw-2')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { version: '2.0.0', previous: '1.0.0' } });
    expect(running(journal)).toBeUndefined();
  });

  it('firmware runner - a failing self-test rolls back to the previous release: FAILED "rolled back"', async () => {
    const dir = withRelease1();
    const selfTest = script(dir, 'self-test.sh', 'echo "health endpoint answered 503" >&2\nexit 3');
    harness.addJob('fw-2', document);
    const runner = harness.start({ handlers: [handler({ installDir: dir, selfTest: [selfTest] })], journal: join(harness.dir, 'journal.json') });
    const failedEvent = await runner.waitFor((event) => event.kind === 'failed', wait);
    const reason = `self-test failed: ${selfTest} exited with status 3: health endpoint answered 503; rolled back to 1.0.0`;
    expect(failedEvent).toMatchObject({ jobId: 'fw-2', reason });
    await runner.waitFor((event) => event.kind === 'reported', wait);
    expect(harness.status('fw-2')).toMatchObject({ status: 'FAILED', statusDetails: { reason, version: '2.0.0', previous: '1.0.0' } });
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/1.0.0');
    expect(readFileSync(join(dir, 'releases', '2.0.0', 'app-2.0.0.bin')).equals(data)).toBe(true); // kept for inspection
  });

  it('firmware runner - a reboot command that returns while the device stays up: rolled back, FAILED', async () => {
    const dir = withRelease1();
    const reboot = script(dir, 'reboot.sh', 'exit 0');
    harness.addJob('fw-2', document);
    const runner = harness.start({ handlers: [handler({ installDir: dir, reboot: [reboot], rebootWaitMs: 500 })], journal: join(harness.dir, 'journal.json') });
    const failedEvent = await runner.waitFor((event) => event.kind === 'failed', wait);
    expect(failedEvent).toMatchObject({ reason: 'reboot command returned but the device did not restart within 500 ms; rolled back to 1.0.0' });
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/1.0.0');
  });

  it('firmware runner - a URL outside the allowed prefixes is REJECTED and nothing is downloaded', async () => {
    const dir = withRelease1();
    harness.addJob('fw-2', document);
    const runner = harness.start({ handlers: [handler({ installDir: dir, allowedUrlPrefixes: ['https://updates.example.com/firmware/'] })] });
    const rejected = await runner.waitFor((event) => event.kind === 'rejected', wait);
    expect(rejected).toMatchObject({ jobId: 'fw-2', reason: expect.stringMatching(/^url not allowed: http:\/\/127\.0\.0\.1:\d+\/files\/app-2\.0\.0\.bin is not under an allowed prefix/) });
    await runner.waitFor((event) => event.kind === 'reported', wait);
    expect(harness.status('fw-2').status).toBe('REJECTED');
    expect(existsSync(partFile(installLayout(dir), '2.0.0'))).toBe(false);
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/1.0.0');
  });

  it('firmware runner - after a restart in the phase downloading, the download resumes from the part file with Range', async () => {
    const dir = withRelease1();
    const proxy = await recordingProxy(harness.emulator.controlEndpoint);
    try {
      harness.addJob('fw-2', { ...document, url: `${proxy.base}/files/app-2.0.0.bin` });
      // What a power loss during the download leaves: the execution IN_PROGRESS, the journal in `downloading`, a part file.
      const started = await firstValueFrom(harness.jobs.startNextPendingJobExecution());
      const path = join(harness.dir, 'journal.json');
      const { journal } = openJournal(path);
      journal.begin({ jobId: jobIdOf('fw-2'), executionNumber: started.execution?.executionNumber ?? 1, versionNumber: started.execution?.versionNumber ?? 2, handler: 'firmware-update' });
      journal.checkpoint({ phase: 'downloading', version: '2.0.0' }, 'download');
      writeFileSync(partFile(installLayout(dir), '2.0.0'), data.subarray(0, 120_000));
      writeFileSync(`${partFile(installLayout(dir), '2.0.0')}.sha256`, sha256(data)); // the digest it is for

      const runner = harness.start({ handlers: [handler({ installDir: dir })], journal: path });
      await runner.waitFor((event) => event.kind === 'reported', wait);
      expect(kinds(runner.events, 'fw-2')[0]).toBe('resumed');
      expect(proxy.seen).toEqual([{ path: '/files/app-2.0.0.bin', range: 'bytes=120000-', status: 206, bytes: 80_000 }]);
      expect(harness.status('fw-2')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { version: '2.0.0', previous: '1.0.0' } });
      expect(readFileSync(join(dir, 'current', 'app-2.0.0.bin')).equals(data)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

const waitForFile = async (path: string, ms = wait): Promise<void> => {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
