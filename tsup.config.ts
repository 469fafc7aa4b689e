import { defineConfig } from 'tsup';

// One build, two module formats: `require` gets dist/*.js (CJS), `import` gets dist/*.mjs (ESM).
// The CLI is one CJS file with a shebang.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', 'emulator/index': 'src/emulator/index.ts', 'agent/index': 'src/agent/index.ts', 'aws-crt/index': 'src/transport/aws-crt.ts' },
    format: ['cjs', 'esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // Shared code goes to chunks both entries load: one JobsError class whichever entry throws or checks it.
    splitting: true,
    // Rollup does the CommonJS splitting. Without it, tsup converts the chunks with sucrase, which also turns
    // every `?.` and `??` into a helper call that allocates an array and closures, on every request's path
    // (docs/benchmarks.md, stop 12); .ci/run checks none is left.
    treeshake: true,
    outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.js' }),
    // CommonJS: the lazy `import()`s (signer, mqtt.js) become `require()`. A native import() goes through
    // Node's ESM loader, which also runs cjs-module-lexer over every CommonJS module it loads: ~20–30 ms on
    // the first signed request (docs/benchmarks.md, HTTPS cold start).
    esbuildOptions: (options, { format }) => {
      if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
    },
  },
  {
    entry: { cli: 'src/cli/index.ts' },
    format: ['cjs'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // As above: `import()` becomes `require()`, so commands load mqtt.js and the demo without the ESM loader.
    esbuildOptions: (options) => {
      options.supported = { ...options.supported, 'dynamic-import': false };
    },
  },
]);
