import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openJournal } from '../../src/agent/journal';

/**
 * A real crash: a child process mutates the journal in a loop and is killed with SIGKILL at some point;
 * the journal must then open cleanly (nothing to move aside) and hold every mutation the child reported.
 */

const root = resolve(__dirname, '../..');
const journalModule = resolve(root, 'src/agent/journal');

const childSource = `
import { openJournal } from ${JSON.stringify(journalModule)};
import { isJobId } from ${JSON.stringify(resolve(root, 'src/codecs/primitives'))};
const jobId = 'job-crash';
if (!isJobId(jobId)) throw new Error('bad job id');
const { journal } = openJournal(process.argv[2] ?? '');
let previous: string | undefined;
for (let n = 1; n < 1_000_000; n++) {
  journal.begin({ jobId, executionNumber: n, versionNumber: 1, handler: 'crash' });
  journal.checkpoint({ n, padding: 'x'.repeat(n % 4000) });
  const entry = journal.complete({ jobId, executionNumber: n, status: 'SUCCEEDED' }, { jobId, executionNumber: n, status: 'SUCCEEDED', statusDetails: { n: String(n) } });
  if (previous !== undefined) journal.ack(previous);
  previous = entry?.id;
  process.stdout.write(n + '\\n');
}
`;

const runAndKill = (folder: string, path: string, killAfterLines: number): Promise<number> =>
  new Promise((done, fail) => {
    const script = join(folder, 'child.ts');
    fs.writeFileSync(script, childSource);
    // node itself with tsx as a loader: the `tsx` CLI would run the script in a grandchild that SIGKILL misses.
    const child = spawn(process.execPath, ['--import', 'tsx', script, path], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let lastDone = 0;
    let buffered = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) lastDone = Math.max(lastDone, Number(line));
      if (lastDone >= killAfterLines) child.kill('SIGKILL');
    });
    child.on('error', fail);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL') done(lastDone);
      else fail(new Error(`child ended without being killed (signal ${String(signal)})`));
    });
  });

describe('journal crash', () => {
  let folder: string;
  beforeEach(() => {
    folder = fs.mkdtempSync(join(tmpdir(), 'journal-crash-'));
  });
  afterEach(() => {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it.each([5, 40])('journal - a process killed mid-write (after %i jobs) leaves a journal that opens with every reported mutation', async (killAfter) => {
    const path = join(folder, 'journal.json');
    const lastReported = await runAndKill(folder, path, killAfter);
    expect(lastReported).toBeGreaterThanOrEqual(killAfter);
    const { journal, recovered } = openJournal(path);
    expect(recovered).toBeUndefined();
    const lastCompleted = journal.state.completed.at(-1)?.executionNumber ?? 0;
    expect(lastCompleted).toBeGreaterThanOrEqual(lastReported);
    expect(journal.outbox.length).toBeLessThanOrEqual(2);
    expect(journal.outbox.at(-1)?.statusDetails).toEqual({ n: String(lastCompleted) });
    expect(fs.readdirSync(folder).filter((name) => name.includes('.tmp-'))).toEqual([]);
  }, 20_000);
});
