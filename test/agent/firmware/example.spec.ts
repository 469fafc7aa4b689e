import { join } from 'node:path';
import { Subject } from 'rxjs';
import { eventLine, loadConfig, runUpdater } from '../../../examples/firmware-updater';
import { jobIdOf } from '../runner-harness';
import { type Emulator, startEmulator } from '../../../src/emulator';
import { image, tempDir } from './helpers';

/** examples/firmware-updater: its sample configuration, its log lines, and a run on the emulator. */

jest.setTimeout(60_000);

describe('examples/firmware-updater', () => {
  it('firmware example - config.example.json is a valid configuration', () => {
    const config = loadConfig(join(__dirname, '../../../examples/firmware-updater/config.example.json'));
    expect(config).toMatchObject({ thingName: 'pi-kitchen-01', journal: '/var/lib/iot-jobs/journal.json', reboot: ['sudo', '-n', '/usr/bin/systemctl', 'reboot'] });
  });

  it('firmware example - one readable line per event', () => {
    expect(eventLine({ kind: 'failed', jobId: jobIdOf('fw-2'), executionNumber: 1, reason: 'sha256 mismatch', statusDetails: {} })).toBe('failed fw-2#1: sha256 mismatch');
    expect(eventLine({ kind: 'progress', jobId: jobIdOf('fw-2'), executionNumber: 1, percent: 41.6, step: 'download', statusDetails: {} })).toBe('progress fw-2#1 download 42%');
  });

  describe('on the emulator', () => {
    let emu: Emulator;
    beforeEach(async () => {
      emu = await startEmulator();
    });
    afterEach(async () => {
      await emu.close();
    });

    it('firmware example - updates from a job, then stops cleanly when told to', async () => {
      const dir = tempDir();
      const served = emu.files.put('app-3.1.0.bin', image(50_000));
      const lines: string[] = [];
      const stop = new Subject<void>();
      let onReported: () => void = () => undefined;
      const reported = new Promise<void>((resolve) => {
        onReported = resolve;
      });
      const config = { endpoint: emu.mqttUrl, thingName: 'thing-A', installDir: join(dir, 'app'), journal: join(dir, 'state', 'journal.json') };
      const running = runUpdater(config, stop, (line) => {
        lines.push(line);
        if (line.startsWith('reported')) onReported();
      });
      const created = emu.engine.createJob({
        jobId: 'fw-3',
        targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'],
        document: JSON.stringify({ operation: 'firmware-update', version: '3.1.0', url: served.url, sha256: served.sha256 }),
      });
      expect(created.ok).toBe(true);
      await reported;
      stop.next();
      await running; // resolves only once the runner stopped and MQTT disconnected
      expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^connected to mqtt:/), 'started fw-3#1 (firmware-update)', 'succeeded fw-3#1 {"version":"3.1.0"}', 'reported fw-3#1 SUCCEEDED after 1 attempt(s)']));
      const status = emu.engine.describeExecution('fw-3', 'thing-A');
      expect(status.ok && status.value.status).toBe('SUCCEEDED');
    });
  });
});
