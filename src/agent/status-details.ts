import { protoKey } from '../codecs/decode';
import { type StatusDetails, statusDetailsValueMaxLength } from '../codecs/primitives';

/**
 * The statusDetails budget encoder: turns whatever a handler reports into a map the service accepts
 * (../shared/spec/jobs-api.md §4.1: keys 1–128 of `[a-zA-Z0-9:_-]`, values 1–1024 characters without
 * `\p{C}`), and says what it had to change. Lengths are counted in UTF-16 code units, which is never more
 * than the code points the service counts, and a cut never splits a surrogate pair.
 * Caveat: `\p{C}` includes unassigned code points, judged by Node's Unicode tables; a character assigned
 * in a newer Unicode than the service's could still be refused.
 */

/** Which end of a too-long value to keep. */
export type KeepEnd = 'head' | 'tail';

/** Options of {@link createStatusDetailsEncoder}; every field is optional. */
export interface StatusDetailsOptions {
  /** Longest value in UTF-16 code units, 16–1024. Default 1024 (the service's limit). */
  readonly maxValueLength?: number;
  /** Largest serialized map, in UTF-8 bytes of its JSON. Default 32768 (32 KiB). */
  readonly maxTotalBytes?: number;
  /**
   * Which end of a too-long value to keep, by (sanitised) key. Default: the tail for keys whose last word
   * (camelCase, `_`, `-` or `:` separated) is `stdout`, `stderr`, `output`, `log`, `logs` or `tail`, as in
   * `stderr`, `stepStdout`, `install_log`; the head for the others.
   */
  readonly keep?: Readonly<Record<string, KeepEnd>> | ((key: string) => KeepEnd);
  /** Put where a value was cut: at the end when the head is kept, at the start when the tail is. Default `[…]`. */
  readonly truncationMarker?: string;
  /** Replaces `\r\n`, `\r`, `\n` and NEL. Default `⏎`. */
  readonly lineBreak?: string;
  /** Replaces a tab. Default one space. */
  readonly tab?: string;
  /** Replaces any other control, format, private-use, unassigned or lone surrogate character. Default `\uFFFD`. */
  readonly replacement?: string;
  /** Replaces an empty value. Default: empty values are dropped. */
  readonly emptyValue?: string;
  /** Key of the entry listing the entries dropped for the size budget; reserved. Default `droppedDetails`. */
  readonly droppedKey?: string;
  /** Keys placed first, in this order, so they are the last dropped for the budget. Default none. */
  readonly priorityKeys?: readonly string[];
}

/** Why an input entry is not in the result. */
export type DroppedReason = 'invalid-key' | 'duplicate-key' | 'reserved-key' | 'empty-value' | 'unsupported-value' | 'budget';

/** The encoded map and what the encoder changed to make it acceptable. */
export interface EncodedStatusDetails {
  /** The map to send; always decodes with the `StatusDetails` codec and fits the size budget. */
  readonly details: StatusDetails;
  /** Keys rewritten to the allowed characters (or shortened to 128). */
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
  /** Keys (as sent) whose value was cut. */
  readonly truncated: readonly string[];
  /** Input keys left out, with the reason. */
  readonly dropped: readonly { readonly key: string; readonly reason: DroppedReason }[];
}

/** Encodes one input map; see {@link createStatusDetailsEncoder}. */
export type StatusDetailsEncoder = (input: Readonly<Record<string, unknown>>) => EncodedStatusDetails;

const keyPattern = /^[a-zA-Z0-9:_-]{1,128}$/;
const keyMaxLength = 128;
const outputWords = new Set(['stdout', 'stderr', 'output', 'log', 'logs', 'tail']);
const lastWordOf = (key: string): string => (key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[ _:-]+/).at(-1) ?? '').toLowerCase();
const controls = /\r\n|[\r\n\u0085]|\t|\p{C}/gu;
const asciiEllipsis = '...';

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** The first `n` code units of `s`, one less if that would split a surrogate pair. */
const headOf = (s: string, n: number): string => s.slice(0, n > 0 && isHighSurrogate(s.charCodeAt(n - 1)) ? n - 1 : n);

/** The last `n` code units of `s`, one less if that would split a surrogate pair. */
const tailOf = (s: string, n: number): string => {
  const start = Math.max(0, s.length - n);
  return s.slice(start < s.length && isLowSurrogate(s.charCodeAt(start)) ? start + 1 : start);
};

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const entryBytes = (key: string, value: string): number => utf8Bytes(JSON.stringify(key)) + 1 + utf8Bytes(JSON.stringify(value));

