/**
 * How a Device Client `runCommand` string becomes an argv (../shared/spec/device-client-jobs.md §3.3).
 *
 * Device Client takes every maximal run matching `(\\,|[^,])+` (a run of characters that are either the
 * two-character sequence backslash-comma or any non-comma), replaces each `\,` in it by `,`, then trims
 * `" \t\n\v\f\r"` at both ends. We do exactly the same, with one deliberate difference: an empty program
 * (` ,ls` — the first field is whitespace only) is refused here, where Device Client would try to exec `""`
 * and fail with status 255.
 *
 * Backslashes: only `\,` is an escape. Any other backslash is kept as it is (`a\b` → `a\b`, `a\` → `a\`),
 * and there is no escape for a backslash itself, so `a\\,b` is ONE argument `a\,b`: a literal backslash can
 * never end an argument that is followed by another one.
 */

/** A run of escaped commas or non-commas: one argument before unescaping and trimming. */
const fieldPattern = /(?:\\,|[^,])+/g;
/** Exactly the characters C++ `isspace` sees in the "C" locale, which Device Client trims. */
const edgeWhitespace = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
const innerWhitespace = /[ \t\n\v\f\r]/;

/** An argv with at least a program. */
export type Argv = readonly [string, ...string[]];

/** The outcome of {@link splitCommand}: an argv, or why the command cannot run. */
export type SplitCommandResult =
  | { readonly ok: true; readonly argv: Argv }
  | { readonly ok: false; readonly reason: string };

/**
 * Splits a `runCommand` string at unescaped commas, exactly as Device Client does: empty fields between
 * commas are dropped, a whitespace-only field becomes an empty argument, `\,` is a literal comma. No shell,
 * quoting, globbing or variable expansion (`sh,-c,…` is the only way to get them).
 *
 * Refuses (with a readable `reason`) a command with no fields, an empty program, a program containing
 * whitespace (Device Client's own check) and a NUL character (no exec can carry it).
 *
 * @example splitCommand('echo,Hello\\, I am DC.') // { ok: true, argv: ['echo', 'Hello, I am DC.'] }
 */
export const splitCommand = (text: string): SplitCommandResult => {
  const fields = Array.from(text.matchAll(fieldPattern), (match) => match[0].replaceAll('\\,', ',').replace(edgeWhitespace, ''));
  const [program, ...args] = fields;
  if (program === undefined) return { ok: false, reason: 'the command is empty (nothing between the commas)' };
  if (program === '') return { ok: false, reason: 'the program (first field of the command) is empty' };
  if (innerWhitespace.test(program)) {
    return { ok: false, reason: `the program ${JSON.stringify(program)} contains whitespace; separate arguments with commas` };
  }
  if (fields.some((field) => field.includes('\0'))) return { ok: false, reason: 'the command contains a NUL character' };
  return { ok: true, argv: [program, ...args] };
};
