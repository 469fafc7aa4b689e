/**
 * Builds what the benchmark runs with plain `node` (step 1 of `npm run bench`):
 * - dist/ from tsup.config.ts, JavaScript only: declarations play no part at run time (and take ~6 s), so
 *   `dts: false`, and `clean: false` so the declarations of an earlier `npm run build` stay in place;
 * - the cold-start children bench/cold/*.ts → `coldOutDir`/*.js (CommonJS, their `require`s left as they are).
 */
import { build } from 'tsup';
import { coldOutDir } from './lib/config';

const main = async (): Promise<void> => {
  await build({ dts: false, clean: false, silent: true });
  await build({
    config: false,
    entry: ['bench/cold/empty.ts', 'bench/cold/raw.ts', 'bench/cold/ours.ts', 'bench/cold/sdk.ts', 'bench/cold/http-ours.ts', 'bench/cold/http-sdk.ts'],
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    outDir: coldOutDir,
    clean: true,
    dts: false,
    sourcemap: false,
    splitting: false,
    silent: true,
  });
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
