import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, JournalError, type JournalOptions } from '../../src/agent/journal';
import { job } from '../helpers/names';

const jobA = job('job-A');
const jobB = job('job-B');

let folder: string;
let path: string;

beforeEach(() => {
  folder = fs.mkdtempSync(join(tmpdir(), 'journal-'));
  path = join(folder, 'journal.json');
});

afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(folder, { recursive: true, force: true });
});

/** A clock that ticks one second per call, from a fixed start. */
const clock = (): (() => Date) => {
  let tick = 0;
  return () => new Date(Date.UTC(2026, 4, 1, 12, 0, tick++));
};

const options = (extra: JournalOptions = {}): JournalOptions => {
  let n = 0;
  return { now: clock(), newId: () => `id-${++n}`, ...extra };
};

const onDisk = (): unknown => JSON.parse(fs.readFileSync(path, 'utf8'));
const filesIn = (): string[] => fs.readdirSync(folder).sort();
const begin = { jobId: jobA, executionNumber: 1, versionNumber: 2, handler: 'firmware' } as const;

describe('journal', () => {
  it('journal - a missing file opens as an empty journal, written at once with mode 0600', () => {
    const { journal, recovered, removedTemporaries } = openJournal(path, options());
    expect(recovered).toBeUndefined();
    expect(removedTemporaries).toEqual([]);
    expect(journal.state).toEqual({ version: 1, completed: [], outbox: [] });
    expect(onDisk()).toEqual({ version: 1, completed: [], outbox: [] });
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    expect(filesIn()).toEqual(['journal.json']);
  });

  it('journal - the file is 0600 even under a permissive umask', () => {
    const previous = process.umask(0o000);
    try {
      openJournal(path, options()).journal.enqueue({ jobId: jobA, status: 'IN_PROGRESS' });
    } finally {
      process.umask(previous);
    }
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
  });

  it('journal - every mutation survives a reopen', () => {
    const first = openJournal(path, options()).journal;
    first.begin({ ...begin, step: 'download' });
    first.checkpoint({ downloaded: 1024, at: new Date(Date.UTC(2026, 0, 1)) }, 'verify');
    const update = first.enqueue({ jobId: jobA, executionNumber: 1, status: 'IN_PROGRESS', statusDetails: { step: 'verify' }, expectedVersion: 2 });
    first.attempted(update.id, { expectedVersion: 3 });
    first.complete({ jobId: jobB, executionNumber: 4, status: 'REJECTED' });
    const reopened = openJournal(path, options()).journal;
    expect(reopened.state).toEqual(first.state);
    expect(reopened.running).toEqual({
      jobId: jobA,
      executionNumber: 1,
      versionNumber: 2,
      handler: 'firmware',
      startedAt: new Date(Date.UTC(2026, 4, 1, 12, 0, 0)),
      step: 'verify',
      checkpoint: { downloaded: 1024, at: '2026-01-01T00:00:00.000Z' },
    });
    expect(reopened.outbox).toEqual([{ ...update, attempts: 1, expectedVersion: 3 }]);
    expect(reopened.wasCompleted('job-B', 4)).toBe(true);
    expect(reopened.wasCompleted('job-B', 5)).toBe(false);
  });

  it('journal - each write goes to a temporary file, is fsynced, renamed, then the folder is fsynced', () => {
    const { journal } = openJournal(path, options());
    const calls: string[] = [];
    const fds = new Map<number, string>();
    const realOpen = fs.openSync;
    jest.spyOn(fs, 'openSync').mockImplementation((file, flags, mode) => {
      const fd = realOpen(file, flags, mode);
      fds.set(fd, String(file) === folder ? 'folder' : String(file).replace(folder, '').replace(/\d+-\d+$/, 'N'));
      calls.push(`open ${fds.get(fd) ?? '?'}`);
      return fd;
    });
    const realFsync = fs.fsyncSync;
    const fsync = jest.spyOn(fs, 'fsyncSync').mockImplementation((fd) => {
      calls.push(`fsync ${fds.get(fd) ?? '?'}`);
      realFsync(fd);
    });
    const realRename = fs.renameSync;
    jest.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      calls.push(`rename ${String(from).replace(folder, '').replace(/\d+-\d+$/, 'N')} -> ${String(to).replace(folder, '')}`);
      realRename(from, to);
    });
    journal.enqueue({ jobId: jobA, status: 'SUCCEEDED' });
    expect(calls).toEqual([
      'open /journal.json.tmp-N',
      'fsync /journal.json.tmp-N',
      'rename /journal.json.tmp-N -> /journal.json',
      'open folder',
      'fsync folder',
    ]);
    expect(fsync).toHaveBeenCalledTimes(2);
  });

  it('journal - a crash before the rename leaves the old journal intact (failed rename)', () => {
    const { journal } = openJournal(path, options());
    journal.begin(begin);
    const before = fs.readFileSync(path, 'utf8');
    const state = journal.state;
    jest.spyOn(fs, 'renameSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: simulated power loss'), { code: 'EIO' });
    });
    expect(() => journal.checkpoint({ part: 2 })).toThrow(JournalError);
    expect(fs.readFileSync(path, 'utf8')).toBe(before);
    expect(journal.state).toBe(state);
    expect(filesIn()).toEqual(['journal.json']);
    expect(openJournal(path, options()).journal.running?.checkpoint).toBeUndefined();
  });

  it('journal - a temporary file a crash left behind is ignored and removed on open', () => {
    openJournal(path, options()).journal.begin(begin);
    const leftover = join(folder, 'journal.json.tmp-999-1');
    fs.writeFileSync(leftover, '{"version":1,"completed":[],"outbox":[],"running":{"jobId":"job-B"'); // written, never renamed
    const { journal, removedTemporaries } = openJournal(path, options());
    expect(journal.running?.jobId).toBe('job-A');
    expect(removedTemporaries).toEqual([leftover]);
    expect(filesIn()).toEqual(['journal.json']);
  });

  it.each([
    ['an empty file', '', 'the file is empty'],
    ['blank lines', '\n\n  \n', 'the file is empty'],
    ['truncated JSON', '{"version":1,"completed":[],"outb', 'not JSON'],
    ['binary garbage', '\u0000\u00ff\u0001garbage', 'not JSON'],
    ['a JSON array', '[]', 'not a version 1 journal'],
    ['a future version', '{"version":2,"completed":[],"outbox":[]}', 'not a version 1 journal'],
    ['a bad field', '{"version":1,"completed":[{"jobId":"job-A","executionNumber":"1","status":"SUCCEEDED","at":"2026-01-01T00:00:00Z"}],"outbox":[]}', 'completed.0.executionNumber'],
    ['a bad date', '{"version":1,"completed":[],"outbox":[],"running":{"jobId":"job-A","executionNumber":1,"versionNumber":1,"handler":"h","startedAt":"yesterday"}}', 'running.startedAt'],
    ['bad statusDetails', '{"version":1,"completed":[],"outbox":[{"id":"1","jobId":"job-A","status":"FAILED","createdAt":"2026-01-01T00:00:00Z","attempts":0,"statusDetails":{"bad key":"x"}}]}', 'outbox.0.statusDetails'],
  ])('journal - a corrupt file (%s) is moved aside and the journal starts empty', (_kind, content, reason) => {
    fs.writeFileSync(path, content);
    const { journal, recovered } = openJournal(path, options());
    const movedTo = join(folder, 'journal.json.corrupt-2026-05-01T12-00-00-000Z');
    expect(recovered?.movedTo).toBe(movedTo);
    expect(recovered?.reason).toContain(reason);
    expect(recovered?.message).toContain(`journal ${path} is corrupt`);
    expect(recovered?.message).toContain(`moved it to ${movedTo}`);
    expect(fs.readFileSync(movedTo, 'utf8')).toBe(content);
    expect(journal.state).toEqual({ version: 1, completed: [], outbox: [] });
    expect(onDisk()).toEqual({ version: 1, completed: [], outbox: [] });
  });

  it('journal - a moved-aside file never overwrites an earlier one', () => {
    const at = () => new Date(Date.UTC(2026, 4, 1));
    fs.writeFileSync(path, 'first');
    openJournal(path, { now: at });
    fs.writeFileSync(path, 'second');
    const { recovered } = openJournal(path, { now: at });
    expect(recovered?.movedTo).toBe(join(folder, 'journal.json.corrupt-2026-05-01T00-00-00-000Z-1'));
    expect(fs.readFileSync(join(folder, 'journal.json.corrupt-2026-05-01T00-00-00-000Z'), 'utf8')).toBe('first');
    expect(fs.readFileSync(join(folder, 'journal.json.corrupt-2026-05-01T00-00-00-000Z-1'), 'utf8')).toBe('second');
  });

  it('journal - an unreadable journal is an error, not an empty journal', () => {
    fs.mkdirSync(path);
    expect(() => openJournal(path, options())).toThrow(JournalError);
    expect(filesIn()).toEqual(['journal.json']);
    // A folder that cannot be made (its parent is a file) is the error; see the next test for a missing one.
    fs.writeFileSync(join(folder, 'a-file'), '');
    expect(() => openJournal(join(folder, 'a-file', 'sub', 'journal.json'), options())).toThrow(JournalError);
  });

  // Found by a new user's walkthrough: the README's runner snippet died with an unhandled JournalError (ENOENT)
  // because /var/lib/iot-jobs did not exist; `iot-jobs run` made the folder, the library did not.
  it('journal - a missing folder is made (mode 0700), as `iot-jobs run` makes it', () => {
    const nested = join(folder, 'var', 'lib', 'iot-jobs', 'journal.json');
    const { journal } = openJournal(nested, options());
    journal.complete({ jobId: jobA, executionNumber: 1, status: 'SUCCEEDED' });
    expect(openJournal(nested, options()).journal.wasCompleted('job-A', 1)).toBe(true);
    expect(fs.statSync(join(folder, 'var', 'lib', 'iot-jobs')).mode & 0o777).toBe(0o700);
  });

  it('journal - a completed execution cannot begin again; another cannot begin while one runs', () => {
    const { journal } = openJournal(path, options());
    journal.complete({ jobId: jobA, executionNumber: 1, status: 'SUCCEEDED' });
    expect(journal.wasCompleted('job-A', 1)).toBe(true);
    expect(() => journal.begin(begin)).toThrow(/already completed/);
    journal.begin({ ...begin, executionNumber: 2 });
    expect(() => journal.begin({ ...begin, jobId: jobB })).toThrow(/job-A#2 is still running/);
    expect(() => journal.complete({ jobId: jobB, executionNumber: 1, status: 'REJECTED' })).not.toThrow();
    expect(journal.running?.executionNumber).toBe(2);
  });

  it('journal - beginning the running execution again keeps its start and checkpoint', () => {
    const { journal } = openJournal(path, options());
    const first = journal.begin({ ...begin, checkpoint: { rebooted: false }, step: 'install' });
    const again = journal.begin({ ...begin, versionNumber: 5 });
    expect(again).toEqual({ ...first, versionNumber: 5 });
    expect(journal.begin({ ...begin, checkpoint: { rebooted: true } }).checkpoint).toEqual({ rebooted: true });
  });

  it('journal - checkpoint needs a running execution and a JSON value', () => {
    const { journal } = openJournal(path, options());
    expect(() => journal.checkpoint(1)).toThrow(/no execution is running/);
    journal.begin(begin);
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => journal.checkpoint(circular)).toThrow(/not JSON/);
    expect(() => journal.checkpoint({ n: 1n })).toThrow(JournalError);
    expect(journal.checkpoint({ n: 1 }, 'step-2')).toMatchObject({ checkpoint: { n: 1 }, step: 'step-2' });
    expect(journal.checkpoint(undefined).checkpoint).toBeUndefined();
    expect(journal.running?.step).toBe('step-2');
  });

  it('journal - the outbox keeps its order through acks and reopens', () => {
    const { journal } = openJournal(path, options());
    const ids = ['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED', 'IN_PROGRESS'].map((status) => journal.enqueue({ jobId: jobA, status: status === 'SUCCEEDED' ? 'SUCCEEDED' : 'IN_PROGRESS' }).id);
    expect(journal.ack(ids[1] ?? '')).toBe(true);
    expect(openJournal(path, options()).journal.outbox.map((entry) => entry.id)).toEqual([ids[0], ids[2], ids[3]]);
  });

  it('journal - ack and attempted of an unknown id write nothing', () => {
    const { journal } = openJournal(path, options());
    const rename = jest.spyOn(fs, 'renameSync');
    expect(journal.ack('nope')).toBe(false);
    expect(journal.attempted('nope')).toBeUndefined();
    journal.clear();
    expect(rename).not.toHaveBeenCalled();
  });

  it('journal - an accepted version number is recorded on the running execution', () => {
    const { journal } = openJournal(path, options());
    journal.begin(begin);
    const mine = journal.enqueue({ jobId: jobA, executionNumber: 1, status: 'IN_PROGRESS' });
    const other = journal.enqueue({ jobId: jobB, status: 'FAILED' });
    journal.ack(other.id, { versionNumber: 9 });
    expect(journal.running?.versionNumber).toBe(2);
    journal.ack(mine.id, { versionNumber: 3 });
    expect(journal.running?.versionNumber).toBe(3);
  });

  it('journal - complete ends the running execution and enqueues its terminal status in one write', () => {
    const { journal } = openJournal(path, options());
    journal.begin(begin);
    const rename = jest.spyOn(fs, 'renameSync');
    const entry = journal.complete({ jobId: jobA, executionNumber: 1, status: 'SUCCEEDED' }, { jobId: jobA, executionNumber: 1, status: 'SUCCEEDED', expectedVersion: 2 });
    expect(rename).toHaveBeenCalledTimes(1);
    expect(entry).toMatchObject({ status: 'SUCCEEDED', attempts: 0, expectedVersion: 2 });
    const reopened = openJournal(path, options()).journal;
    expect(reopened.running).toBeUndefined();
    expect(reopened.outbox).toEqual([entry]);
    expect(reopened.wasCompleted('job-A', 1)).toBe(true);
  });

  it('journal - clear forgets the running execution without completing it', () => {
    const { journal } = openJournal(path, options());
    journal.begin(begin);
    journal.clear();
    expect(journal.running).toBeUndefined();
    expect(journal.wasCompleted('job-A', 1)).toBe(false);
    expect(openJournal(path, options()).journal.running).toBeUndefined();
  });

  it('journal - completed executions are bounded, oldest forgotten first, no duplicates', () => {
    const { journal } = openJournal(path, options({ maxCompleted: 3 }));
    for (let n = 1; n <= 5; n++) journal.complete({ jobId: jobA, executionNumber: n, status: 'SUCCEEDED' });
    journal.complete({ jobId: jobA, executionNumber: 5, status: 'FAILED' });
    expect(journal.state.completed.map(({ executionNumber, status }) => `${executionNumber}:${status}`)).toEqual(['3:SUCCEEDED', '4:SUCCEEDED', '5:FAILED']);
    expect(journal.wasCompleted('job-A', 2)).toBe(false);
  });

  it('journal - an invalid update is refused before anything is written', () => {
    const { journal } = openJournal(path, options());
    const before = fs.readFileSync(path, 'utf8');
    expect(() => journal.enqueue({ jobId: jobA, status: 'FAILED', statusDetails: { 'bad key': 'x' } })).toThrow(/invalid journal entry: outbox\.0\.statusDetails/);
    expect(() => journal.enqueue({ jobId: jobA, status: 'FAILED', expectedVersion: 1.5 })).toThrow(JournalError);
    expect(fs.readFileSync(path, 'utf8')).toBe(before);
    expect(journal.outbox).toEqual([]);
  });

  it('journal - two writers in one process never leave a torn file: the last write wins', () => {
    const a = openJournal(path, options()).journal;
    const b = openJournal(path, options()).journal;
    for (let n = 1; n <= 20; n++) {
      a.enqueue({ jobId: jobA, status: 'IN_PROGRESS', statusDetails: { n: String(n) } });
      b.complete({ jobId: jobB, executionNumber: n, status: 'SUCCEEDED' });
    }
    const reopened = openJournal(path, options());
    expect(reopened.recovered).toBeUndefined();
    expect(reopened.journal.state).toEqual(b.state);
    expect(filesIn()).toEqual(['journal.json']);
  });

  it('journal - its state is frozen and the caller’s objects are not', () => {
    const { journal } = openJournal(path, options());
    const statusDetails = { step: 'one' };
    journal.enqueue({ jobId: jobA, status: 'IN_PROGRESS', statusDetails });
    expect(Object.isFrozen(journal.state.outbox)).toBe(true);
    expect(Object.isFrozen(journal.outbox[0]?.statusDetails)).toBe(true);
    expect(Object.isFrozen(statusDetails)).toBe(false);
  });
});

