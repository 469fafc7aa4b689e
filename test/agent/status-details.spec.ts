import { isRight } from 'fp-ts/lib/Either.js';
import { StatusDetails } from '../../src/codecs/primitives';
import { createStatusDetailsEncoder, encodeStatusDetails, type StatusDetailsOptions } from '../../src/agent/status-details';
import { seeded, type Random } from './random';

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('encodeStatusDetails', () => {
  it('status details - valid input passes through unchanged', () => {
    const result = encodeStatusDetails({ step: 'download', progress: '50%', 'a:b_c-D9': 'x' });
    expect(result).toEqual({ details: { step: 'download', progress: '50%', 'a:b_c-D9': 'x' }, renamed: [], truncated: [], dropped: [] });
  });

  it('status details - values are stringified; undefined, functions and symbols are dropped', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular['self'] = circular;
    const { details, dropped } = encodeStatusDetails({
      n: 42,
      f: -0.5,
      nan: Number.NaN,
      yes: true,
      big: 10n,
      nothing: null,
      when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      bad: new Date(Number.NaN),
      err: new TypeError('boom'),
      obj: { a: [1, 'x'] },
      circular,
      noJson: { toJSON: () => undefined },
      u: undefined,
      fn: () => 1,
      sym: Symbol('s'),
    });
    expect(details).toEqual({
      n: '42',
      f: '-0.5',
      nan: 'NaN',
      yes: 'true',
      big: '10',
      nothing: 'null',
      when: '2026-01-02T03:04:05.000Z',
      bad: 'Invalid Date',
      err: 'TypeError: boom',
      obj: '{"a":[1,"x"]}',
      circular: '[unserializable]',
    });
    expect(dropped).toEqual([
      { key: 'noJson', reason: 'unsupported-value' },
      { key: 'u', reason: 'unsupported-value' },
      { key: 'fn', reason: 'unsupported-value' },
      { key: 'sym', reason: 'unsupported-value' },
    ]);
  });

  it('status details - control and format characters are replaced, line breaks kept visible', () => {
    const { details } = encodeStatusDetails({ v: 'a\r\nb\nc\rd\te\u0000f\u200bg\ufeffh\ud800i\u0085j😀k\ue000l\u{F0000}m\u2028n' });
    expect(details['v']).toBe('a⏎b⏎c⏎d e\uFFFDf\uFFFDg\uFFFDh\uFFFDi⏎j😀k\uFFFDl\uFFFDm\u2028n');
    const custom = encodeStatusDetails({ v: 'a\nb\tc\u0001' }, { lineBreak: ' | ', tab: '→', replacement: '?' });
    expect(custom.details['v']).toBe('a | b→c?');
  });

  it('status details - a long value keeps its head with a marker at the end', () => {
    const { details, truncated } = encodeStatusDetails({ reason: `${'a'.repeat(1500)}END` });
    expect(details['reason']).toHaveLength(1024);
    expect(details['reason']).toBe(`${'a'.repeat(1021)}[…]`);
    expect(truncated).toEqual(['reason']);
  });

  it('status details - output-like keys keep their tail with a marker at the start', () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n');
    const tails = ['stdout', 'stepStderr', 'install_log', 'STDERR', 'step-1:output', 'stdoutTail'];
    const { details, truncated } = encodeStatusDetails({ ...Object.fromEntries(tails.map((key) => [key, text])), catalog: text, stdoutBytes: text });
    for (const key of tails) {
      expect([key, details[key]?.startsWith('[…]'), details[key]?.endsWith('line 398⏎line 399')]).toEqual([key, true, true]);
      expect(details[key]).toHaveLength(1024);
    }
    expect(details['catalog']?.startsWith('line 0⏎line 1')).toBe(true);
    expect(details['stdoutBytes']?.endsWith('[…]')).toBe(true);
    expect(truncated).toEqual([...tails, 'catalog', 'stdoutBytes']);
  });

  it('status details - which end is kept is configurable per key, by record or function', () => {
    const text = `HEAD${'x'.repeat(2000)}TAIL`;
    const byRecord = encodeStatusDetails({ stdout: text, other: text }, { keep: { stdout: 'head', other: 'tail' }, maxValueLength: 100 });
    expect(byRecord.details['stdout']).toMatch(/^HEAD.*\[…\]$/u);
    expect(byRecord.details['other']).toMatch(/^\[…\].*TAIL$/u);
    const byFunction = encodeStatusDetails({ a: text, b: text }, { keep: (key) => (key === 'a' ? 'tail' : 'head'), truncationMarker: '<cut>', maxValueLength: 50 });
    expect(byFunction.details).toEqual({ a: `<cut>${'x'.repeat(41)}TAIL`, b: `HEAD${'x'.repeat(41)}<cut>` });
    // a key named like an Object.prototype member is not looked up on the prototype
    expect(encodeStatusDetails({ constructor: text }, { keep: {}, maxValueLength: 20 }).details['constructor']).toBe(`HEAD${'x'.repeat(13)}[…]`);
  });

  it('status details - a cut never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(600); // 1200 code units
    const head = encodeStatusDetails({ v: emoji }).details['v'] ?? '';
    const tail = encodeStatusDetails({ stdout: `x${emoji}` }).details['stdout'] ?? '';
    for (const value of [head, tail]) {
      expect(value.length).toBeLessThanOrEqual(1024);
      expect(value.replace(/[…[\]]/gu, '')).toMatch(/^(?:😀)+$/u);
    }
    expect(head).toHaveLength(1020 + 3);
    expect(isRight(StatusDetails.decode({ v: head, stdout: tail }))).toBe(true);
  });

  it('status details - bad keys are rewritten and reported; a valid key wins a collision', () => {
    const long = 'k'.repeat(200);
    const { details, renamed, dropped } = encodeStatusDetails({ 'my key': 'renamed', 'my.key': 'collides', my_key: 'valid', [long]: 'long', 'ключ': 'cyrillic', '': 'empty key' });
    expect(details).toEqual({ my_key: 'valid', ['k'.repeat(128)]: 'long', ____: 'cyrillic' });
    expect(renamed).toEqual([
      { from: long, to: 'k'.repeat(128) },
      { from: 'ключ', to: '____' },
    ]);
    expect(dropped).toEqual([
      { key: 'my key', reason: 'duplicate-key' },
      { key: 'my.key', reason: 'duplicate-key' },
      { key: '', reason: 'invalid-key' },
    ]);
  });

  it('status details - an astral character in a key becomes one underscore', () => {
    expect(encodeStatusDetails({ 'a😀b': 'v' }).details).toEqual({ a_b: 'v' });
  });

  it('status details - __proto__ is dropped as an invalid key (the StatusDetails codec refuses it), and reported', () => {
    const input: unknown = JSON.parse('{"__proto__":"p","x":"y"}');
    if (typeof input !== 'object' || input === null) throw new Error('not an object');
    const { details, dropped } = encodeStatusDetails(Object.fromEntries(Object.entries(input)));
    expect(Object.keys(details)).toEqual(['x']);
    expect(Object.getPrototypeOf(details)).toBe(Object.prototype);
    expect(dropped).toEqual([{ key: '__proto__', reason: 'invalid-key' }]);
  });

  it('status details - empty values are dropped, or replaced when asked', () => {
    expect(encodeStatusDetails({ a: '', b: 'x' })).toEqual({ details: { b: 'x' }, renamed: [], truncated: [], dropped: [{ key: 'a', reason: 'empty-value' }] });
    expect(encodeStatusDetails({ a: '', b: 'x' }, { emptyValue: '(empty)' }).details).toEqual({ a: '(empty)', b: 'x' });
  });

  it('status details - the reserved dropped-list key is never taken from the input', () => {
    expect(encodeStatusDetails({ droppedDetails: 'mine', a: 'x' }).dropped).toEqual([{ key: 'droppedDetails', reason: 'reserved-key' }]);
  });

  it('status details - entries over the size budget are dropped from the end and listed', () => {
    const input = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`key${i}`, 'v'.repeat(1000)]));
    const { details, dropped } = encodeStatusDetails(input);
    expect(jsonBytes(details)).toBeLessThanOrEqual(32_768);
    const keptKeys = Object.keys(details).filter((key) => key !== 'droppedDetails');
    expect(keptKeys).toEqual(Array.from({ length: keptKeys.length }, (_, i) => `key${i}`));
    expect(keptKeys.length).toBeGreaterThan(25);
    expect(dropped.every(({ reason }) => reason === 'budget')).toBe(true);
    expect(dropped).toHaveLength(60 - keptKeys.length);
    expect(details['droppedDetails']).toBe(`${dropped.length} dropped: ${dropped.map(({ key }) => key).join(' ')}`);
  });

  it('status details - priority keys are kept first under a tight budget', () => {
    const input = { a: 'x'.repeat(100), b: 'y'.repeat(100), reason: 'disk full', step: 'install' };
    const { details, dropped } = encodeStatusDetails(input, { maxTotalBytes: 200, maxValueLength: 100, priorityKeys: ['reason', 'step'] });
    expect(Object.keys(details)).toEqual(['reason', 'step', 'droppedDetails']);
    expect(details['droppedDetails']).toBe('2 dropped: a b');
    expect(dropped).toEqual([
      { key: 'a', reason: 'budget' },
      { key: 'b', reason: 'budget' },
    ]);
  });

  it('status details - a long dropped list is itself cut to the value limit', () => {
    const input = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`a-rather-long-key-name-${i}`, 'v'.repeat(100)]));
    const { details } = encodeStatusDetails(input, { maxTotalBytes: 4000, maxValueLength: 200 });
    expect(details['droppedDetails']).toHaveLength(200);
    expect(details['droppedDetails']?.endsWith('...')).toBe(true);
    expect(jsonBytes(details)).toBeLessThanOrEqual(4000);
  });

  it('status details - a huge value is cut quickly to its tail', () => {
    const huge = `${'x'.repeat(5_000_000)}\nlast line`;
    const started = Date.now();
    const { details } = encodeStatusDetails({ stderr: huge });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(details['stderr']?.endsWith('x⏎last line')).toBe(true);
    expect(details['stderr']).toHaveLength(1024);
  });

  it('status details - options out of range are refused', () => {
    const bad: StatusDetailsOptions[] = [
      { maxValueLength: 1025 },
      { maxValueLength: 15 },
      { maxValueLength: 20.5 },
      { maxValueLength: 16, truncationMarker: 'x'.repeat(16) },
      { maxTotalBytes: 1000 },
      { truncationMarker: '' },
      { lineBreak: '\n' },
      { replacement: '\u0000' },
      { emptyValue: '' },
      { droppedKey: 'bad key' },
    ];
    for (const options of bad) expect(() => createStatusDetailsEncoder(options)).toThrow(RangeError);
  });
});

