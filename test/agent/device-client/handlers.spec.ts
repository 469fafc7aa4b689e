import { chmod, chown, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveHandler, type HandlerResolution } from '../../../src/agent/device-client/handlers';
import { tempDirs, writeScript } from './helpers';

const dirs = tempDirs();
afterEach(() => dirs.cleanUp());

const reasonOf = (resolution: HandlerResolution): string => {
  if (resolution.ok) throw new Error(`expected a refusal, got ${resolution.program}`);
  return resolution.reason;
};

describe('resolveHandler: the handler folder ("default" and no path)', () => {
  it('resolveHandler - path "default" finds a 0700 handler in the handler folder', async () => {
    const handlerDir = await dirs.make();
    const script = await writeScript(handlerDir, 'download-file.sh', 'exit 0');
    await expect(resolveHandler({ handler: 'download-file.sh', path: 'default' }, { handlerDir })).resolves.toStrictEqual({
      ok: true,
      program: script,
      source: 'handler-folder',
    });
  });

  it('resolveHandler - no path also means the handler folder (differs: Device Client searches PATH)', async () => {
    const handlerDir = await dirs.make();
    const script = await writeScript(handlerDir, 'reboot.sh', 'exit 0');
    await expect(resolveHandler({ handler: 'reboot.sh', path: undefined }, { handlerDir })).resolves.toMatchObject({ ok: true, program: script });
  });

  it.each([
    ['0755 (readable and executable by all)', 0o755, '0755'],
    ['0600 (not executable)', 0o600, '0600'],
    ['0770 (group bits)', 0o770, '0770'],
  ])('resolveHandler - refuses a handler-folder file with mode %s, as Device Client does (exactly 0700)', async (_label, mode, text) => {
    const handlerDir = await dirs.make();
    const script = await writeScript(handlerDir, 'h.sh', 'exit 0', mode);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(
      `${script} has mode ${text}; handlers in the handler folder need exactly 0700 (as Device Client requires)`,
    );
  });

  it('resolveHandler - refuses a missing handler, with a hint when the document gives no path', async () => {
    const handlerDir = await dirs.make();
    expect(reasonOf(await resolveHandler({ handler: 'nope.sh', path: 'default' }, { handlerDir }))).toBe(`handler "nope.sh" is not in the handler folder ${handlerDir}`);
    expect(reasonOf(await resolveHandler({ handler: 'nope.sh', path: undefined }, { handlerDir }))).toBe(
      `handler "nope.sh" is not in the handler folder ${handlerDir} (the document gives no "path"; PATH search is off unless commands are allowed)`,
    );
  });

  it('resolveHandler - with searchPath, a handler without path that is not in the folder is left to PATH, as in Device Client', async () => {
    const handlerDir = await dirs.make();
    await expect(resolveHandler({ handler: 'echo', path: undefined }, { handlerDir, searchPath: true })).resolves.toStrictEqual({ ok: true, program: 'echo', source: 'search-path' });
    await expect(resolveHandler({ handler: '/bin/echo', path: undefined }, { handlerDir, searchPath: true })).resolves.toMatchObject({ ok: true, program: '/bin/echo' });
  });

  it('resolveHandler - searchPath never bypasses the checks of a file that is in the handler folder', async () => {
    const handlerDir = await dirs.make();
    await writeScript(handlerDir, 'echo', 'exit 0', 0o755);
    expect(reasonOf(await resolveHandler({ handler: 'echo', path: undefined }, { handlerDir, searchPath: true }))).toContain('need exactly 0700');
  });

  it.each([
    ['a parent reference', '../evil.sh'],
    ['an absolute path', '/bin/sh'],
    ['a sub-path', 'sub/h.sh'],
    ['".."', '..'],
    ['"."', '.'],
    ['a NUL character', 'h.sh\u0000'],
  ])('resolveHandler - refuses a handler name with %s (path traversal)', async (_label, name) => {
    const handlerDir = await dirs.make();
    expect(reasonOf(await resolveHandler({ handler: name, path: 'default' }, { handlerDir }))).toBe(
      `handler ${JSON.stringify(name)} must be a plain file name (no "/", "." or "..")`,
    );
  });

  it('resolveHandler - refuses a symlink that leads out of the handler folder', async () => {
    const [handlerDir, elsewhere] = [await dirs.make(), await dirs.make()];
    const target = await writeScript(elsewhere, 'evil.sh', 'exit 0');
    await symlink(target, join(handlerDir, 'h.sh'));
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(
      `${join(handlerDir, 'h.sh')} leads to ${target}, outside the allowed handler folders`,
    );
  });

  it('resolveHandler - follows a symlink that stays inside the folder and runs its target', async () => {
    const handlerDir = await dirs.make();
    await mkdir(join(handlerDir, 'v2'), { mode: 0o700 });
    const target = await writeScript(join(handlerDir, 'v2'), 'h.sh', 'exit 0');
    await symlink('v2/h.sh', join(handlerDir, 'h.sh'));
    await expect(resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir })).resolves.toMatchObject({ ok: true, program: target });
  });

  it('resolveHandler - refuses a dangling symlink and a folder in place of a file', async () => {
    const handlerDir = await dirs.make();
    await symlink(join(handlerDir, 'gone.sh'), join(handlerDir, 'h.sh'));
    await mkdir(join(handlerDir, 'd.sh'), { mode: 0o700 });
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(`${join(handlerDir, 'h.sh')} does not exist`);
    expect(reasonOf(await resolveHandler({ handler: 'd.sh', path: 'default' }, { handlerDir }))).toBe(`${join(handlerDir, 'd.sh')} is not a regular file`);
  });

  it('resolveHandler - refuses a handler in a world-writable folder', async () => {
    const handlerDir = await dirs.make();
    await writeScript(handlerDir, 'h.sh', 'exit 0');
    await chmod(handlerDir, 0o777);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(`the folder ${handlerDir} is world-writable`);
  });

  it('resolveHandler - refuses when the handler folder does not exist', async () => {
    const handlerDir = join(await dirs.make(), 'missing');
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(`the handler folder ${handlerDir} does not exist`);
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('resolveHandler - refuses a handler owned by another user (Device Client does not check owners)', async () => {
    const handlerDir = await dirs.make();
    const script = await writeScript(handlerDir, 'h.sh', 'exit 0');
    await chown(script, 65534, 65534);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir }))).toBe(`${script} is owned by uid 65534, neither this agent (uid 0) nor root`);
  });
});

