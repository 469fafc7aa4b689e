import { readFileSync } from 'node:fs';

/** True while process group `pgid` has a member (signal 0 checks without signalling). */
export const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves true once group `pgid` is empty, false if it still has members after `ms`. */
export const groupGone = async (pgid: number, ms = 5000): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !groupAlive(pgid);
};

/** The process group of the step the runner's journal at `path` records as running. */
export const journaledStepGroup = (path: string): number => {
  const text = readFileSync(path, 'utf8');
  const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null && key in value ? Reflect.get(value, key) : undefined);
  const pgid = ['running', 'checkpoint', 'process', 'pgid'].reduce<unknown>((value, key) => field(value, key), JSON.parse(text));
  if (typeof pgid !== 'number') throw new Error(`no step process group in the journal: ${text}`);
  return pgid;
};
