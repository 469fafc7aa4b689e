import { Writable } from 'node:stream';
import { Subject, of, toArray, firstValueFrom } from 'rxjs';
import type { RunnerEvent } from '../../src/agent/events';
import { renderProgress, renderRunnerEvents, runnerEventJson, runnerEventLine } from '../../src/cli/progress';
import { RequestTimeoutError, TransportError } from '../../src/errors';
import { job } from '../helpers/names';

/** The runner progress renderer, fed hand-made events. */

const events: RunnerEvent[] = [
  { kind: 'started', jobId: job('job-1'), executionNumber: 1, handler: 'firmware' },
  { kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: 40, step: 'download', statusDetails: { percent: '40', step: 'download' } },
  { kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: undefined, step: 'verify', statusDetails: { step: 'verify' } },
  { kind: 'succeeded', jobId: job('job-1'), executionNumber: 1, statusDetails: { result: 'ok' } },
  { kind: 'reported', jobId: job('job-1'), executionNumber: 1, status: 'SUCCEEDED', attempts: 2 },
  { kind: 'resumed', jobId: job('job-2'), executionNumber: 3, handler: 'reboot', checkpoint: { stage: 2 } },
  { kind: 'failed', jobId: job('job-2'), executionNumber: 3, reason: 'exit code 1', statusDetails: {} },
  { kind: 'rejected', jobId: job('job-3'), executionNumber: 1, reason: 'unknown operation', statusDetails: {} },
  { kind: 'canceled', jobId: job('job-4'), executionNumber: 1, status: 'TIMED_OUT' },
  { kind: 'error', error: new TransportError('connection lost'), jobId: job('job-4'), executionNumber: 1 },
  { kind: 'error', error: new RequestTimeoutError('updateJobExecution', 'tok', 500) },
];

const lines = (): { write: (text: string) => void; text: () => string } => {
  let text = '';
  return { write: (chunk) => (text += chunk), text: () => text };
};

