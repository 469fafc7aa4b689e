import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { CommandStep } from '../../../src/agent/device-client/document';
import { StepError } from '../../../src/agent/device-client/step-error';
import { type StepEvent, type StepOptions, runStep } from '../../../src/agent/device-client/step';
import { collect, handlerStep, isAlive, pidsIn, tempDirs, waitUntil, writeScript } from './helpers';

// Real processes; every test is bounded well under 5 s.
jest.setTimeout(5000);

const dirs = tempDirs();
afterEach(() => dirs.cleanUp());

const commandStep = (argv: readonly [string, ...string[]], fields: Partial<CommandStep> = {}): CommandStep => ({
  kind: 'command',
  name: 'test-command',
  argv,
  runAsUser: '',
  ignoreStepFailure: false,
  allowStdErr: undefined,
  ...fields,
});

/** A handler folder holding one 0700 script `h.sh`; options for fast tests. */
const withHandler = async (body: string, options: Partial<StepOptions> = {}): Promise<{ dir: string; options: StepOptions }> => {
  const dir = await dirs.make();
  await writeScript(dir, 'h.sh', body);
  return { dir, options: { handlerDir: dir, killGraceMs: 500, drainMs: 200, ...options } };
};

const finishedOf = (events: readonly StepEvent[]): Extract<StepEvent, { kind: 'finished' }> => {
  const last = events[events.length - 1];
  if (last?.kind !== 'finished') throw new Error(`expected a finished event last, got ${JSON.stringify(last)}`);
  return last;
};

const stepErrorOf = (error: unknown): StepError => {
  if (!(error instanceof StepError)) throw new Error(`expected a StepError, got ${String(error)}`);
  return error;
};

/** A script that starts two `sleep 30` children in its group, records every pid in $2, then waits. */
const spawnsChildren = 'sleep 30 & echo $! >> "$2"\nsleep 30 & echo $! >> "$2"\necho $$ >> "$2"\nwait';

