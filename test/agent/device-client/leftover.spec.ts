import { spawn } from 'node:child_process';
import { identifyStepProcess, killLeftover } from '../../../src/agent/device-client/leftover';
import { groupAlive, groupGone } from '../../helpers/process-group';

/** A step's leftover process group is killed only while it is provably the same group (Linux /proc). */

describe('leftover step processes', () => {
  it('leftover - kills the recorded group, and never one whose boot or start time differs (a reused pid)', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = child.pid ?? 0;
    try {
      const recorded = identifyStepProcess(pid);
      expect(recorded).toMatchObject({ pgid: pid, bootId: expect.stringMatching(/\S/), startTicks: expect.stringMatching(/^\d+$/) });
      if (recorded === undefined) return;
      expect(killLeftover({ ...recorded, startTicks: '1' })).toBeUndefined();
      expect(killLeftover({ ...recorded, bootId: 'another-boot' })).toBeUndefined();
      expect(killLeftover({ pgid: 1, bootId: recorded.bootId, startTicks: recorded.startTicks })).toBeUndefined();
      expect(killLeftover('garbage')).toBeUndefined();
      expect(groupAlive(pid)).toBe(true);
      expect(killLeftover(recorded)).toBe(`killed the step's leftover process group ${pid}`);
      expect(await groupGone(pid)).toBe(true);
      // Gone: a second attempt finds nothing to do.
      expect(killLeftover(recorded)).toBeUndefined();
    } finally {
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });
});
