import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firmwareUpdateHandler } from '../../../src/agent/firmware/handler';
import { installLayout, installRelease, partFile, pointCurrentAt, prepareLayout, releaseTarget } from '../../../src/agent/firmware/install';
import { type Emulator, startEmulator } from '../../../src/emulator';
import { doneOf, image, runHandler, script, sha256, tempDir } from './helpers';

jest.setTimeout(60_000);

const doc = (more: Record<string, unknown> = {}): Record<string, unknown> => ({
  operation: 'firmware-update',
  version: '2.0.0',
  url: 'https://updates.example.com/fw/app-2.0.0.bin',
  sha256: 'a'.repeat(64),
  ...more,
});

describe('firmwareUpdateHandler: documents and options', () => {
  const handler = firmwareUpdateHandler({ installDir: tempDir() });

  it('firmware handler - claims only firmware-update documents and lower-cases the sha256', () => {
    expect(handler.match({ operation: 'reboot' })).toBeUndefined();
    expect(handler.match(doc({ sha256: 'AB'.repeat(32), size: 10 }))).toEqual({ ok: true, document: doc({ sha256: 'ab'.repeat(32), size: 10 }) });
  });

  it('firmware handler - an invalid document is refused with the codec report', () => {
    const match = handler.match(doc({ sha256: 'xyz', version: '../etc' }));
    expect(match).toEqual({ ok: false, reason: expect.stringMatching(/^invalid firmware-update job document: .*version.*sha256|^invalid firmware-update job document: .*sha256.*version/) });
  });

  it('firmware handler - by default plain http is refused except on loopback hosts', () => {
    expect(handler.match(doc({ url: 'http://updates.example.com/fw.bin' }))).toEqual({ ok: false, reason: expect.stringContaining('url not allowed: plain http://') });
    expect(handler.match(doc({ url: 'http://127.0.0.1:8081/files/fw.bin' }))).toMatchObject({ ok: true });
  });

  it('firmware handler - a URL outside allowedUrlPrefixes is refused, also the look-alike host', () => {
    const strict = firmwareUpdateHandler({ installDir: tempDir(), allowedUrlPrefixes: ['https://updates.example.com/fw/'] });
    expect(strict.match(doc())).toMatchObject({ ok: true });
    expect(strict.match(doc({ url: 'https://updates.example.com/other/app.bin' }))).toMatchObject({ ok: false, reason: expect.stringContaining('is not under an allowed prefix') });
    expect(strict.match(doc({ url: 'https://updates.example.com.evil.net/fw/app.bin' }))).toMatchObject({ ok: false });
    expect(strict.match(doc({ url: 'https://updates.example.com/fw/../other/app.bin' }))).toMatchObject({ ok: false });
  });

  it('firmware handler - a size over maxDownloadBytes is refused', () => {
    const small = firmwareUpdateHandler({ installDir: tempDir(), maxDownloadBytes: 1000 });
    expect(small.match(doc({ size: 1001 }))).toEqual({ ok: false, reason: "size 1001 is over this device's limit of 1000 bytes" });
  });

  it('firmware handler - invalid options are refused at once, all listed', () => {
    expect(() => firmwareUpdateHandler({ installDir: tempDir(), reboot: [], allowedUrlPrefixes: ['https://example.com/fw'], rebootWaitMs: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidRequestError', issues: [expect.stringContaining('allowedUrlPrefixes: must end with "/"'), expect.stringContaining('reboot:'), expect.stringContaining('rebootWaitMs')] }),
    );
  });
});

describe('firmwareUpdateHandler: runs', () => {
  let emu: Emulator;

  beforeEach(async () => {
    emu = await startEmulator();
  });

  afterEach(async () => {
    await emu.close();
  });

  it('firmware handler - a sha256 mismatch ends FAILED with both digests and deletes the part file', async () => {
    const dir = tempDir();
    const data = image(10_000);
    const { url } = emu.files.put('app-2.0.0.bin', data);
    const wrong = sha256('something else');
    const events = await runHandler(firmwareUpdateHandler({ installDir: dir }), doc({ url, sha256: wrong }));
    expect(doneOf(events)).toEqual({ kind: 'done', status: 'FAILED', details: { version: '2.0.0', reason: `sha256 mismatch: expected ${wrong} got ${sha256(data)}` } });
    expect(existsSync(partFile(installLayout(dir), '2.0.0'))).toBe(false);
    expect(existsSync(join(dir, 'current'))).toBe(false);
    expect(events.map((event) => (event.kind === 'done' ? 'done' : event.step))).toEqual(['download', ...events.slice(1, -2).map(() => 'download'), 'verify', 'done']);
  });

  it('firmware handler - without reboot or self-test: installed, current swapped, SUCCEEDED with version and previous', async () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    prepareLayout(layout);
    writeFileSync(partFile(layout, '1.0.0'), 'old');
    installRelease(layout, '1.0.0', 'app.bin', partFile(layout, '1.0.0'));
    pointCurrentAt(layout, releaseTarget('1.0.0'));
    const data = image(70_000);
    const { url } = emu.files.put('app-2.0.0.bin', data);

    const events = await runHandler(firmwareUpdateHandler({ installDir: dir }), doc({ url, sha256: sha256(data), size: data.length }));

    expect(doneOf(events)).toEqual({ kind: 'done', status: 'SUCCEEDED', details: { version: '2.0.0', previous: '1.0.0' } });
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/2.0.0');
    expect(readFileSync(join(dir, 'current', 'app-2.0.0.bin')).equals(data)).toBe(true);
    expect(readFileSync(join(dir, 'releases', '1.0.0', 'app.bin'), 'utf8')).toBe('old');
    const checkpoints = events.flatMap((event) => (event.kind === 'checkpoint' ? [event.checkpoint] : []));
    expect(checkpoints).toEqual([
      { phase: 'downloading', version: '2.0.0' },
      { phase: 'installing', version: '2.0.0', previous: '1.0.0', previousTarget: 'releases/1.0.0' },
      { phase: 'installed', version: '2.0.0', previous: '1.0.0', previousTarget: 'releases/1.0.0' },
    ]);
  });

  it('firmware handler - a part file left by a job for another image of the same version is not resumed', async () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    prepareLayout(layout);
    const data = image(30_000);
    const { url } = emu.files.put('app-2.0.0.bin', data);
    writeFileSync(partFile(layout, '2.0.0'), Buffer.alloc(10_000, 7)); // not a prefix of this image
    writeFileSync(`${partFile(layout, '2.0.0')}.sha256`, sha256('the image of a canceled job'));
    const events = await runHandler(firmwareUpdateHandler({ installDir: dir }), doc({ url, sha256: sha256(data) }));
    expect(doneOf(events)).toMatchObject({ status: 'SUCCEEDED' });
    expect(readFileSync(join(dir, 'current', 'app-2.0.0.bin')).equals(data)).toBe(true);
    expect(existsSync(`${partFile(layout, '2.0.0')}.sha256`)).toBe(false);
  });

  it('firmware handler - a job for the release already active succeeds without downloading', async () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    prepareLayout(layout);
    writeFileSync(partFile(layout, '2.0.0'), 'current image');
    installRelease(layout, '2.0.0', 'app.bin', partFile(layout, '2.0.0'));
    pointCurrentAt(layout, releaseTarget('2.0.0'));
    const events = await runHandler(firmwareUpdateHandler({ installDir: dir }), doc({ url: 'https://nowhere.invalid/app.bin', sha256: sha256('current image') }));
    expect(events).toEqual([{ kind: 'done', status: 'SUCCEEDED', details: { version: '2.0.0', note: 'this release was already active' } }]);
  });

  it('firmware handler - resumed in self-test (the device went down during it): rolled back, FAILED', async () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    prepareLayout(layout);
    for (const version of ['1.0.0', '2.0.0']) {
      writeFileSync(partFile(layout, version), version);
      installRelease(layout, version, 'app.bin', partFile(layout, version));
    }
    pointCurrentAt(layout, releaseTarget('2.0.0'));
    const selfTest = script(dir, 'self-test.sh', 'exit 0');
    const events = await runHandler(firmwareUpdateHandler({ installDir: dir, selfTest: [selfTest] }), doc({ url: 'https://nowhere.invalid/app.bin' }), {
      resumed: true,
      checkpoint: { phase: 'self-test', version: '2.0.0', previous: '1.0.0', previousTarget: 'releases/1.0.0' },
    });
    expect(doneOf(events)).toEqual({
      kind: 'done',
      status: 'FAILED',
      details: { version: '2.0.0', previous: '1.0.0', reason: 'self-test was interrupted (the device or the agent restarted while it ran); rolled back to 1.0.0' },
    });
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/1.0.0');
  });

  it('firmware handler - a checkpoint of another version or shape is not resumed', async () => {
    const handler = firmwareUpdateHandler({ installDir: tempDir() });
    const other = await runHandler(handler, doc(), { resumed: true, checkpoint: { phase: 'rebooting', version: '3.0.0', previous: null, previousTarget: null } });
    expect(doneOf(other)).toMatchObject({ status: 'FAILED', details: { reason: "cannot resume: the journal's checkpoint is for version 3.0.0, the job is for 2.0.0" } });
    const junk = await runHandler(handler, doc(), { resumed: true, checkpoint: { phase: 'teleporting' } });
    expect(doneOf(junk)).toMatchObject({ status: 'FAILED', details: { reason: expect.stringContaining("cannot resume: the journal's checkpoint is not one this handler writes") } });
  });
});