/** A value as text; `undefined` for values JSON leaves out too (undefined, functions, symbols). */
const textOf = (value: unknown): string | undefined => {
  try {
    switch (typeof value) {
      case 'string':
        return value;
      case 'number':
      case 'boolean':
      case 'bigint':
        return String(value);
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
      default:
        if (value === null) return 'null';
        if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
        if (value instanceof Error) return `${value.name}: ${value.message}`;
        {
          // JSON.stringify gives undefined when a toJSON() does, whatever its declared type says.
          const json: string | undefined = JSON.stringify(value);
          return json;
        }
    }
  } catch {
    return '[unserializable]'; // circular, BigInt inside, a throwing getter or toJSON
  }
};

const checkText = (name: string, value: string, maxLength: number): string => {
  if (value.length === 0 || value.length > maxLength || /\p{C}/u.test(value)) {
    throw new RangeError(`statusDetails option ${name} must be 1-${maxLength} characters without control or format characters`);
  }
  return value;
};

/**
 * Makes an encoder for `statusDetails` (options are checked once, here). Each call: stringifies values
 * (strings as they are, numbers/booleans/bigints with `String`, `null` as `null`, dates as ISO text,
 * errors as `name: message`, other objects as JSON); drops `undefined`, functions and symbols; rewrites keys
 * to the allowed characters (a valid key wins over a rewritten one that collides); replaces control
 * characters; cuts long values with a visible marker; drops or replaces empty values; and drops entries
 * from the end (after `priorityKeys`) until the JSON fits `maxTotalBytes`, adding a `droppedKey` entry that
 * lists them. Errors: throws `RangeError` for options out of range (a programming error).
 */