describe('runStep: outcomes', () => {
  it('runStep - runs a handler with $1 = runAsUser, then the args, and captures stdout', async () => {
    const { options } = await withHandler('printf "[%s]" "$@"');
    const { events, error } = await collect(runStep(handlerStep('h.sh', ['a b', 'c'], { runAsUser: 'pi' }), options));
    expect(error).toBeUndefined();
    expect(events[0]).toStrictEqual({ kind: 'started', pid: expect.any(Number) });
    expect(events).toContainEqual({ kind: 'output', stream: 'stdout', bytes: 12 });
    expect(finishedOf(events)).toMatchObject({ exitCode: 0, signal: null, stdoutTail: '[pi][a b][c]', stderrTail: '', ignoredFailure: undefined });
  });

  it('runStep - a legacy handler gets its args from $1 (no user argument)', async () => {
    const { options } = await withHandler('printf "[%s]" "$@"');
    const { events } = await collect(runStep(handlerStep('h.sh', ['x'], { userArgument: false }), options));
    expect(finishedOf(events).stdoutTail).toBe('[x]');
  });

  it('runStep - an exit status other than 0 is a failure carrying the output tails', async () => {
    const { options } = await withHandler('echo out; echo oops >&2; exit 3');
    const { error } = await collect(runStep(handlerStep('h.sh'), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'exit-code', exitCode: 3, signal: null, stdoutTail: 'out\n', stderrTail: 'oops\n', step: 'test-step', message: 'Step "test-step" exited with status 3' });
  });

  it('runStep - with ignoreStepFailure a failure becomes a finished event with ignoredFailure', async () => {
    const { options } = await withHandler('exit 3');
    const { events, error } = await collect(runStep(handlerStep('h.sh', [], { ignoreStepFailure: true }), options));
    expect(error).toBeUndefined();
    expect(finishedOf(events)).toMatchObject({ exitCode: 3, ignoredFailure: { reason: 'exit-code' } });
  });

  it('runStep - a death by signal is a failure (differs: Device Client reports it as success)', async () => {
    const { options } = await withHandler('echo before; kill -KILL $$');
    const { error } = await collect(runStep(handlerStep('h.sh'), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'signal', exitCode: null, signal: 'SIGKILL', stdoutTail: 'before\n', message: 'Step "test-step" was killed by signal SIGKILL' });
  });

  it('runStep - stderr alone never fails a step without allowStdErr (as Device Client)', async () => {
    const { options } = await withHandler('echo 1 >&2; echo 2 >&2; echo 3 >&2');
    const { events } = await collect(runStep(handlerStep('h.sh'), options));
    expect(finishedOf(events)).toMatchObject({ exitCode: 0, stderrLines: 3 });
  });

  it('runStep - allowStdErr N: exit 0 with more than N stderr lines fails (the README rule; differs from the code)', async () => {
    const { options } = await withHandler('echo 1 >&2; echo 2 >&2; echo 3 >&2');
    const { error } = await collect(runStep(handlerStep('h.sh', [], { allowStdErr: 2 }), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'stderr', stderrLines: 3, message: 'Step "test-step" wrote 3 lines to stderr, more than allowStdErr (2)' });
    const { events } = await collect(runStep(handlerStep('h.sh', [], { allowStdErr: 3 }), options));
    expect(finishedOf(events).exitCode).toBe(0);
  });

  it('runStep - allowStdErr does not excuse a non-zero exit status (differs: Device Client then never fails)', async () => {
    const { options } = await withHandler('exit 1');
    const { error } = await collect(runStep(handlerStep('h.sh', [], { allowStdErr: 5 }), options));
    expect(stepErrorOf(error).reason).toBe('exit-code');
  });

  it('runStep - a refused handler is a StepError "refused" and nothing runs', async () => {
    const { dir, options } = await withHandler('exit 0');
    await writeScript(dir, 'open.sh', `touch ${join(dir, 'ran')}`, 0o755);
    const { events, error } = await collect(runStep(handlerStep('open.sh'), options));
    expect(events).toStrictEqual([]);
    expect(stepErrorOf(error)).toMatchObject({ reason: 'refused', exitCode: null });
    expect(stepErrorOf(error).message).toContain('Step "test-step" refused: ');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('runStep - the working directory and environment are the given ones', async () => {
    const { dir, options } = await withHandler('pwd; echo "$GREETING"', { env: { ...process.env, GREETING: 'hi' } });
    const { events } = await collect(runStep(handlerStep('h.sh'), { ...options, cwd: dir }));
    expect(finishedOf(events).stdoutTail).toBe(`${dir}\nhi\n`);
  });
});

describe('runStep: runCommand', () => {
  it('runStep - runCommand is refused unless allowCommands is true (security default; Device Client always runs it)', async () => {
    const dir = await dirs.make();
    const marker = join(dir, 'ran');
    const { events, error } = await collect(runStep(commandStep(['touch', marker]), { handlerDir: dir }));
    expect(events).toStrictEqual([]);
    expect(stepErrorOf(error)).toMatchObject({ reason: 'refused', message: 'Step "test-command" refused: runCommand is disabled on this device (allowCommands is off)' });
    expect(existsSync(marker)).toBe(false);
  });

  it('runStep - runCommand with allowCommands runs the argv without a shell', async () => {
    const dir = await dirs.make();
    const { events } = await collect(runStep(commandStep(['echo', '$HOME', 'a;b', '*']), { handlerDir: dir, allowCommands: true }));
    expect(finishedOf(events)).toMatchObject({ exitCode: 0, stdoutTail: '$HOME a;b *\n' });
  });

  it('runStep - a program that does not exist is "spawn-failed"; ignoreStepFailure ignores it', async () => {
    const dir = await dirs.make();
    const options = { handlerDir: dir, allowCommands: true };
    const { error } = await collect(runStep(commandStep(['no-such-program-iot-jobs']), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'spawn-failed' });
    expect(stepErrorOf(error).message).toContain('Step "test-command" could not start: ');
    const ignored = await collect(runStep(commandStep(['no-such-program-iot-jobs'], { ignoreStepFailure: true }), options));
    expect(finishedOf(ignored.events).ignoredFailure?.reason).toBe('spawn-failed');
  });

  it('runStep - runAsUser equal to the agent user runs the command directly', async () => {
    const dir = await dirs.make();
    const { events } = await collect(runStep(commandStep(['echo', 'ok'], { runAsUser: userInfo().username }), { handlerDir: dir, allowCommands: true }));
    expect(finishedOf(events).stdoutTail).toBe('ok\n');
  });

  it('runStep - another runAsUser without sudo on PATH is refused (differs: Device Client runs it as itself)', async () => {
    const [dir, emptyBin] = [await dirs.make(), await dirs.make()];
    const { error } = await collect(runStep(commandStep(['/bin/echo', 'ok'], { runAsUser: 'nobody' }), { handlerDir: dir, allowCommands: true, env: { PATH: emptyBin } }));
    expect(stepErrorOf(error)).toMatchObject({
      reason: 'refused',
      message: `Step "test-command" refused: runAsUser "nobody" needs sudo, which is not on PATH (not running it as the agent's own user)`,
    });
  });

  it('runStep - another runAsUser runs as sudo -n -u <user> -- <argv> when sudo is on PATH', async () => {
    const [dir, bin] = [await dirs.make(), await dirs.make()];
    await writeScript(bin, 'sudo', 'printf "[%s]" "$@"', 0o755); // a stand-in that shows its argv
    const { events } = await collect(runStep(commandStep(['-s', 'x'], { runAsUser: 'nobody' }), { handlerDir: dir, allowCommands: true, env: { PATH: `${bin}:/usr/bin:/bin` } }));
    expect(finishedOf(events).stdoutTail).toBe('[-n][-u][nobody][--][-s][x]');
  });
});

describe('runStep: time limits, cancellation, output', () => {
  it('runStep - a step past its time limit is killed with its children and fails with "timeout"', async () => {
    const { dir, options } = await withHandler(spawnsChildren, { timeoutMs: 300 });
    const pids = join(dir, 'pids');
    const { error } = await collect(runStep(handlerStep('h.sh', [pids]), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'timeout', message: 'Step "test-step" timed out after 300 ms' });
    expect(pidsIn(pids)).toHaveLength(3);
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1000)).toBe(true);
  });

  it('runStep - children that ignore SIGTERM are killed with SIGKILL after the grace time', async () => {
    const { dir, options } = await withHandler(`trap '' TERM\n${spawnsChildren}`, { timeoutMs: 200, killGraceMs: 300 });
    const pids = join(dir, 'pids');
    const { error } = await collect(runStep(handlerStep('h.sh', [pids]), options));
    expect(stepErrorOf(error)).toMatchObject({ reason: 'timeout', signal: 'SIGKILL' });
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1000)).toBe(true);
  });

  it('runStep - unsubscribing mid-step kills the process group', async () => {
    const { dir, options } = await withHandler(spawnsChildren);
    const pids = join(dir, 'pids');
    const subscription = runStep(handlerStep('h.sh', [pids]), options).subscribe();
    expect(await waitUntil(() => existsSync(pids) && pidsIn(pids).length === 3, 2000)).toBe(true);
    subscription.unsubscribe();
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1500)).toBe(true);
  });

  it('runStep - an AbortSignal kills the group and errors with "aborted", even with ignoreStepFailure', async () => {
    const controller = new AbortController();
    const { dir, options } = await withHandler(spawnsChildren, { signal: controller.signal });
    const pids = join(dir, 'pids');
    const done = collect(runStep(handlerStep('h.sh', [pids], { ignoreStepFailure: true }), options));
    expect(await waitUntil(() => existsSync(pids) && pidsIn(pids).length === 3, 2000)).toBe(true);
    controller.abort();
    const { error } = await done;
    expect(stepErrorOf(error)).toMatchObject({ reason: 'aborted', message: 'Step "test-step" was aborted' });
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1500)).toBe(true);
  });

  it('runStep - an AbortSignal aborted before the start runs nothing', async () => {
    const { dir, options } = await withHandler(`touch ${join(await dirs.make(), 'ran')}`, { signal: AbortSignal.abort() });
    const { events, error } = await collect(runStep(handlerStep('h.sh'), options));
    expect(stepErrorOf(error).reason).toBe('aborted');
    expect(events).toStrictEqual([]);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('runStep - 5 MB on stdout and on stderr at once do not kill the step; tails stay bounded (differs: DC stops reading)', async () => {
    const body = "(head -c 5000000 /dev/zero | tr '\\0' e >&2; echo ERR-END >&2) &\nhead -c 5000000 /dev/zero | tr '\\0' o\necho OUT-END\nwait";
    const { options } = await withHandler(body, { tailBytes: 1000 });
    const { events, error } = await collect(runStep(handlerStep('h.sh'), options));
    expect(error).toBeUndefined();
    const bytes = (stream: string): number => events.reduce((sum, e) => sum + (e.kind === 'output' && e.stream === stream ? e.bytes : 0), 0);
    expect([bytes('stdout'), bytes('stderr')]).toStrictEqual([5_000_008, 5_000_008]);
    const finished = finishedOf(events);
    expect(finished.exitCode).toBe(0);
    expect(finished.stdoutTail).toHaveLength(1000);
    expect(finished.stdoutTail.endsWith('oooOUT-END\n')).toBe(true);
    expect(finished.stderrTail.endsWith('eeeERR-END\n')).toBe(true);
  });

  it('runStep - a background child holding the pipe does not hang the step after the program exits (differs: DC waits for EOF)', async () => {
    const { dir, options } = await withHandler('sleep 30 & echo $! >> "$2"\necho done', { drainMs: 200 });
    const pids = join(dir, 'pids');
    const { events } = await collect(runStep(handlerStep('h.sh', [pids]), options));
    expect(finishedOf(events)).toMatchObject({ exitCode: 0, stdoutTail: 'done\n' });
    const [leftover] = pidsIn(pids);
    expect(leftover !== undefined && isAlive(leftover)).toBe(true); // a normal exit does not kill what it left running
    if (leftover !== undefined) process.kill(leftover, 'SIGKILL');
  });
});