describe('resolveHandler: path overrides', () => {
  it('resolveHandler - a path naming an allowed folder (or a folder below it) is used, mode 0755 allowed', async () => {
    const [handlerDir, opt] = [await dirs.make(), await dirs.make()];
    const script = await writeScript(opt, 'h.sh', 'exit 0', 0o755);
    await mkdir(join(opt, 'sub'));
    const below = await writeScript(join(opt, 'sub'), 'h.sh', 'exit 0', 0o750);
    const options = { handlerDir, allowedDirs: [opt] };
    await expect(resolveHandler({ handler: 'h.sh', path: opt }, options)).resolves.toStrictEqual({ ok: true, program: script, source: 'allowed-folder' });
    await expect(resolveHandler({ handler: 'h.sh', path: join(opt, 'sub') }, options)).resolves.toMatchObject({ ok: true, program: below });
  });

  it('resolveHandler - a relative path is resolved against cwd, like Device Client', async () => {
    const [handlerDir, opt] = [await dirs.make(), await dirs.make()];
    const script = await writeScript(opt, 'h.sh', 'exit 0', 0o755);
    await expect(resolveHandler({ handler: 'h.sh', path: '.' }, { handlerDir, allowedDirs: [opt], cwd: opt })).resolves.toMatchObject({ ok: true, program: script });
  });

  it('resolveHandler - refuses a path outside the allowed folders (differs: Device Client runs any <path>/<handler>)', async () => {
    const [handlerDir, other] = [await dirs.make(), await dirs.make()];
    await writeScript(other, 'h.sh', 'exit 0');
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: other }, { handlerDir }))).toBe(`path ${JSON.stringify(other)} is not an allowed handler folder`);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: `${handlerDir}/../${other.split('/').pop() ?? ''}` }, { handlerDir }))).toContain('is not an allowed handler folder');
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: '/nonexistent' }, { handlerDir }))).toBe('path "/nonexistent" is not an allowed handler folder');
  });

  it('resolveHandler - refuses a group- or world-writable file in an allowed folder', async () => {
    const [handlerDir, opt] = [await dirs.make(), await dirs.make()];
    const script = await writeScript(opt, 'h.sh', 'exit 0', 0o775);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: opt }, { handlerDir, allowedDirs: [opt] }))).toBe(
      `${script} has mode 0775; it must not be writable by group or others`,
    );
  });

  it('resolveHandler - refuses a file in an allowed folder that nobody may execute', async () => {
    const [handlerDir, opt] = [await dirs.make(), await dirs.make()];
    const script = await writeScript(opt, 'h.sh', 'exit 0', 0o644);
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: opt }, { handlerDir, allowedDirs: [opt] }))).toBe(`${script} is not executable by this agent`);
  });

  it('resolveHandler - path "default" stays the handler folder even when other folders are allowed', async () => {
    const [handlerDir, opt] = [await dirs.make(), await dirs.make()];
    await writeScript(opt, 'h.sh', 'exit 0');
    expect(reasonOf(await resolveHandler({ handler: 'h.sh', path: 'default' }, { handlerDir, allowedDirs: [opt] }))).toContain('is not in the handler folder');
  });
});
