import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DeviceClientPlan,
  type DeviceClientStep,
  isDeviceClientDocument,
  parseDeviceClientDocument,
} from '../../../src/agent/device-client/document';

const fixtures = join(__dirname, 'fixtures');
const fixtureText = (name: string): string => readFileSync(join(fixtures, name), 'utf8');
const fixture = (name: string): unknown => {
  const value: unknown = JSON.parse(fixtureText(name));
  return value;
};

/**
 * A managed template's document as a device receives it: AWS substitutes `${aws:iot:parameter:<key>}`
 * server-side. An omitted optional parameter is assumed to become "" (UNCONFIRMED, spec §6).
 */
const fromTemplate = (name: string, parameters: Readonly<Record<string, string>>): unknown => {
  const text = fixtureText(name).replace(/\$\{aws:iot:parameter:([A-Za-z]+)\}/g, (_all, key: string) =>
    JSON.stringify(parameters[key] ?? '').slice(1, -1),
  );
  const value: unknown = JSON.parse(text);
  return value;
};

const planOf = (value: unknown): DeviceClientPlan => {
  const parsed = parseDeviceClientDocument(value);
  if (!parsed.ok) throw new Error(`expected a plan, got: ${parsed.rejection.reason}`);
  return parsed.plan;
};

const issuesOf = (value: unknown): readonly string[] => {
  const parsed = parseDeviceClientDocument(value);
  if (parsed.ok) throw new Error(`expected a rejection, got ${JSON.stringify(parsed.plan)}`);
  return parsed.rejection.issues;
};

const handler = (fields: Partial<Extract<DeviceClientStep, { kind: 'handler' }>> & { name: string; handler: string }): DeviceClientStep => ({
  kind: 'handler',
  args: [],
  path: undefined,
  userArgument: true,
  runAsUser: '',
  ignoreStepFailure: false,
  allowStdErr: undefined,
  ...fields,
});

const step = (action: Record<string, unknown>): Record<string, unknown> => ({ version: '1.0', steps: [{ action }] });
const runHandler = (extra: Record<string, unknown> = {}, input: Record<string, unknown> = {}): Record<string, unknown> =>
  step({ name: 'a', type: 'runHandler', input: { handler: 'h.sh', ...input }, ...extra });

