import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installLayout, installRelease, isCurrent, partFile, pointCurrentAt, prepareLayout, readCurrent, releaseTarget } from '../../../src/agent/firmware/install';
import { tempDir } from './helpers';

/** Install folder: staging + rename of release folders, the atomic `current` swap, rollback. */

const installFrom = (dir: string, version: string, content: string): void => {
  const layout = installLayout(dir);
  prepareLayout(layout);
  writeFileSync(partFile(layout, version), content);
  installRelease(layout, version, 'app.bin', partFile(layout, version));
};

describe('firmware install', () => {
  it('firmware install - a release is moved into releases/<version>/ whole, leaving no staging folder or part file', () => {
    const dir = tempDir();
    installFrom(dir, '1.0.0', 'one');
    const layout = installLayout(dir);
    expect(readFileSync(join(dir, 'releases', '1.0.0', 'app.bin'), 'utf8')).toBe('one');
    expect(readdirSync(layout.releasesDir)).toEqual(['1.0.0']);
    expect(existsSync(partFile(layout, '1.0.0'))).toBe(false);
  });

  it('firmware install - swapping current replaces the link by a rename and keeps the previous release', () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    installFrom(dir, '1.0.0', 'one');
    pointCurrentAt(layout, releaseTarget('1.0.0'));
    const before = lstatSync(layout.currentLink);
    installFrom(dir, '2.0.0', 'two');
    pointCurrentAt(layout, releaseTarget('2.0.0'));

    expect(readlinkSync(layout.currentLink)).toBe('releases/2.0.0'); // relative: the folder can move
    expect(lstatSync(layout.currentLink).ino).not.toBe(before.ino); // a new link renamed over the old one
    expect(readFileSync(join(layout.currentLink, 'app.bin'), 'utf8')).toBe('two');
    expect(readFileSync(join(dir, 'releases', '1.0.0', 'app.bin'), 'utf8')).toBe('one');
    expect(readdirSync(dir).sort()).toEqual(['current', 'downloads', 'releases']); // no current.tmp-* left
    expect(readCurrent(layout)).toEqual({ target: 'releases/2.0.0', release: '2.0.0' });
    expect(isCurrent(layout, '2.0.0')).toBe(true);
    expect(isCurrent(layout, '1.0.0')).toBe(false);
  });

  it('firmware install - a rollback points current back at the previous link text, or removes it when there was none', () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    installFrom(dir, '1.0.0', 'one');
    pointCurrentAt(layout, releaseTarget('1.0.0'));
    const previous = readCurrent(layout);
    installFrom(dir, '2.0.0', 'two');
    pointCurrentAt(layout, releaseTarget('2.0.0'));
    pointCurrentAt(layout, previous?.target ?? null);
    expect(readFileSync(join(layout.currentLink, 'app.bin'), 'utf8')).toBe('one');
    pointCurrentAt(layout, null);
    expect(readCurrent(layout)).toBeUndefined();
  });

  it('firmware install - reinstalling a version that is not active replaces its folder; leftovers of an interrupted install are swept', () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    installFrom(dir, '2.0.0', 'broken');
    mkdirSync(join(layout.releasesDir, '.staging-2.0.0-dead'), { recursive: true });
    installFrom(dir, '2.0.0', 'good');
    expect(readFileSync(join(dir, 'releases', '2.0.0', 'app.bin'), 'utf8')).toBe('good');
    expect(readdirSync(layout.releasesDir)).toEqual(['2.0.0']);
  });

  it('firmware install - a current that is not a symlink is never replaced', () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    mkdirSync(layout.currentLink);
    expect(() => readCurrent(layout)).toThrow(/is not a symbolic link/);
  });

  it('firmware install - a link made by hand outside releases/ is reported with its text and no release name', () => {
    const dir = tempDir();
    const layout = installLayout(dir);
    mkdirSync(join(dir, 'factory'));
    symlinkSync('factory', layout.currentLink);
    expect(readCurrent(layout)).toEqual({ target: 'factory', release: null });
  });
});