export const createStatusDetailsEncoder = (options: StatusDetailsOptions = {}): StatusDetailsEncoder => {
  const marker = checkText('truncationMarker', options.truncationMarker ?? '[…]', 16);
  const lineBreak = checkText('lineBreak', options.lineBreak ?? '⏎', 16);
  const tab = checkText('tab', options.tab ?? ' ', 16);
  const replacement = checkText('replacement', options.replacement ?? '\uFFFD', 16);
  const emptyValue = options.emptyValue === undefined ? undefined : checkText('emptyValue', options.emptyValue, 64);
  const maxValueLength = options.maxValueLength ?? statusDetailsValueMaxLength;
  if (!Number.isInteger(maxValueLength) || maxValueLength < 16 || maxValueLength > statusDetailsValueMaxLength || maxValueLength <= marker.length) {
    throw new RangeError(`statusDetails option maxValueLength must be an integer from 16 to ${statusDetailsValueMaxLength}, longer than the marker`);
  }
  const droppedKey = options.droppedKey ?? 'droppedDetails';
  if (!keyPattern.test(droppedKey)) throw new RangeError('statusDetails option droppedKey must be 1-128 of [a-zA-Z0-9:_-]');
  // The dropped-list value is ASCII (keys, digits, spaces, "..."), so its JSON bytes equal its length + 2.
  const markerReserve = utf8Bytes(JSON.stringify(droppedKey)) + 1 + maxValueLength + 2 + 1;
  const maxTotalBytes = options.maxTotalBytes ?? 32_768;
  if (!Number.isInteger(maxTotalBytes) || maxTotalBytes < 2 + markerReserve) {
    throw new RangeError(`statusDetails option maxTotalBytes must be an integer of at least ${2 + markerReserve}`);
  }
  const keepOption = options.keep;
  const keepOf = (key: string): KeepEnd => {
    if (typeof keepOption === 'function') return keepOption(key);
    if (keepOption !== undefined && Object.hasOwn(keepOption, key)) return keepOption[key] ?? 'head';
    return outputWords.has(lastWordOf(key)) ? 'tail' : 'head';
  };
  const priority = options.priorityKeys ?? [];

  const sanitise = (text: string): string =>
    text.replace(controls, (ch) => (ch === '\t' ? tab : ch === '\r\n' || ch === '\r' || ch === '\n' || ch === '\u0085' ? lineBreak : replacement));

  /** The value within limits, and whether it was cut. */
  const fit = (raw: string, keep: KeepEnd): { value: string; cut: boolean } => {
    // Replacements are at least one unit for at most two, so a piece twice the limit still overflows it:
    // cutting huge output first keeps the work bounded without changing the result.
    const bound = 2 * maxValueLength + 2;
    const piece = raw.length <= 2 * bound ? raw : keep === 'head' ? raw.slice(0, bound) : raw.slice(-bound);
    const clean = sanitise(piece);
    if (clean.length <= maxValueLength) return { value: clean, cut: false };
    const room = maxValueLength - marker.length;
    return { value: keep === 'head' ? headOf(clean, room) + marker : marker + tailOf(clean, room), cut: true };
  };

  return (input) => {
    const renamed: { from: string; to: string }[] = [];
    const truncated: string[] = [];
    const dropped: { key: string; reason: DroppedReason }[] = [];
    const entries = Object.entries(input).map(([raw, value]) => ({ raw, key: raw.replace(/[^a-zA-Z0-9:_-]/gu, '_').slice(0, keyMaxLength), value }));
    const claimed = new Set(entries.filter((entry) => entry.key === entry.raw).map((entry) => entry.key));
    const kept: { raw: string; key: string; value: string; bytes: number }[] = [];
    for (const { raw, key, value } of entries) {
      const reason = ((): DroppedReason | undefined => {
        // "__proto__" is refused by the StatusDetails codec (a reply echoing it could not be decoded).
        if (key.length === 0 || key === protoKey) return 'invalid-key';
        if (key === droppedKey) return 'reserved-key';
        if (key !== raw && claimed.has(key)) return 'duplicate-key';
        return undefined;
      })();
      if (reason !== undefined) {
        dropped.push({ key: raw, reason });
        continue;
      }
      claimed.add(key);
      const text = textOf(value);
      if (text === undefined || (text.length === 0 && emptyValue === undefined)) {
        dropped.push({ key: raw, reason: text === undefined ? 'unsupported-value' : 'empty-value' });
        continue;
      }
      if (key !== raw) renamed.push({ from: raw, to: key });
      const { value: fitted, cut } = fit(text.length === 0 ? (emptyValue ?? '') : text, keepOf(key));
      if (cut) truncated.push(key);
      kept.push({ raw, key, value: fitted, bytes: entryBytes(key, fitted) });
    }
    const rank = (key: string): number => {
      const at = priority.indexOf(key);
      return at < 0 ? priority.length : at;
    };
    const ordered = kept.map((entry, index) => ({ entry, index })).sort((a, b) => rank(a.entry.key) - rank(b.entry.key) || a.index - b.index).map(({ entry }) => entry);
    const fullBytes = 2 + ordered.reduce((sum, entry) => sum + entry.bytes, 0) + Math.max(0, ordered.length - 1);
    if (fullBytes <= maxTotalBytes) return { details: Object.fromEntries(ordered.map((entry) => [entry.key, entry.value])), renamed, truncated, dropped };

    const chosen: [string, string][] = [];
    const overBudget: { raw: string; key: string }[] = [];
    let used = 2;
    for (const entry of ordered) {
      const cost = entry.bytes + (chosen.length > 0 ? 1 : 0);
      if (used + cost <= maxTotalBytes - markerReserve) {
        chosen.push([entry.key, entry.value]);
        used += cost;
      } else {
        overBudget.push(entry);
      }
    }
    for (const { raw } of overBudget) dropped.push({ key: raw, reason: 'budget' });
    const list = `${overBudget.length} dropped: ${overBudget.map(({ key }) => key).join(' ')}`;
    chosen.push([droppedKey, list.length <= maxValueLength ? list : headOf(list, maxValueLength - asciiEllipsis.length) + asciiEllipsis]);
    return { details: Object.fromEntries(chosen), renamed, truncated: truncated.filter((key) => !overBudget.some((entry) => entry.key === key)), dropped };
  };
};

/**
 * Encodes `input` as `statusDetails` the service accepts; see {@link createStatusDetailsEncoder} for the
 * rules and options (prefer creating one encoder when options are fixed). Errors: throws `RangeError` for
 * options out of range.
 * @example
 * encodeStatusDetails({ step: 'download', progress: 0.5, stderr: longText }).details
 * // { step: 'download', progress: '0.5', stderr: '[…]' + its last 1021 characters }
 */
export const encodeStatusDetails = (input: Readonly<Record<string, unknown>>, options?: StatusDetailsOptions): EncodedStatusDetails =>
  createStatusDetailsEncoder(options)(input);