const alphabet = [
  'a', 'Z', '7', ':', '_', '-', ' ', '"', '\\', '/', '.', 'é', 'ß', '中', '😀', '\u{1F3F3}\u{FE0F}',
  '\n', '\r\n', '\r', '\t', '\u0000', '\u001f', '\u007f', '\u0085', '\u00ad', '\u200b', '\u200e', '\u2028', '\ufeff',
  '\ud800', '\udfff', '\ue000', '\u{F0000}', '\u0378', '\uFFFF',
];

const randomText = (random: Random, maxLength: number): string => {
  const length = random.chance(0.05) ? random.int(1000, 5000) : random.int(0, maxLength);
  let text = '';
  for (let i = 0; i < length; i++) text += random.chance(0.6) ? random.pick(alphabet.slice(0, 5)) : random.pick(alphabet);
  return text;
};

const randomKey = (random: Random): string => {
  if (random.chance(0.05)) return random.pick(['', '__proto__', 'constructor', 'droppedDetails', 'stdout', 'k'.repeat(130)]);
  return random.chance(0.7) ? randomText(random, 12).replace(/[^a-zA-Z0-9:_-]/gu, '') || 'k' : randomText(random, 12);
};

const randomValue = (random: Random, depth = 0): unknown => {
  switch (random.int(0, 12)) {
    case 0: return random.pick([0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]);
    case 1: return random.chance(0.5);
    case 2: return random.pick([() => null, () => undefined, () => Symbol('s'), () => () => 0, () => 5n])();
    case 3: return random.pick([new Date(random.int(0, 2 ** 40)), new Date(Number.NaN), new Error(randomText(random, 20))]);
    case 4: return depth > 2 ? 'deep' : Object.fromEntries(Array.from({ length: random.int(0, 4) }, () => [randomKey(random), randomValue(random, depth + 1)]));
    case 5: return depth > 2 ? [] : Array.from({ length: random.int(0, 4) }, () => randomValue(random, depth + 1));
    default: return randomText(random, random.chance(0.2) ? 1100 : 40);
  }
};