describe('parseDeviceClientDocument: the spec examples', () => {
  it.each(readdirSync(fixtures).filter((file) => file.endsWith('.json')))('parseDeviceClientDocument - fixture %s parses', (file) => {
    expect(parseDeviceClientDocument(fixture(file))).toMatchObject({ ok: true });
    expect(isDeviceClientDocument(fixture(file))).toBe(true);
  });

  it('parseDeviceClientDocument - the minimal document (spec §1.3) is a handler step then a command step', () => {
    expect(planOf(fixture('minimal.json'))).toStrictEqual({
      schema: '1.0',
      version: '1.0',
      includeStdOut: false,
      conditions: [],
      steps: [
        handler({ name: 'downloadJobHandler', handler: 'download-file.sh' }),
        { kind: 'command', name: 'displayDirectory', argv: ['ls', '/tmp'], runAsUser: '', ignoreStepFailure: false, allowStdErr: undefined },
      ],
      finalStep: undefined,
    });
  });

  it('parseDeviceClientDocument - a legacy document is one handler step without the $1 user argument (differs from Device Client)', () => {
    expect(planOf(fixture('legacy-install-packages.json'))).toStrictEqual({
      schema: 'legacy',
      version: '0.0',
      includeStdOut: false,
      conditions: [],
      steps: [handler({ name: 'install-packages.sh', handler: 'install-packages.sh', args: ['lftp', 'dos2unix'], path: 'default', allowStdErr: 2, userArgument: false })],
      finalStep: undefined,
    });
  });

  const handlerTemplates: [string, Record<string, string>, string, string, readonly string[]][] = [
    ['aws-download-file.json', { downloadUrl: 'https://example.com/f.bin', filePath: '/tmp/f.bin' }, 'Download-File', 'download-file.sh', ['https://example.com/f.bin', '/tmp/f.bin']],
    ['aws-install-application.json', { packages: 'lftp dos2unix' }, 'Install-Application', 'install-packages.sh', ['lftp dos2unix']],
    ['aws-reboot.json', {}, 'Reboot', 'reboot.sh', []],
    ['aws-remove-application.json', { packages: 'lftp' }, 'Remove-Application', 'remove-packages.sh', ['lftp']],
    ['aws-restart-application.json', { services: 'nginx cron' }, 'Restart-Application', 'restart-services.sh', ['nginx cron']],
    ['aws-start-application.json', { services: 'nginx' }, 'Start-Application', 'start-services.sh', ['nginx']],
    ['aws-stop-application.json', { services: 'nginx' }, 'Stop-Application', 'stop-services.sh', ['nginx']],
  ];

  it.each(handlerTemplates)('parseDeviceClientDocument - managed template %s runs its handler from the handler folder', (file, parameters, name, script, args) => {
    // pathToHandler and runAsUser omitted: path "" means "the handler folder" here (PATH lookup in Device Client).
    expect(planOf(fromTemplate(file, parameters)).steps).toStrictEqual([handler({ name, handler: script, args: [...args] })]);
  });

  it('parseDeviceClientDocument - managed template parameters pathToHandler and runAsUser are passed through', () => {
    const plan = planOf(fromTemplate('aws-reboot.json', { pathToHandler: 'default', runAsUser: 'root' }));
    expect(plan.steps).toStrictEqual([handler({ name: 'Reboot', handler: 'reboot.sh', path: 'default', runAsUser: 'root' })]);
  });

  it('parseDeviceClientDocument - AWS-Run-Command splits its command at unescaped commas', () => {
    const plan = planOf(fromTemplate('aws-run-command.json', { command: 'sh,-c,echo a\\, b > /tmp/out', runAsUser: 'pi' }));
    expect(plan.steps).toStrictEqual([
      { kind: 'command', name: 'Run-Command', argv: ['sh', '-c', 'echo a, b > /tmp/out'], runAsUser: 'pi', ignoreStepFailure: false, allowStdErr: undefined },
    ]);
  });

  it('parseDeviceClientDocument - AWS-Run-Command with "echo ok" (space, no comma) is rejected, as by Device Client', () => {
    expect(issuesOf(fromTemplate('aws-run-command.json', { command: 'echo ok' }))).toStrictEqual([
      'steps.0.action.input.command: the program "echo ok" contains whitespace; separate arguments with commas',
    ]);
  });

  it('parseDeviceClientDocument - the samples described in spec §5 (echo, run-shellcommand, reboot)', () => {
    expect(planOf(step({ name: 'echo', type: 'runHandler', input: { handler: 'echo', args: ['Hello IoT World!'] } })).steps).toStrictEqual([
      handler({ name: 'echo', handler: 'echo', args: ['Hello IoT World!'] }),
    ]);
    expect(planOf(step({ name: 'Create New Directory', type: 'runCommand', input: { command: 'mkdir,newDir' }, runAsUser: 'root' })).steps).toStrictEqual([
      { kind: 'command', name: 'Create New Directory', argv: ['mkdir', 'newDir'], runAsUser: 'root', ignoreStepFailure: false, allowStdErr: undefined },
    ]);
    expect(planOf(step({ name: 'Reboot', type: 'runHandler', input: { handler: 'reboot.sh' }, runAsUser: 'root' })).steps[0]).toMatchObject({ path: undefined });
  });
});

