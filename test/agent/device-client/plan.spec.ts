import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DeviceClientPlan, type DeviceClientStep, type HandlerStep, parseDeviceClientDocument } from '../../../src/agent/device-client/document';
import { type PlanEvent, type PlanOptions, checkPlan, runPlan, succeededReason } from '../../../src/agent/device-client/plan';
import { StepError } from '../../../src/agent/device-client/step-error';
import { collect, handlerStep, isAlive, pidsIn, tempDirs, waitUntil, writeScript } from './helpers';

// Real processes; every test is bounded well under 5 s.
jest.setTimeout(5000);

const dirs = tempDirs();
afterEach(() => dirs.cleanUp());

/** A handler step named `name`, running `name.sh`. */
const step = (name: string, args: readonly string[] = [], fields: Partial<HandlerStep> = {}): HandlerStep => handlerStep(`${name}.sh`, args, { name, ...fields });

const plan = (steps: readonly [DeviceClientStep, ...DeviceClientStep[]], fields: Partial<DeviceClientPlan> = {}): DeviceClientPlan => ({
  schema: '1.0',
  version: '1.0',
  includeStdOut: true,
  conditions: [],
  steps,
  finalStep: undefined,
  ...fields,
});

/**
 * A handler folder with scripts: `ok.sh` (logs its name, prints), `fail.sh` (logs, stderr, exit 2), `slow.sh`
 * (logs, then a 30 s child). Each appends its name to `log`.
 */
const setup = async (): Promise<{ options: PlanOptions; log: string; ran: () => string[]; dir: string }> => {
  const dir = await dirs.make();
  const log = join(dir, 'log');
  await writeScript(dir, 'ok.sh', `echo ok >> ${log}; echo "ok says $2"`);
  await writeScript(dir, 'fail.sh', `echo fail >> ${log}; echo "fail says" ; echo "it broke" >&2; exit 2`);
  await writeScript(dir, 'final.sh', `echo final >> ${log}; echo final`);
  await writeScript(dir, 'slow.sh', `echo slow >> ${log}; sleep 30 & echo $! >> "$2"; echo $$ >> "$2"; wait`);
  const ran = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line !== '') : []);
  return { options: { handlerDir: dir, killGraceMs: 300, drainMs: 200 }, log, ran, dir };
};

const resultOf = (events: readonly PlanEvent[]): Extract<PlanEvent, { kind: 'result' }> => {
  const last = events[events.length - 1];
  if (last?.kind !== 'result') throw new Error(`expected a result last, got ${JSON.stringify(last)}`);
  return last;
};

describe('runPlan: order and outcome', () => {
  it('runPlan - runs the steps in order, then the finalStep; SUCCEEDED with Device Client\'s reason and the stdout tail', async () => {
    const { options, ran } = await setup();
    const { events } = await collect(runPlan(plan([step('ok', ['1']), step('ok', ['2'])], { finalStep: step('final') }), options));
    expect(ran()).toStrictEqual(['ok', 'ok', 'final']);
    expect(events.filter((e) => e.kind === 'step' && e.event.kind === 'started').map((e) => (e.kind === 'step' ? [e.index, e.final] : []))).toStrictEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);
    expect(resultOf(events)).toMatchObject({ status: 'SUCCEEDED', statusDetails: { reason: succeededReason, stdout: 'ok says 1\nok says 2\nfinal\n' }, failure: undefined });
    expect(resultOf(events).statusDetails).not.toHaveProperty('stderr');
  });

  it('runPlan - stops at the first failure: later steps and the finalStep do not run (Device Client: finalStep only after success)', async () => {
    const { options, ran } = await setup();
    const { events } = await collect(runPlan(plan([step('ok'), step('fail'), step('ok')], { finalStep: step('final') }), options));
    expect(ran()).toStrictEqual(['ok', 'fail']);
    expect(resultOf(events)).toMatchObject({
      status: 'FAILED',
      statusDetails: { reason: 'Step "fail" exited with status 2', stdout: 'ok says \nfail says\n', stderr: 'it broke\n' },
      failure: { reason: 'exit-code', exitCode: 2 },
    });
  });

  it('runPlan - a failure with ignoreStepFailure lets the job go on to SUCCEEDED; stderr is reported on success too', async () => {
    const { options, ran } = await setup();
    const { events } = await collect(runPlan(plan([step('fail', [], { ignoreStepFailure: true }), step('ok')], { finalStep: step('final') }), options));
    expect(ran()).toStrictEqual(['fail', 'ok', 'final']);
    expect(resultOf(events)).toMatchObject({ status: 'SUCCEEDED', statusDetails: { reason: succeededReason, stderr: 'it broke\n' } });
  });

  it('runPlan - a failing finalStep makes the job FAILED (Device Client test ExecuteSucceedThenFail)', async () => {
    const { options } = await setup();
    const { events } = await collect(runPlan(plan([step('ok')], { finalStep: step('fail') }), options));
    expect(resultOf(events)).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'Step "fail" exited with status 2' } });
  });

  it('runPlan - stdout is left out unless the document has includeStdOut', async () => {
    const { options } = await setup();
    const { events } = await collect(runPlan(plan([step('ok')], { includeStdOut: false }), options));
    expect(resultOf(events).statusDetails).toStrictEqual({ reason: succeededReason });
  });

  it('runPlan - the job tails are bounded by tailBytes across steps', async () => {
    const { options } = await setup();
    const { events } = await collect(runPlan(plan([step('ok', ['1']), step('ok', ['2'])]), { ...options, tailBytes: 12 }));
    expect(resultOf(events).statusDetails.stdout).toBe('1\nok says 2\n'); // the last 12 characters of 'ok says 1\nok says 2\n'
  });

  it('runPlan - a managed template document runs its handler from the handler folder end to end', async () => {
    const { options, dir } = await setup();
    await writeScript(dir, 'install-packages.sh', 'echo "user=[$1] packages=[$2]"');
    const document: unknown = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'aws-install-application.json'), 'utf8').replace(/\$\{aws:iot:parameter:(\w+)\}/g, (_all, key: string) => (key === 'packages' ? 'lftp dos2unix' : '')));
    const parsed = parseDeviceClientDocument(document);
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    const { events } = await collect(runPlan({ ...parsed.plan, includeStdOut: true }, options));
    expect(resultOf(events)).toMatchObject({ status: 'SUCCEEDED', statusDetails: { stdout: 'user=[] packages=[lftp dos2unix]\n' } });
  });
});