const randomOptions = (random: Random): StatusDetailsOptions => {
  const maxValueLength = random.chance(0.5) ? 1024 : random.int(16, 1024);
  const minTotal = 2 + JSON.stringify('droppedDetails').length + 1 + maxValueLength + 3;
  return {
    maxValueLength,
    ...(random.chance(0.6) ? { maxTotalBytes: random.int(minTotal, minTotal + 6000) } : {}),
    ...(random.chance(0.3) ? { emptyValue: '-' } : {}),
    ...(random.chance(0.3) ? { priorityKeys: ['stdout', 'k', 'a'] } : {}),
    ...(random.chance(0.3) ? { keep: (key: string) => (key.length % 2 === 0 ? 'head' : 'tail') } : {}),
    ...(random.chance(0.2) ? { truncationMarker: '…', lineBreak: '\\n', replacement: '?' } : {}),
  };
};

describe('encodeStatusDetails properties', () => {
  it('status details - any input encodes to a map the StatusDetails codec accepts, within budget, every key accounted for', () => {
    const random = seeded(20_260_501);
    const failures: { run: number; problems: string[]; keys: string[] }[] = [];
    for (let run = 0; run < 1500; run++) {
      const options = randomOptions(random);
      const input = Object.fromEntries(Array.from({ length: random.chance(0.05) ? random.int(40, 120) : random.int(0, 12) }, () => [randomKey(random), randomValue(random)]));
      const encode = createStatusDetailsEncoder(options);
      const result = encode(input);
      const problems: string[] = [];
      if (!isRight(StatusDetails.decode(result.details))) problems.push('does not decode');
      if (jsonBytes(result.details) > (options.maxTotalBytes ?? 32_768)) problems.push('over the byte budget');
      if (Object.values(result.details).some((value) => value.length > (options.maxValueLength ?? 1024))) problems.push('value too long');
      const renamedTo = new Map(result.renamed.map(({ from, to }) => [from, to]));
      const droppedKeys = result.dropped.map(({ key }) => key);
      if (new Set(droppedKeys).size !== droppedKeys.length) problems.push('a key dropped twice');
      for (const key of Object.keys(input)) {
        const sent = renamedTo.get(key) ?? key;
        const inDetails = Object.hasOwn(result.details, sent) && sent !== 'droppedDetails';
        if (inDetails === droppedKeys.includes(key)) problems.push(`key ${JSON.stringify(key)} not accounted for exactly once`);
      }
      if (Object.hasOwn(result.details, 'droppedDetails') !== result.dropped.some(({ reason }) => reason === 'budget')) problems.push('dropped list mismatch');
      if (JSON.stringify(encode(input)) !== JSON.stringify(result)) problems.push('not deterministic');
      // Without a dropped list, encoding what was sent changes nothing: the output is a fixed point.
      if (!Object.hasOwn(result.details, 'droppedDetails') && JSON.stringify(encode(result.details).details) !== JSON.stringify(result.details)) problems.push('not a fixed point');
      if (problems.length > 0) failures.push({ run, problems, keys: Object.keys(input) });
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
