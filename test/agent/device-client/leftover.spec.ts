import { spawn } from 'node:child_process';
import { identifyStepProcess, killLeftover } from '../../../src/agent/device-client/leftover';

/** A step's leftover process group is killed only while it is provably the same group (Linux /proc). */

const alive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

const waitGone = async (pgid: number): Promise<boolean> => {
  for (let i = 0; i < 100 && alive(pgid); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  return !alive(pgid);
};

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
      expect(alive(pid)).toBe(true);
      expect(killLeftover(recorded)).toBe(`killed the step's leftover process group ${pid}`);
      expect(await waitGone(pid)).toBe(true);
      // Gone: a second attempt finds nothing to do.
      expect(killLeftover(recorded)).toBeUndefined();
    } finally {
      if (alive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });
});
