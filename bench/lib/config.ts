/** Names shared by the benchmark orchestrator (bench/run.ts) and its server child (bench/server.ts). */

/**
 * Where bench/build.ts puts the compiled cold-start children: a tool cache under node_modules, so that
 * ESLint, Jest and git leave them alone, and `require` still finds the project's packages.
 */
export const coldOutDir = 'node_modules/.cache/iot-jobs-rx-bench/cold';

/** The job every benchmark thing has QUEUED; every request is describeJobExecution of it. */
export const benchJobId = 'bench-job';
export const benchJobDocument = { operation: 'install', url: 'https://example.com/firmware-1.2.3.bin', sha256: 'e3b0c442' };

/**
 * One thing per client, so that no client receives the replies meant for another (the raw client's
 * `+/get/+` filter would otherwise see ours). Same topic shapes, same payloads, same emulator.
 */
export const things = {
  raw: 'bench-raw',
  ours: 'bench-ours',
  sdk: 'bench-sdk',
  coldRaw: 'cold-raw',
  coldOurs: 'cold-ours',
  coldSdk: 'cold-sdk',
} as const;