describe('parseDeviceClientDocument: fields', () => {
  it('parseDeviceClientDocument - includeStdOut "true" and finalStep are read', () => {
    const plan = planOf({
      version: '1.0',
      includeStdOut: 'true',
      steps: [{ action: { name: 'a', type: 'runHandler', input: { handler: 'a.sh' } } }],
      finalStep: { action: { name: 'f', type: 'runCommand', input: { command: 'true' } } },
    });
    expect(plan.includeStdOut).toBe(true);
    expect(plan.finalStep).toStrictEqual({ kind: 'command', name: 'f', argv: ['true'], runAsUser: '', ignoreStepFailure: false, allowStdErr: undefined });
  });

  it.each([
    ['the string "true"', 'true', true],
    ['a boolean true (differs: Device Client ignores it)', true, true],
    ['the string "false"', 'false', false],
    ['a boolean false', false, false],
  ])('parseDeviceClientDocument - flags read %s', (_label, flag, expected) => {
    expect(planOf({ ...runHandler({ ignoreStepFailure: flag }), includeStdOut: flag })).toMatchObject({ includeStdOut: expected, steps: [{ ignoreStepFailure: expected }] });
  });

  it('parseDeviceClientDocument - allowStdErr as an integer or a numeric string (differs: Device Client ignores strings)', () => {
    expect(planOf(runHandler({ allowStdErr: 8 })).steps[0]).toMatchObject({ allowStdErr: 8 });
    expect(planOf(runHandler({ allowStdErr: '8' })).steps[0]).toMatchObject({ allowStdErr: 8 });
  });

  it('parseDeviceClientDocument - input.path "" means no path, like an absent one', () => {
    expect(planOf(runHandler({}, { path: '' })).steps[0]).toMatchObject({ path: undefined });
    expect(planOf(runHandler({}, { path: '/opt/handlers' })).steps[0]).toMatchObject({ path: '/opt/handlers' });
  });

  it('parseDeviceClientDocument - unknown keys are ignored everywhere', () => {
    const plan = planOf({
      _comment: 'sample',
      version: '1.0',
      steps: [{ _note: 1, action: { name: 'a', type: 'runHandler', input: { handler: 'h.sh', extra: true }, future: 'x' } }],
    });
    expect(plan.steps).toStrictEqual([handler({ name: 'a', handler: 'h.sh' })]);
  });

  it('parseDeviceClientDocument - any non-empty version selects schema 1.0, as in Device Client', () => {
    expect(planOf({ ...runHandler(), version: '2.0' })).toMatchObject({ schema: '1.0', version: '2.0' });
  });

  it('parseDeviceClientDocument - an empty version with an operation is a legacy document, as in Device Client', () => {
    expect(planOf({ version: '', operation: 'x.sh' })).toMatchObject({ schema: 'legacy', steps: [{ handler: 'x.sh', args: [], path: undefined }] });
  });

  it('parseDeviceClientDocument - step objects without "action" are skipped and a finalStep without one is ignored, as in Device Client', () => {
    const plan = planOf({ version: '1.0', steps: [{ _comment: 'x' }, { action: { name: 'a', type: 'runHandler', input: { handler: 'h.sh' } } }], finalStep: {} });
    expect(plan.steps).toHaveLength(1);
    expect(plan.finalStep).toBeUndefined();
  });

  it('parseDeviceClientDocument - conditions are validated and kept, type defaulting to stringEqual (never evaluated)', () => {
    const plan = planOf({ ...runHandler(), conditions: [{ key: 'os', value: ['linux'] }, { key: 'arch', value: ['arm'], type: 'x' }] });
    expect(plan.conditions).toStrictEqual([
      { key: 'os', value: ['linux'], type: 'stringEqual' },
      { key: 'arch', value: ['arm'], type: 'x' },
    ]);
  });
});