/** A terminal stand-in: cli-progress draws on it as on a TTY. */
class FakeTty extends Writable {
  readonly isTTY = true;
  readonly columns = 120;
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

// Cursor movement, line clearing and colours: what a terminal would not show as text.
const escapes = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const visible = (text: string): string => text.replace(escapes, '');

const afterTest: (() => void)[] = [];
afterEach(() => {
  for (const stop of afterTest.splice(0)) stop();
});

describe('renderProgress', () => {
  it('progress - --json: exactly one JSON document per event and line; errors as { name, message }', async () => {
    const out = lines();
    const passed = await firstValueFrom(of(...events).pipe(renderProgress({ tty: true, json: true, write: out.write }), toArray()));
    expect(passed).toEqual(events);
    const docs = out.text().trimEnd().split('\n').map((line): unknown => JSON.parse(line));
    expect(docs).toHaveLength(events.length);
    expect(docs[1]).toEqual({ kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: 40, step: 'download', statusDetails: { percent: '40', step: 'download' } });
    expect(docs[5]).toEqual({ kind: 'resumed', jobId: job('job-2'), executionNumber: 3, handler: 'reboot', checkpoint: { stage: 2 } });
    expect(docs[9]).toEqual({ kind: 'error', jobId: job('job-4'), executionNumber: 1, error: { name: 'TransportError', message: 'connection lost' } });
    expect(docs[10]).toEqual({ kind: 'error', error: { name: 'RequestTimeoutError', message: expect.stringContaining('timed out after 500 ms') } });
  });

  it('progress - a checkpoint that is not JSON does not lose the event', () => {
    const line = runnerEventJson({ kind: 'resumed', jobId: job('job-9'), executionNumber: 1, handler: 'h', checkpoint: { big: 1n } });
    expect(JSON.parse(line)).toEqual({ kind: 'resumed', jobId: job('job-9'), executionNumber: 1, handler: 'h', checkpoint: '(not JSON)' });
  });

  it('progress - not a TTY: one plain line per event', async () => {
    const out = lines();
    await firstValueFrom(of(...events).pipe(renderProgress({ tty: false, json: false, write: out.write }), toArray()));
    expect(out.text().split('\n')).toEqual([
      'started   job-1 #1 (firmware)',
      'progress  job-1 #1 40% download',
      'progress  job-1 #1 verify',
      'succeeded job-1 #1',
      'reported  job-1 #1 SUCCEEDED (2 attempts)',
      'resumed   job-2 #3 (reboot)',
      'failed    job-2 #3: exit code 1',
      'rejected  job-3 #1: unknown operation',
      'canceled  job-4 #1 (TIMED_OUT)',
      'error     job-4 #1 TransportError: connection lost',
      'error     RequestTimeoutError: updateJobExecution timed out after 500 ms (clientToken tok)',
      '',
    ]);
    expect(runnerEventLine({ kind: 'reported', jobId: job('j'), executionNumber: 1, status: 'FAILED', attempts: 1 })).toBe('reported  j #1 FAILED (1 attempt)');
  });

  it('progress - TTY: a bar per running execution with percent, job id and step; other events as lines above; stops on unsubscribe', async () => {
    const tty = new FakeTty();
    const out = lines();
    const event$ = new Subject<RunnerEvent>();
    const subscription = renderRunnerEvents(event$, { tty: true, json: false, write: out.write, stream: tty });
    afterTest.push(() => subscription.unsubscribe());

    event$.next({ kind: 'started', jobId: job('job-1'), executionNumber: 1, handler: 'firmware' });
    expect(visible(tty.text)).toContain('started   job-1 #1 (firmware)\n');
    event$.next({ kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: 40, step: 'download', statusDetails: {} });
    expect(visible(tty.text)).toMatch(/job-1 #1 download \[[^\]]+\] 40%/);
    event$.next({ kind: 'started', jobId: job('job-2'), executionNumber: 1, handler: 'reboot' });
    event$.next({ kind: 'progress', jobId: job('job-2'), executionNumber: 1, percent: 75, step: 'restart', statusDetails: {} });
    // Both bars in one redraw: job-1's bar is drawn again just before job-2's.
    expect(visible(tty.text)).toMatch(/job-1 #1 download \[[^\]]+\] 40%\njob-2 #1 restart \[[^\]]+\] 75%/);
    event$.next({ kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: undefined, step: 'verify', statusDetails: {} });
    expect(visible(tty.text)).toMatch(/job-1 #1 verify \[[^\]]+\] 40%/);
    event$.next({ kind: 'succeeded', jobId: job('job-1'), executionNumber: 1, statusDetails: {} });
    expect(visible(tty.text)).toContain('succeeded job-1 #1\n');
    event$.next({ kind: 'error', error: new TransportError('connection lost') });
    expect(visible(tty.text)).toContain('error     TransportError: connection lost\n');

    subscription.unsubscribe();
    const written = tty.text.length;
    // Stopped: cli-progress's redraw timer is gone, nothing more is written.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tty.text.length).toBe(written);
    expect(out.text()).toBe('');
  });

  it('progress - TTY: when the last bar goes, later lines are written straight to the terminal', () => {
    const tty = new FakeTty();
    const event$ = new Subject<RunnerEvent>();
    const subscription = renderRunnerEvents(event$, { tty: true, json: false, write: () => undefined, stream: tty });
    afterTest.push(() => subscription.unsubscribe());
    event$.next({ kind: 'started', jobId: job('job-5'), executionNumber: 2, handler: 'x' });
    event$.next({ kind: 'canceled', jobId: job('job-5'), executionNumber: 2, status: 'CANCELED' });
    const afterStop = tty.text.length;
    event$.next({ kind: 'reported', jobId: job('job-5'), executionNumber: 2, status: 'CANCELED', attempts: 1 });
    expect(tty.text.slice(afterStop)).toBe('reported  job-5 #2 CANCELED (1 attempt)\n');
    event$.complete();
    expect(subscription.closed).toBe(true);
  });

  it('progress - an error of the events is written as one line (JSON in --json mode)', () => {
    const plain = lines();
    const json = lines();
    const failing = new Subject<RunnerEvent>();
    renderRunnerEvents(failing, { tty: false, json: false, write: plain.write });
    renderRunnerEvents(failing, { tty: false, json: true, write: json.write });
    failing.error(new TransportError('gone'));
    expect(plain.text()).toBe('error     TransportError: gone\n');
    expect(JSON.parse(json.text())).toEqual({ kind: 'error', error: { name: 'TransportError', message: 'gone' } });
  });
});

describe('runner progress: text from jobs on the terminal', () => {
  it('progress - control characters in step names and reasons never reach the terminal', () => {
    const hostile: RunnerEvent[] = [
      { kind: 'progress', jobId: job('job-1'), executionNumber: 1, percent: 5, step: 'step\u001b[2J\u001b]0;owned\u0007', statusDetails: {} },
      { kind: 'failed', jobId: job('job-1'), executionNumber: 1, reason: 'bad\r\nnews\u001b[31m', statusDetails: {} },
    ];
    for (const event of hostile) {
      const line = runnerEventLine(event);
      expect(line).not.toMatch(/\p{C}/u);
      expect(line).toContain('\uFFFD');
    }
  });
});