describe('runPlan: refusals, limits, cancellation', () => {
  it('checkPlan - lists runCommand steps when commands are off, and handler names that are paths', () => {
    const command: DeviceClientStep = { kind: 'command', name: 'c', argv: ['ls'], runAsUser: '', ignoreStepFailure: true, allowStdErr: undefined };
    const sneaky = step('x', [], { handler: '../x.sh' });
    expect(checkPlan(plan([step('ok'), command], { finalStep: sneaky }), {})).toStrictEqual([
      'step "c": runCommand is disabled on this device (allowCommands is off)',
      'step "x": handler "../x.sh" must be a plain file name (no "/", "." or "..")',
    ]);
    expect(checkPlan(plan([command]), { allowCommands: true })).toStrictEqual([]);
    expect(checkPlan(plan([step('x', [], { handler: '/bin/echo', path: undefined })]), { allowCommands: true })).toStrictEqual([]);
  });

  it('runPlan - a runCommand without allowCommands fails the job before any step runs, even with ignoreStepFailure', async () => {
    const { options, ran } = await setup();
    const command: DeviceClientStep = { kind: 'command', name: 'c', argv: ['true'], runAsUser: '', ignoreStepFailure: true, allowStdErr: undefined };
    const { events } = await collect(runPlan(plan([step('ok'), command]), options));
    expect(ran()).toStrictEqual([]);
    expect(events).toHaveLength(1);
    expect(resultOf(events)).toMatchObject({
      status: 'FAILED',
      statusDetails: { reason: 'Job refused: step "c": runCommand is disabled on this device (allowCommands is off)' },
      failure: { reason: 'refused' },
    });
  });

  it('runPlan - the job time limit kills the running step and fails the job; ignoreStepFailure does not extend it', async () => {
    const { options, ran, dir } = await setup();
    const pids = join(dir, 'pids');
    const slow = step('slow', [pids], { ignoreStepFailure: true });
    const { events } = await collect(runPlan(plan([slow, step('ok')]), { ...options, jobTimeoutMs: 300 }));
    expect(ran()).toStrictEqual(['slow']);
    expect(resultOf(events)).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'Job time limit of 300 ms reached in step "slow"' }, failure: { reason: 'timeout' } });
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1000)).toBe(true);
  });

  it('runPlan - the step time limit is a step failure, which ignoreStepFailure may ignore', async () => {
    const { options, ran, dir } = await setup();
    const { events } = await collect(runPlan(plan([step('slow', [join(dir, 'pids')], { ignoreStepFailure: true }), step('ok')]), { ...options, stepTimeoutMs: 200 }));
    expect(ran()).toStrictEqual(['slow', 'ok']);
    expect(resultOf(events).status).toBe('SUCCEEDED');
  });

  it('runPlan - aborting errors with StepError "aborted" (no result: a cancelled job gets no status) and kills the step', async () => {
    const { options, dir } = await setup();
    const pids = join(dir, 'pids');
    const controller = new AbortController();
    const done = collect(runPlan(plan([step('slow', [pids]), step('ok')]), { ...options, signal: controller.signal }));
    expect(await waitUntil(() => existsSync(pids) && pidsIn(pids).length === 2, 2000)).toBe(true);
    controller.abort();
    const { events, error } = await done;
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ reason: 'aborted' });
    expect(events.some((e) => e.kind === 'result')).toBe(false);
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1000)).toBe(true);
  });

  it('runPlan - unsubscribing kills the running step\'s process group and starts nothing more', async () => {
    const { options, ran, dir } = await setup();
    const pids = join(dir, 'pids');
    const subscription = runPlan(plan([step('slow', [pids]), step('ok')]), options).subscribe();
    expect(await waitUntil(() => existsSync(pids) && pidsIn(pids).length === 2, 2000)).toBe(true);
    subscription.unsubscribe();
    expect(await waitUntil(() => pidsIn(pids).every((pid) => !isAlive(pid)), 1000)).toBe(true);
    expect(ran()).toStrictEqual(['slow']);
  });
});
