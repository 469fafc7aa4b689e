import { isRight } from 'fp-ts/lib/Either';
import {
  EpochSeconds,
  ExpectedVersion,
  JobId,
  JobIdOrNext,
  StatusDetails,
  StepTimeoutInMinutes,
  ThingName,
  UpdateStepTimeoutInMinutes,
  isJobId,
  isThingName,
  statusDetailsValueMaxLength,
} from '../../src/codecs/primitives';
import { assertFailure, assertSuccess, failureLines } from './helpers';

describe('ThingName', () => {
  it.each([
    ['a single character', 'a'],
    ['every allowed character class', 'Thing-A_1:b'],
    ['128 characters', 'x'.repeat(128)],
  ])('ThingName - accepts %s', (_label, name) => {
    assertSuccess(ThingName.decode(name), name);
    expect(isThingName(name)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['a slash (topic level separator)', 'a/b'],
    ['the single-level wildcard', 'thing+'],
    ['the multi-level wildcard', 'thing#'],
    ['a space', 'my thing'],
    ['a trailing newline', 'thing\n'],
    ['a non-ASCII letter', 'thingé'],
    ['an emoji', 'thing😀'],
    ['a dot', 'thing.1'],
  ])('ThingName - refuses %s', (_label, name) => {
    assertFailure(ThingName, name, [`(root): expected ThingName, got ${JSON.stringify(name)}`]);
    expect(isThingName(name)).toBe(false);
  });

  it('ThingName - refuses 129 characters, showing a shortened value', () => {
    assertFailure(ThingName, 'x'.repeat(129), [`(root): expected ThingName, got "${'x'.repeat(56)}...`]);
  });

  it('ThingName - refuses a non-string', () => {
    assertFailure(ThingName, 42, ['(root): expected ThingName, got 42']);
    expect(isThingName(undefined)).toBe(false);
  });
});

describe('JobId', () => {
  it.each([
    ['a single character', 'j'],
    ['digits, dash and underscore', '0023_job-A'],
    ['64 characters', 'j'.repeat(64)],
  ])('JobId - accepts %s', (_label, id) => {
    assertSuccess(JobId.decode(id), id);
    expect(isJobId(id)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['a colon (allowed in thing names only)', 'job:1'],
    ['a slash', 'a/b'],
    ['a wildcard', 'job+'],
    ['a space', 'job 1'],
    ['$next', '$next'],
  ])('JobId - refuses %s', (_label, id) => {
    assertFailure(JobId, id, [`(root): expected JobId, got ${JSON.stringify(id)}`]);
    expect(isJobId(id)).toBe(false);
  });

  it('JobId - refuses 65 characters, showing a shortened value', () => {
    assertFailure(JobId, 'j'.repeat(65), [`(root): expected JobId, got "${'j'.repeat(56)}...`]);
  });
});

describe('JobIdOrNext', () => {
  it('JobIdOrNext - accepts a job id and $next', () => {
    assertSuccess(JobIdOrNext.decode('job-1'), 'job-1');
    assertSuccess(JobIdOrNext.decode('$next'), '$next');
  });

  it('JobIdOrNext - refuses other $ words and invalid ids in one line', () => {
    assertFailure(JobIdOrNext, '$nex', ['(root): expected JobIdOrNext, got "$nex"']);
    assertFailure(JobIdOrNext, 'a/b', ['(root): expected JobIdOrNext, got "a/b"']);
    assertFailure(JobIdOrNext, '', ['(root): expected JobIdOrNext, got ""']);
  });
});

describe('EpochSeconds', () => {
  it('EpochSeconds - decodes integer seconds to the Date of that second', () => {
    const date = assertSuccess(EpochSeconds.decode(1719940994));
    expect(date).toBeInstanceOf(Date);
    expect(date.toISOString()).toBe('2024-07-02T17:23:14.000Z');
  });

  it('EpochSeconds - decodes fractional seconds to milliseconds', () => {
    expect(assertSuccess(EpochSeconds.decode(1567701875.743)).toISOString()).toBe('2019-09-05T16:44:35.743Z');
  });

  it('EpochSeconds - decodes 0 as the epoch', () => {
    expect(assertSuccess(EpochSeconds.decode(0)).getTime()).toBe(0);
  });

  it.each([
    ['a negative number', -1, '-1'],
    ['a numeric string', '1719940994', '"1719940994"'],
    ['null', null, 'null'],
    ['a boolean', true, 'true'],
  ])('EpochSeconds - refuses %s', (_label, value, shown) => {
    assertFailure(EpochSeconds, value, [`(root): expected EpochSeconds, got ${shown}`]);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('EpochSeconds - refuses %s', (_label, value) => {
    // Only the start of the line is pinned: report() shows NaN and Infinity as `null` (JSON.stringify).
    const lines = failureLines(EpochSeconds, value);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\(root\): expected EpochSeconds, got /);
  });

  it('EpochSeconds - encodes a Date as whole seconds, dropping milliseconds', () => {
    expect(EpochSeconds.encode(new Date(1719940994000))).toBe(1719940994);
    expect(EpochSeconds.encode(new Date(1567701875743))).toBe(1567701875);
  });

  it('EpochSeconds - round-trips MQTT integer seconds', () => {
    expect(EpochSeconds.encode(assertSuccess(EpochSeconds.decode(1719943388)))).toBe(1719943388);
  });

  it('EpochSeconds - is() accepts valid Dates only', () => {
    expect(EpochSeconds.is(new Date(0))).toBe(true);
    expect(EpochSeconds.is(new Date(Number.NaN))).toBe(false);
    expect(EpochSeconds.is(1719940994)).toBe(false);
  });
});

describe('ExpectedVersion', () => {
  it.each([
    ['a number', 3, 3],
    ['zero', 0, 0],
    ['a numeric string (AWS doc examples)', '1', 1],
    ['a multi-digit string', '42', 42],
  ])('ExpectedVersion - decodes %s to a number', (_label, value, expected) => {
    assertSuccess(ExpectedVersion.decode(value), expected);
  });

  it.each([
    ['a negative number', -1, '-1'],
    ['a fraction', 1.5, '1.5'],
    ['a negative string', '-1', '"-1"'],
    ['a non-numeric string', 'x1', '"x1"'],
    ['the empty string', '', '""'],
    ['a padded string', ' 1', '" 1"'],
    ['an exponent string', '1e3', '"1e3"'],
    ['an unsafe integer', 2 ** 53, String(2 ** 53)],
    ['null', null, 'null'],
  ])('ExpectedVersion - refuses %s', (_label, value, shown) => {
    assertFailure(ExpectedVersion, value, [`(root): expected ExpectedVersion, got ${shown}`]);
  });

  it('ExpectedVersion - encodes a number (never a string)', () => {
    expect(ExpectedVersion.encode(7)).toBe(7);
  });
});

describe('StatusDetails', () => {
  it('StatusDetails - accepts keys and values within the limits', () => {
    const details = {
      progress: '50%',
      'step:1_a-b': 'downloading https://example.com/fw.bin ✅',
      k: 'x'.repeat(statusDetailsValueMaxLength),
      ['k'.repeat(128)]: 'long key',
    };
    assertSuccess(StatusDetails.decode(details), details);
  });

  it('StatusDetails - accepts an empty map', () => {
    assertSuccess(StatusDetails.decode({}), {});
  });

  it('StatusDetails - value limit is 1024 characters', () => {
    expect(statusDetailsValueMaxLength).toBe(1024);
    const tooLong = 'x'.repeat(1025);
    assertFailure(StatusDetails, { log: tooLong }, [`log: expected StatusDetailsValue, got "${'x'.repeat(56)}...`]);
  });

  it.each([
    ['empty', '', '""'],
    ['a newline', 'line1\nline2', '"line1\\nline2"'],
    ['a NUL', 'a\u0000b', '"a\\u0000b"'],
    ['a tab', 'a\tb', '"a\\tb"'],
    ['a zero-width space (format character)', 'a\u200bb', '"a\\u200bb"'],
    ['a byte-order mark', '\ufeffa', '"\\ufeffa"'],
    ['a lone surrogate', 'a\ud800', '"a\\ud800"'],
  ])('StatusDetails - refuses a value with %s, shown escaped', (_label, value, shown) => {
    assertFailure(StatusDetails, { step: value }, [`step: expected StatusDetailsValue, got ${shown}`]);
  });

  it('StatusDetails - refuses a non-string value', () => {
    assertFailure(StatusDetails, { progress: 50 }, ['progress: expected StatusDetailsValue, got 50']);
  });

  it('StatusDetails - refuses a non-object', () => {
    assertFailure(StatusDetails, 'progress=50%', ['(root): expected StatusDetails, got "progress=50%"']);
  });

  // io-ts `t.record` drops keys that fail a refined key codec instead of failing; the service refuses such
  // keys, so the codec must refuse them too rather than send the map without them.
  it.each([
    ['a space', 'bad key'],
    ['the empty string', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a slash', 'a/b'],
  ])('StatusDetails - refuses a key with %s', (_label, key) => {
    const result = StatusDetails.decode({ [key]: 'x', ok: 'y' });
    expect(isRight(result) ? result.right : 'refused').toBe('refused');
  });
});

describe('StepTimeoutInMinutes', () => {
  it.each([1, 10, 10_080])('StepTimeoutInMinutes - accepts %d', (minutes) => {
    assertSuccess(StepTimeoutInMinutes.decode(minutes), minutes);
  });

  it.each([0, -1, 10_081, 1.5])('StepTimeoutInMinutes - refuses %d', (minutes) => {
    assertFailure(StepTimeoutInMinutes, minutes, [`(root): expected StepTimeoutInMinutes, got ${minutes}`]);
  });

  it('StepTimeoutInMinutes - refuses a numeric string', () => {
    assertFailure(StepTimeoutInMinutes, '10', ['(root): expected StepTimeoutInMinutes, got "10"']);
  });
});

describe('UpdateStepTimeoutInMinutes', () => {
  it.each([-1, 1, 10_080])('UpdateStepTimeoutInMinutes - accepts %d', (minutes) => {
    assertSuccess(UpdateStepTimeoutInMinutes.decode(minutes), minutes);
  });

  it.each([0, -2, 10_081, 1.5])('UpdateStepTimeoutInMinutes - refuses %d in one line', (minutes) => {
    assertFailure(UpdateStepTimeoutInMinutes, minutes, [`(root): expected UpdateStepTimeoutInMinutes, got ${minutes}`]);
  });
});
