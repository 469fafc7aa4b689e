import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator';

// Found by review: a state-file write that failed threw out of the engine, in the middle of a device's request
// or a CreateJob, and took the emulator down. It is a process warning now, once until a write succeeds.

it('emulator - a state file that can no longer be written is a warning, not a crash; the service goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iot-jobs-state-'));
  const emu = await startEmulator({ statePath: join(dir, 'state.json') });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    rmSync(dir, { recursive: true, force: true }); // the folder goes away under the running emulator
    const target = ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'];
    expect(emu.engine.createJob({ jobId: 'job-1', targets: target, document: '{}' }).ok).toBe(true);
    expect(emu.engine.createJob({ jobId: 'job-2', targets: target, document: '{}' }).ok).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("cannot write the emulator's state file"), expect.objectContaining({ code: 'IOT_JOBS_EMULATOR_STATE' }));
  } finally {
    warn.mockRestore();
    await emu.close();
  }
});
