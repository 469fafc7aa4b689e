import * as t from 'io-ts';
import { onePass } from '../../src/codecs/one-pass';
import { EpochSeconds, Long, StatusDetailsMap } from '../../src/codecs/primitives';
import { JobExecutionStatus } from '../../src/codecs/job-execution';
import { report } from '../../src/codecs/decode';
import { withDefault } from '../../src/codecs/responses';

// A reply-shaped codec with every kind of property onePass treats differently: primitive and keyof (checked
// with `is`), a refinement (Long), a converting codec (EpochSeconds), a record and a nested struct (decoded).
const make = () =>
  t.intersection(
    [
      t.type({ jobId: t.string, status: JobExecutionStatus }),
      t.partial({
        queuedAt: EpochSeconds,
        versionNumber: Long,
        statusDetails: StatusDetailsMap,
        done: t.boolean,
        kind: t.literal('job'),
        document: t.unknown,
        nested: t.intersection([t.type({ at: EpochSeconds }), t.partial({ note: t.string })]),
      }),
    ],
    'Execution',
  );
const plain = make();
const fast = onePass(make());

const inputs: unknown[] = [
  { jobId: 'j', status: 'QUEUED' },
  { jobId: 'j', status: 'QUEUED', queuedAt: 1719940994, versionNumber: 2, statusDetails: { a: 'b' }, done: true, kind: 'job', document: { x: [1] } },
  { jobId: 'j', status: 'QUEUED', nested: { at: 5, note: 'n' }, extra: 'kept' },
  { jobId: 'j', status: 'QUEUED', queuedAt: undefined, versionNumber: undefined },
  // Invalid, each in one property, then in several.
  { jobId: 1, status: 'QUEUED' },
  { jobId: 'j', status: 'DONE' },
  { jobId: 'j', status: 'QUEUED', queuedAt: -1 },
  { jobId: 'j', status: 'QUEUED', versionNumber: 1.5 },
  { jobId: 'j', status: 'QUEUED', statusDetails: { a: 1 } },
  { jobId: 'j', status: 'QUEUED', kind: 'other' },
  { jobId: 'j', status: 'QUEUED', nested: { note: 'n' } },
  { status: 'QUEUED', queuedAt: 'yesterday', nested: 3 },
  {},
  null,
  'execution',
  [],
];

describe('onePass', () => {
  it.each(inputs.map((input) => [JSON.stringify(input), input]))('decodes %s as the io-ts intersection does', (_, input) => {
    const expected = plain.decode(input);
    const actual = fast.decode(input);
    expect(actual._tag).toBe(expected._tag);
    if (actual._tag === 'Right' && expected._tag === 'Right') expect(actual.right).toEqual(expected.right);
    if (actual._tag === 'Left' && expected._tag === 'Left') expect(report(actual.left)).toEqual(report(expected.left));
  });

  it('keeps the input object when no property decodes to a new value, and copies it when one does', () => {
    const input = { jobId: 'j', status: 'QUEUED', versionNumber: 1 };
    const same = fast.decode(input);
    expect(same._tag === 'Right' && same.right).toBe(input);
    const dated = { jobId: 'j', status: 'QUEUED', queuedAt: 10 };
    const copied = fast.decode(dated);
    expect(copied._tag === 'Right' && copied.right).not.toBe(dated);
    expect(copied._tag === 'Right' && copied.right.queuedAt).toEqual(new Date(10_000));
    expect(dated.queuedAt).toBe(10);
  });

  it("goes to io-ts's own decode for a caller's codec whose `is` disagrees with its decode", () => {
    // Decodes any string to upper case, but `is` accepts only upper case: onePass cannot check it with `is`.
    const Upper = new t.Type<string, string, unknown>(
      'Upper',
      (u): u is string => typeof u === 'string' && u === u.toUpperCase(),
      (u, c) => (typeof u === 'string' ? t.success(u.toUpperCase()) : t.failure(u, c)),
      (s) => s,
    );
    // And one whose `is` refuses even what it decodes: the check that types the value sends it to io-ts.
    const Never = new t.Type<string, string, unknown>('Never', (u): u is string => u === Symbol.for('never'), (u, c) => (typeof u === 'string' ? t.success(u) : t.failure(u, c)), (s) => s);
    const codec = (doc: t.Mixed) => t.intersection([t.type({ jobId: t.string }), t.partial({ doc })]);
    for (const doc of [Upper, Never]) {
      const input = { jobId: 'j', doc: 'abc' };
      expect(onePass(codec(doc)).decode(input)).toEqual(codec(doc).decode(input));
    }
    expect(onePass(codec(Upper)).decode({ jobId: 'j', doc: 'abc' })).toEqual(t.success({ jobId: 'j', doc: 'ABC' }));
  });

  it('decodes an absent optional property whose codec makes a value of nothing (a default, an Option), as t.partial does', () => {
    const none = { _tag: 'None' };
    const OptionalDoc = new t.Type<unknown, unknown, unknown>(
      'OptionalDoc',
      (u): u is unknown => u === u,
      (u) => t.success(u === undefined || u === null ? none : { _tag: 'Some', value: u }),
      (a) => a,
    );
    const Throws = new t.Type<string, string, unknown>('Throws', (u): u is string => typeof u === 'string', (u, c) => (String(u).length > 0 ? t.success(String(u)) : t.failure(u, c)), (s) => s);
    const codec = () => t.intersection([t.type({ jobId: t.string }), t.partial({ doc: OptionalDoc, list: withDefault(t.array(t.string), () => []), text: Throws })]);
    for (const input of [{ jobId: 'j' }, { jobId: 'j', doc: undefined }, { jobId: 'j', doc: 5, list: ['a'] }]) {
      expect(onePass(codec()).decode(input)).toEqual(codec().decode(input));
    }
    expect(onePass(codec()).decode({ jobId: 'j' })).toEqual(t.success({ jobId: 'j', doc: none, list: [], text: 'undefined' }));
  });

  it('keeps the codec io-ts made: name, is, encode and members', () => {
    const original = make();
    const wrapped = onePass(original);
    expect(wrapped).toBeInstanceOf(t.IntersectionType);
    expect(wrapped.name).toBe('Execution');
    expect(wrapped.types).toBe(original.types);
    const decoded = wrapped.decode({ jobId: 'j', status: 'QUEUED', queuedAt: 10 });
    if (decoded._tag === 'Left') throw new Error('expected a value');
    expect(wrapped.is(decoded.right)).toBe(true);
    expect(wrapped.encode(decoded.right)).toEqual({ jobId: 'j', status: 'QUEUED', queuedAt: 10 });
  });
});
