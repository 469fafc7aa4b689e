import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Found by a new user's walkthrough: a TypeScript project on `moduleResolution: node10` (the default of
// `module: commonjs`) could not resolve 'iot-jobs-rx/agent' and the other subpaths, which only the `exports`
// map named. `typesVersions` names them for it; this keeps the two lists the same.
describe('package.json entries', () => {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {});

  it('package - every subpath export has its typesVersions entry, pointing at its CommonJS declarations', () => {
    const exports = record(record(manifest)['exports']);
    const subpaths = Object.keys(exports).filter((key) => key !== '.' && key !== './package.json').map((key) => key.slice(2));
    const typesVersions = record(record(record(manifest)['typesVersions'])['*']);
    expect(Object.keys(typesVersions).sort()).toEqual(subpaths.sort());
    for (const subpath of subpaths) {
      const required = record(exports[`./${subpath}`])['require'];
      expect([subpath, typesVersions[subpath]]).toEqual([subpath, [String(required).replace(/\.js$/, '.d.ts')]]);
    }
  });

  it('package - `npm pack` builds dist/ first (a clone has none)', () => {
    expect(record(record(manifest)['scripts'])['prepack']).toBe('npm run build');
  });
});
