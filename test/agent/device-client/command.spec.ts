import { splitCommand } from '../../../src/agent/device-client/command';

/** The argv of a command that must split, failing the test with the reason otherwise. */
const argvOf = (text: string): readonly string[] => {
  const split = splitCommand(text);
  if (!split.ok) throw new Error(`expected ${JSON.stringify(text)} to split, got: ${split.reason}`);
  return split.argv;
};

const reasonOf = (text: string): string => {
  const split = splitCommand(text);
  if (split.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(split.argv)}`);
  return split.reason;
};

describe('splitCommand', () => {
  // The table of ../shared/spec/device-client-jobs.md §3.3, row by row (values as JSON-decoded strings).
  it.each([
    ['a plain split', 'echo,Hello World!', ['echo', 'Hello World!']],
    ['an escaped comma', 'echo,Hello\\, I am DC.', ['echo', 'Hello, I am DC.']],
    ['empty fields between commas dropped', 'a,,b', ['a', 'b']],
    ['leading and trailing commas dropped', ',a,', ['a']],
    ['a whitespace-only field kept as an empty argument', 'a, ,b', ['a', '', 'b']],
    ['whitespace trimmed at both ends of every field', ' \n echo \t, Hello World ', ['echo', 'Hello World']],
    ['shell features only through sh -c', 'sh,-c,echo $HOME && ls', ['sh', '-c', 'echo $HOME && ls']],
    ['no escape for a backslash before a comma', 'a\\\\,b', ['a\\,b']],
  ])('splitCommand - spec table: %s', (_label, text, argv) => {
    expect(argvOf(text)).toStrictEqual(argv);
  });

  it.each([
    ['a backslash not before a comma is literal', 'printf,a\\tb\\', ['printf', 'a\\tb\\']],
    ['an escaped comma at the end of a field', 'echo,a\\,', ['echo', 'a,']],
    ['a field that is only an escaped comma', 'echo,\\,', ['echo', ',']],
    ['escaped commas next to separators', 'echo,\\,\\,,x', ['echo', ',,', 'x']],
    ['no quoting: quotes are ordinary characters', 'echo,"a,b"', ['echo', '"a', 'b"']],
    ['no globbing or variables', 'ls,*,$HOME', ['ls', '*', '$HOME']],
    ['only C whitespace is trimmed (a no-break space stays)', 'echo,\u00a0x\u00a0', ['echo', '\u00a0x\u00a0']],
    ['a single program', 'reboot', ['reboot']],
    ['non-ASCII arguments', 'echo,héllo wörld 😀', ['echo', 'héllo wörld 😀']],
  ])('splitCommand - %s', (_label, text, argv) => {
    expect(argvOf(text)).toStrictEqual(argv);
  });

  it.each([
    ['the empty string', ''],
    ['only commas', ',,,'],
  ])('splitCommand - refuses %s (no fields)', (_label, text) => {
    expect(reasonOf(text)).toBe('the command is empty (nothing between the commas)');
  });

  it('splitCommand - refuses a first token with a space, as Device Client does (spec test)', () => {
    expect(reasonOf(' aws iot \t,describe-endpoint')).toBe('the program "aws iot" contains whitespace; separate arguments with commas');
  });

  it('splitCommand - refuses "echo ok" (an AWS-Run-Command value written with a space instead of a comma)', () => {
    expect(reasonOf('echo ok')).toContain('contains whitespace');
  });

  it('splitCommand - refuses an empty program (differs from Device Client, which would exec "" and fail with 255)', () => {
    expect(reasonOf(' ,ls')).toBe('the program (first field of the command) is empty');
  });

  it('splitCommand - refuses a NUL character (no exec can carry it)', () => {
    expect(reasonOf('echo,a\u0000b')).toBe('the command contains a NUL character');
  });
});
