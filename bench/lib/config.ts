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
  oursStacks: 'bench-ours-stacks',
  sdk: 'bench-sdk',
  coldRaw: 'cold-raw',
  coldOurs: 'cold-ours',
  coldSdk: 'cold-sdk',
} as const;

/** The HTTPS benchmark's things (bench/https.ts): one per client, as above. */
export const httpThings = {
  ours: 'bench-http-ours',
  sdk: 'bench-http-sdk',
  coldOurs: 'cold-http-ours',
  coldSdk: 'cold-http-sdk',
} as const;

/** The key pair the emulator child's data plane checks SigV4 against (local only). */
export const benchCredentials = { accessKeyId: 'AKIABENCHMARK0000000', secretAccessKey: 'iot-jobs-rx-benchmark-secret' } as const;
/** The region the HTTPS clients sign for (the emulator accepts any). */
export const benchRegion = 'us-east-1';