describe('journal: executions told apart by queuedAt', () => {
  it('journal - a completed execution matches its queuedAt to the second; another queuedAt is another execution', () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'journal-queued-'));
    const { journal } = openJournal(join(dir, 'journal.json'));
    const jobId = job('reused');
    const queuedAt = new Date('2026-11-27T01:00:00.000Z');
    journal.begin({ jobId, executionNumber: 1, versionNumber: 2, handler: 'h', queuedAt });
    journal.complete({ jobId, executionNumber: 1, status: 'SUCCEEDED' });
    expect(journal.completedAs(jobId, 1, new Date('2026-11-27T01:00:00.400Z'))).toMatchObject({ status: 'SUCCEEDED', queuedAt });
    expect(journal.completedAs(jobId, 1, new Date('2026-11-27T01:00:02.000Z'))).toBeUndefined();
    expect(journal.completedAs(jobId, 1)).toBeDefined();
    // Reopened from the file, the same.
    const again = openJournal(join(dir, 'journal.json')).journal;
    expect(again.completedAs(jobId, 1, new Date('2026-11-27T01:00:02.000Z'))).toBeUndefined();
    expect(() => again.begin({ jobId, executionNumber: 1, versionNumber: 1, handler: 'h', queuedAt: new Date('2026-11-27T01:05:00Z') })).not.toThrow();
  });

  // Found by review: parseJson once refused a "__proto__" key everywhere, so a journal the library wrote
  // itself (a handler's checkpoint or details from JSON.parse) read back as corrupt, and was started empty.
  // (Outbox details never hold the key: the runner's statusDetails encoder drops it, as the codec refuses it.)
  it('journal - a "__proto__" key in a checkpoint reads back as written', () => {
    const { journal } = openJournal(path, options());
    const checkpoint: unknown = JSON.parse('{"settings":{"__proto__":{"a":1}}}');
    journal.begin({ ...begin, checkpoint });
    journal.complete({ jobId: jobB, executionNumber: 1, status: 'SUCCEEDED' }, { jobId: jobB, executionNumber: 1, status: 'SUCCEEDED', statusDetails: { result: 'ok' } });
    const reopened = openJournal(path, options());
    expect(reopened.recovered).toBeUndefined();
    expect(JSON.stringify(reopened.journal.running?.checkpoint)).toBe('{"settings":{"__proto__":{"a":1}}}');
    expect(reopened.journal.outbox).toHaveLength(1);
  });
});