describe('parseDeviceClientDocument: rejections', () => {
  it.each([
    ['null', null, '(root): the job document is not a JSON object'],
    ['an array', [], '(root): the job document is not a JSON object'],
    ['a string (an HTTPS jobDocument not parsed)', '{"version":"1.0"}', '(root): the job document is not a JSON object'],
    ['no version and no operation', { steps: [] }, '(root): no "version" string (schema 1.0) and no "operation" (legacy schema)'],
    ['a numeric version without operation', { version: 1 }, '(root): no "version" string (schema 1.0) and no "operation" (legacy schema)'],
    ['no steps', { version: '1.0' }, 'steps: expected list of steps, got nothing'],
    ['steps not a list', { version: '1.0', steps: {} }, 'steps: expected list of steps, got {}'],
    ['no step with an action', { version: '1.0', steps: [] }, 'steps: no step has an "action"; a job needs at least one'],
    ['a step that is not an object', { version: '1.0', steps: [3] }, 'steps.0: expected step ({ "action": … }), got 3'],
    ['an unknown action type', step({ name: 'a', type: 'runShell', input: {} }), 'steps.0.action.type: expected "runHandler" or "runCommand", got "runShell"'],
    ['a type in the wrong case', step({ name: 'a', type: 'RunHandler', input: {} }), 'steps.0.action.type: expected "runHandler" or "runCommand", got "RunHandler"'],
    ['a missing name', step({ type: 'runHandler', input: { handler: 'h' } }), 'steps.0.action.name: expected non-empty string, got nothing'],
    ['an empty name', step({ name: '', type: 'runHandler', input: { handler: 'h' } }), 'steps.0.action.name: expected non-empty string, got ""'],
    ['a missing input', step({ name: 'a', type: 'runHandler' }), 'steps.0.action.input: expected runHandler input, got nothing'],
    ['an empty handler', runHandler({}, { handler: '' }), 'steps.0.action.input.handler: expected non-empty string, got ""'],
    ['a non-string argument', runHandler({}, { args: ['a', 3] }), 'steps.0.action.input.args.1: expected string, got 3'],
    ['a non-string path', runHandler({}, { path: false }), 'steps.0.action.input.path: expected string, got false'],
    ['a command that is not a string', step({ name: 'a', type: 'runCommand', input: { command: ['ls'] } }), 'steps.0.action.input.command: expected comma-separated command string, got ["ls"]'],
    ['an empty command', step({ name: 'a', type: 'runCommand', input: { command: ',,,' } }), 'steps.0.action.input.command: the command is empty (nothing between the commas)'],
    ['ignoreStepFailure "yes" (differs: Device Client reads it as false)', runHandler({ ignoreStepFailure: 'yes' }), 'steps.0.action.ignoreStepFailure: expected "true" or "false", got "yes"'],
    ['a negative allowStdErr', runHandler({ allowStdErr: -1 }), 'steps.0.action.allowStdErr: expected a non-negative integer, got -1'],
    ['a numeric runAsUser (differs: Device Client reads it as "")', runHandler({ runAsUser: 0 }), 'steps.0.action.runAsUser: expected string, got 0'],
    ['a condition without key', { ...runHandler(), conditions: [{ value: ['a'] }] }, 'conditions.0.key: expected non-empty string, got nothing'],
    ['a condition with no values', { ...runHandler(), conditions: [{ key: 'k', value: [] }] }, 'conditions.0.value: expected non-empty list of strings, got []'],
    ['a bad finalStep', { ...runHandler(), finalStep: { action: { name: 'f', type: 'runCommand', input: {} } } }, 'finalStep.action.input.command: expected comma-separated command string, got nothing'],
    ['a legacy operation that is not a string', { operation: 42 }, 'operation: expected non-empty string, got 42'],
    ['an empty legacy operation', { operation: '' }, 'operation: expected non-empty string, got ""'],
    ['legacy args that are not a list', { operation: 'x.sh', args: 'a b' }, 'args: expected list of strings, got "a b"'],
  ])('parseDeviceClientDocument - rejects %s', (_label, value, line) => {
    expect(issuesOf(value)).toStrictEqual([line]);
  });

  it('parseDeviceClientDocument - lists every problem, and joins them into one reason line', () => {
    const parsed = parseDeviceClientDocument({
      version: '1.0',
      includeStdOut: 1,
      steps: [{ action: { name: '', type: 'runHandler', input: { handler: 'h' } } }, { action: { name: 'b', type: 'runCommand', input: { command: 'aws iot' } } }],
    });
    expect(parsed).toStrictEqual({
      ok: false,
      rejection: {
        issues: [
          'steps.0.action.name: expected non-empty string, got ""',
          'steps.1.action.input.command: the program "aws iot" contains whitespace; separate arguments with commas',
          'includeStdOut: expected "true" or "false", got 1',
        ],
        reason:
          'Invalid job document: steps.0.action.name: expected non-empty string, got ""; ' +
          'steps.1.action.input.command: the program "aws iot" contains whitespace; separate arguments with commas; ' +
          'includeStdOut: expected "true" or "false", got 1',
      },
    });
  });
});

describe('isDeviceClientDocument', () => {
  it.each([
    ['a schema 1.0 document', { version: '1.0', steps: [] }, true],
    ['a schema 1.0 document with broken steps (parse rejects it)', { version: '1.0', steps: 'x' }, true],
    ['a legacy document', { operation: 'install-packages.sh' }, true],
    ['a firmware document with a version but no steps', { version: '2.1.0', url: 'https://example.com/fw.bin' }, false],
    ['an empty version with steps', { version: '', steps: [] }, false],
    ['a numeric operation', { operation: 1 }, false],
    ['null', null, false],
    ['a string', 'operation', false],
    ['an array', [{ operation: 'x' }], false],
  ])('isDeviceClientDocument - %s', (_label, value, expected) => {
    expect(isDeviceClientDocument(value)).toBe(expected);
  });
});
