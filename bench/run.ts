/**
 * `npm run bench`: iot-jobs-rx against the raw mqtt.js floor and against aws-iot-device-sdk-v2's
 * IotJobsClientv2, in one run, on one emulator (broker + Jobs service) in a child process (bench/server.ts).
 *
 *   (a) describeJobExecution round trip, ours vs raw mqtt.js: sequential latency and 64-in-flight throughput
 *   (b) the same, ours vs IotJobsClientv2 (aws-crt, which pays Nagle, hence fewer iterations)
 *   (c) cold start to first reply and RSS, in fresh `node` processes (bench/cold/*.ts, built by
 *       bench/build.ts to node_modules/.cache/iot-jobs-rx-bench/cold/*.js, run with plain `node`)
 *   (d) then the HTTPS benchmark, bench/https.ts: httpsTransport vs @aws-sdk/client-iot-jobs-data-plane
 *
 * Ours is the BUILT package (dist/index.js, CommonJS), loaded the way an application requires it; the
 * package script builds it first. BENCH_DIST=<dir> measures another CommonJS build instead (e.g. a
 * candidate fix). Every loop is bounded; loopback only. Options (all optional):
 *   --seq N       sequential requests per client (ours, raw)                          default 1000
 *   --flight N    requests per in-flight round (ours, raw), 64 in flight, 16 rounds    default 1500
 *   --sdk-seq N   sequential requests of IotJobsClientv2                               default 50
 *   --sdk-flight N  in-flight requests of IotJobsClientv2 (64 in flight)               default 640
 *   --cold N      fresh processes per client for the cold start                        default 21
 *   --json FILE   where to write the raw figures as JSON (default .bench/results-<time>.json)
 *   --http-*      options of bench/https.ts (see there)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runHttpsBench } from './https';
import { coldDir, coldRun as runCold, type ColdSample } from './lib/cold';
import { benchJobId, coldOutDir, things } from './lib/config';
import { alternating, inFlight, intFlag, log, oursClient, oursEntry, rawClient, root, sdkClient, sequential, sliceRatios, startServer, type FlightResult } from './lib/harness';
import { median, mib, ms, perSecond, quantile, ratio, summarize, table, verdict, type Summary } from './lib/stats';

// ---------------------------------------------------------------------------------------------- options

const flag = intFlag;
const jsonIndex = process.argv.indexOf('--json');
const settings = {
  seq: flag('seq', 1000),
  flight: flag('flight', 1500),
  // The rounds' ratios to raw spread ±0.2 on this shared machine, and two identical builds came out 0.06 apart
  // in the median of 6 (docs/benchmarks.md, stop 12): 16 rounds narrow the median, and the report prints the
  // quartiles so that a verdict at the edge shows as one.
  flightRounds: 16,
  concurrency: 64,
  sdkSeq: flag('sdk-seq', 50),
  sdkFlight: flag('sdk-flight', 640),
  cold: flag('cold', 21),
  /** Slices of the alternated sequential samples whose ratios show the spread. */
  slices: 6,
  jsonFile: jsonIndex < 0 ? undefined : process.argv[jsonIndex + 1],
};
// ------------------------------------------------------------------------------------------ cold start

const coldClients = ['empty', 'raw', 'ours', 'sdk'] as const;
type ColdClient = (typeof coldClients)[number];
const coldThing: Record<ColdClient, string> = { empty: things.coldRaw, raw: things.coldRaw, ours: things.coldOurs, sdk: things.coldSdk };
const coldRun = (client: ColdClient, url: string): Promise<ColdSample> => runCold(client, [url, coldThing[client], benchJobId]);

// ----------------------------------------------------------------------------------------------- main


// Process warnings (e.g. MaxListenersExceededWarning from a client under load) are findings: count them
// and print them once in the report. `npm run bench` passes --no-warnings so they do not interleave.
const warnings = new Map<string, number>();
let phase = 'start-up';
process.on('warning', (warning) => {
  const text = `[${phase}] ${warning.name}: ${warning.message.replace(/\d+ (\w+) listeners added/, 'N $1 listeners added')}`;
  warnings.set(text, (warnings.get(text) ?? 0) + 1);
});

/** The commit measured, and whether src/ had uncommitted changes (the build is of the working tree). */
const revision = (): string => {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') === '' ? '' : ' + uncommitted src/ changes'}`;
  } catch {
    return 'unknown';
  }
};

const oursLabel = `iot-jobs-rx (${path.relative(root, oursEntry)})`;
const stacksLabel = 'iot-jobs-rx, callerStacks: true';

const main = async (): Promise<void> => {
  const started = new Date();
  const commit = revision();
  log(`iot-jobs-rx benchmark at ${commit}: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const server = await startServer(Object.values(things));
  log(`emulator child ready at ${server.url}; ours = ${path.relative(root, oursEntry)}/index.js`);
  const results: Record<string, unknown> = { started: started.toISOString(), commit, node: process.version, cpus: os.cpus().length, settings };
  try {
    // ---------------------------------------------------------------- (a) ours vs the raw mqtt.js floor
    // Ours twice: with the default options, and with `callerStacks: true` (the caller's frames taken for a timeout).
    const clients = {
      raw: await rawClient(server.url, things.raw),
      ours: await oursClient(server.url, things.ours),
      stacks: await oursClient(server.url, things.oursStacks, oursEntry, true),
    };
    const names = ['raw', 'ours', 'stacks'] as const;
    type Name = (typeof names)[number];
    log('warm-up: 300 requests each, sequential, then 64 in flight');
    for (const name of names) {
      phase = name;
      await sequential(clients[name].describe, 300);
      await inFlight(clients[name].describe, 640, settings.concurrency);
    }
    // One request of each client in turn (bench/lib/harness.ts `alternating`), so that drift on a shared
    // machine hits every client alike; the in-flight rounds rotate the order of whole rounds.
    const [aRaw, aOurs, aStacks] = await alternating(
      names.map((name) => clients[name].describe),
      settings.seq,
    );
    if (aRaw === undefined || aOurs === undefined || aStacks === undefined) throw new Error('alternating: a client is missing');
    const seq: Record<Name, number[]> = { raw: aRaw.samples, ours: aOurs.samples, stacks: aStacks.samples };
    const seqCpu: Record<Name, number> = { raw: aRaw.cpuMs, ours: aOurs.cpuMs, stacks: aStacks.cpuMs };
    phase = 'sequential';
    log(`sequential: ${names.map((name) => seq[name].length).join(' + ')} requests done`);

    const flight: Record<Name, FlightResult[]> = { raw: [], ours: [], stacks: [] };
    for (let round = 0; round < settings.flightRounds; round += 1) {
      for (let j = 0; j < names.length; j += 1) {
        const name = names[(round + j) % names.length] ?? 'raw';
        phase = name;
        flight[name].push(await inFlight(clients[name].describe, settings.flight, settings.concurrency));
      }
    }
    log(`in flight: ${settings.flightRounds} rounds × ${settings.flight} requests each done`);
    for (const name of names) await clients[name].close();
    const { raw: seqRaw, ours: seqOurs, stacks: seqStacks } = seq;
    const { raw: seqCpuRaw, ours: seqCpuOurs, stacks: seqCpuStacks } = seqCpu;
    const { raw: flightRaw, ours: flightOurs, stacks: flightStacks } = flight;

    // ------------------------------------------------------------------------ (b) ours vs IotJobsClientv2
    phase = 'IotJobsClientv2';
    const sdk = await sdkClient(server.url, things.sdk);
    log(`IotJobsClientv2: warm-up 5, then ${settings.sdkSeq} sequential, ${settings.sdkFlight} with 64 in flight`);
    await sequential(sdk.describe, 5);
    const seqSdk = await sequential(sdk.describe, settings.sdkSeq);
    const flightSdk = await inFlight(sdk.describe, settings.sdkFlight, settings.concurrency);
    await sdk.close();

    // ------------------------------------------------------------------------------- (c) cold start
    phase = 'cold start';
    log(`cold start: ${settings.cold} fresh processes each, rotating order`);
    for (const client of coldClients) {
      if (!existsSync(path.join(coldDir, `${client}.js`))) throw new Error(`${coldOutDir}/${client}.js missing: run \`npm run bench\` (it builds first)`);
    }
    // One unmeasured pass so every client starts with the same (warm) file cache.
    for (const client of coldClients) await coldRun(client, server.url);
    const cold = new Map<ColdClient, ColdSample[]>();
    for (let i = 0; i < settings.cold; i += 1) {
      for (let j = 0; j < coldClients.length; j += 1) {
        const client = coldClients[(i + j) % coldClients.length];
        if (client === undefined) continue;
        cold.set(client, [...(cold.get(client) ?? []), await coldRun(client, server.url)]);
      }
    }

    // ------------------------------------------------------------------------------------ report
    const sRaw = summarize(seqRaw);
    const sOurs = summarize(seqOurs);
    const sStacks = summarize(seqStacks);
    const sSdk = summarize(seqSdk.samples);
    const rpsRaw = median(flightRaw.map((r) => r.perSecond));
    const rpsOurs = median(flightOurs.map((r) => r.perSecond));
    const rpsStacks = median(flightStacks.map((r) => r.perSecond));
    // Per round, each client against raw in the same round (drift between rounds cancels), then the median.
    const roundRatio = (rs: readonly FlightResult[]): number => median(rs.map((r, i) => r.perSecond / (flightRaw[i]?.perSecond ?? Number.NaN)));
    const flightRatio = roundRatio(flightOurs);
    const flightRatioStacks = roundRatio(flightStacks);
    const lRaw = summarize(flightRaw.flatMap((r) => r.samples));
    const lOurs = summarize(flightOurs.flatMap((r) => r.samples));
    const lStacks = summarize(flightStacks.flatMap((r) => r.samples));
    const lSdk = summarize(flightSdk.samples);
    const cpuPerRequest = (cpu: number, n: number): string => `${((cpu / n) * 1000).toFixed(0)} µs`;
    const flightCpu = (rs: readonly FlightResult[]): number => rs.reduce((a, r) => a + r.cpuMs, 0);
    const flightN = settings.flight * settings.flightRounds;

    const seqRow = (name: string, s: Summary, cpu: string, vsRaw: string): string[] => [name, String(s.n), ms(s.median), ms(s.p99), ms(s.max), cpu, vsRaw];
    const out: string[] = [];
    out.push('');
    out.push(`(a)+(b) describeJobExecution round trip, sequential (emulator in a child process)`);
    out.push(
      table([
        ['client', 'n', 'median', 'p99', 'max', 'CPU/request', 'median vs raw'],
        seqRow('raw mqtt.js (floor)', sRaw, cpuPerRequest(seqCpuRaw, sRaw.n), '1.00×'),
        seqRow(oursLabel, sOurs, cpuPerRequest(seqCpuOurs, sOurs.n), ratio(sOurs.median / sRaw.median)),
        seqRow(stacksLabel, sStacks, cpuPerRequest(seqCpuStacks, sStacks.n), ratio(sStacks.median / sRaw.median)),
        seqRow('IotJobsClientv2', sSdk, cpuPerRequest(seqSdk.cpuMs, sSdk.n), ratio(sSdk.median / sRaw.median)),
      ]),
    );
    const spread = (xs: readonly number[]): string => sliceRatios(xs, seqRaw, settings.slices).map((x) => x.toFixed(2)).join(' ');
    out.push(`  median vs raw in ${settings.slices} consecutive slices: ours ${spread(seqOurs)}; ours, callerStacks: true ${spread(seqStacks)}`);
    out.push('');
    out.push(`(a)+(b) ${settings.concurrency} requests in flight (throughput = requests / wall time, median of ${settings.flightRounds} rounds of ${settings.flight}; vs raw: median of the rounds' ratios)`);
    const flightRow = (name: string, rps: number, l: Summary, cpu: string, vsRaw: string): string[] => [
      name,
      String(l.n),
      perSecond(rps),
      ms(l.median),
      ms(l.p99),
      cpu,
      vsRaw,
    ];
    out.push(
      table([
        ['client', 'n', 'throughput', 'latency median', 'latency p99', 'CPU/request', 'throughput vs raw'],
        flightRow('raw mqtt.js (floor)', rpsRaw, lRaw, cpuPerRequest(flightCpu(flightRaw), flightN), '1.00×'),
        flightRow(oursLabel, rpsOurs, lOurs, cpuPerRequest(flightCpu(flightOurs), flightN), ratio(flightRatio)),
        flightRow(stacksLabel, rpsStacks, lStacks, cpuPerRequest(flightCpu(flightStacks), flightN), ratio(flightRatioStacks)),
        flightRow('IotJobsClientv2', flightSdk.perSecond, lSdk, cpuPerRequest(flightSdk.cpuMs, settings.sdkFlight), ratio(flightSdk.perSecond / rpsRaw)),
      ]),
    );
    const rounds = (rs: readonly FlightResult[]): string => rs.map((r) => Math.round(r.perSecond)).join(', ');
    out.push(`  rounds (req/s): raw ${rounds(flightRaw)}; ours ${rounds(flightOurs)}; ours, callerStacks: true ${rounds(flightStacks)}`);
    const quartiles = (rs: readonly FlightResult[]): string => {
      const sorted = rs.map((r, i) => r.perSecond / (flightRaw[i]?.perSecond ?? Number.NaN)).sort((a, b) => a - b);
      return `${quantile(sorted, 0.25).toFixed(2)}–${quantile(sorted, 0.75).toFixed(2)}`;
    };
    out.push(`  ratio to raw per round, quartiles: ours ${quartiles(flightOurs)}; ours, callerStacks: true ${quartiles(flightStacks)}`);

    out.push('');
    out.push(`(c) cold start in fresh \`node\` processes (median of ${settings.cold}); times from Node's time origin (process start)`);
    const coldRows: string[][] = [['client', 'node start', 'require', 'connect', '1st describe', 'first reply', 'spawn→reply', 'spawn→exit', 'RSS', 'heap used']];
    const coldMedian = (client: ColdClient, key: keyof Omit<ColdSample, 'client'>): number => median((cold.get(client) ?? []).map((s) => s[key]));
    const coldNames: Record<ColdClient, string> = { empty: 'empty node (baseline)', raw: 'raw mqtt.js', ours: oursLabel, sdk: 'IotJobsClientv2' };
    for (const client of coldClients) {
      coldRows.push([
        coldNames[client],
        ms(coldMedian(client, 'startMs')),
        ms(coldMedian(client, 'requireMs')),
        ms(coldMedian(client, 'connectMs')),
        ms(coldMedian(client, 'describeMs')),
        ms(coldMedian(client, 'firstReplyMs')),
        ms(coldMedian(client, 'spawnToReplyMs')),
        ms(coldMedian(client, 'spawnToExitMs')),
        mib(coldMedian(client, 'rss')),
        mib(coldMedian(client, 'heapUsed')),
      ]);
    }
    out.push(table(coldRows));
    const samplesOf = (client: ColdClient, key: 'firstReplyMs' | 'rss'): string =>
      (cold.get(client) ?? []).map((s) => (key === 'rss' ? (s.rss / 1048576).toFixed(1) : s.firstReplyMs.toFixed(0))).join(' ');
    out.push(`  first reply (ms) ours: ${samplesOf('ours', 'firstReplyMs')} | sdk: ${samplesOf('sdk', 'firstReplyMs')} | raw: ${samplesOf('raw', 'firstReplyMs')}`);
    out.push(`  RSS (MiB)        ours: ${samplesOf('ours', 'rss')} | sdk: ${samplesOf('sdk', 'rss')} | raw: ${samplesOf('raw', 'rss')}`);

    const seqRatio = sOurs.median / sRaw.median;
    const sdkSpeedup = sSdk.median / sOurs.median;
    const coldOurs = coldMedian('ours', 'firstReplyMs');
    const coldSdk = coldMedian('sdk', 'firstReplyMs');
    // Paired as the in-flight rounds are: each round starts every client once, in rotating order, so the
    // machine's drift between rounds cancels out.
    const sdkCold = cold.get('sdk') ?? [];
    const coldRatio = median((cold.get('ours') ?? []).map((s, i) => s.firstReplyMs / (sdkCold[i]?.firstReplyMs ?? Number.NaN)));
    const rssOurs = coldMedian('ours', 'rss');
    const rssSdk = coldMedian('sdk', 'rss');
    out.push('');
    out.push('targets');
    out.push(
      table([
        ['target', 'measured', 'verdict'],
        ['sequential median ≤ 1.10× raw', ratio(seqRatio), verdict(seqRatio <= 1.1)],
        ['  the same with callerStacks: true', ratio(sStacks.median / sRaw.median), verdict(sStacks.median / sRaw.median <= 1.1)],
        ['64 in flight ≥ 0.9× raw throughput', ratio(flightRatio), verdict(flightRatio >= 0.9)],
        ['sequential vs IotJobsClientv2 (ours/theirs)', `${ratio(sOurs.median / sSdk.median)} (${sdkSpeedup.toFixed(0)}× faster)`, 'info (~50× expected)'],
        ['64 in flight vs IotJobsClientv2 (ours/theirs)', ratio(rpsOurs / flightSdk.perSecond), 'info'],
        ['cold start ≤ IotJobsClientv2 (median of per-round ratios)', `${ratio(coldRatio)} (medians ${ms(coldOurs)} vs ${ms(coldSdk)})`, verdict(coldRatio <= 1)],
        ['RSS after first reply ≤ IotJobsClientv2', `${mib(rssOurs)} vs ${mib(rssSdk)} (${ratio(rssOurs / rssSdk)})`, verdict(rssOurs <= rssSdk)],
      ]),
    );
    if (warnings.size > 0) {
      out.push('');
      out.push('process warnings in the measuring process, by phase:');
      for (const [text, count] of warnings) out.push(`  ${count}× ${text}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);

    Object.assign(results, {
      sequential: { raw: sRaw, ours: sOurs, oursCallerStacks: sStacks, sdk: sSdk, cpuMs: { raw: seqCpuRaw, ours: seqCpuOurs, oursCallerStacks: seqCpuStacks, sdk: seqSdk.cpuMs } },
      inFlight: {
        raw: { rounds: flightRaw.map((r) => ({ perSecond: r.perSecond, elapsedMs: r.elapsedMs, cpuMs: r.cpuMs })), latency: lRaw },
        ours: { rounds: flightOurs.map((r) => ({ perSecond: r.perSecond, elapsedMs: r.elapsedMs, cpuMs: r.cpuMs })), latency: lOurs },
        oursCallerStacks: { rounds: flightStacks.map((r) => ({ perSecond: r.perSecond, elapsedMs: r.elapsedMs, cpuMs: r.cpuMs })), latency: lStacks },
        sdk: { perSecond: flightSdk.perSecond, elapsedMs: flightSdk.elapsedMs, cpuMs: flightSdk.cpuMs, latency: lSdk },
      },
      cold: Object.fromEntries(cold),
      warnings: Object.fromEntries(warnings),
      ratios: { seqRatio, flightRatio, sdkSpeedup, cold: coldRatio, coldMedians: coldOurs / coldSdk, rss: rssOurs / rssSdk },
    });
    const file = settings.jsonFile ?? path.join(root, '.bench', `results-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`raw figures written to ${path.relative(root, file)}`);
  } finally {
    await server.stop();
  }
};

main()
  .then(() => {
    phase = 'https';
    return runHttpsBench();
  })
  .catch((error: unknown) => {
    console.error(error);
    // Clients left open by a failed phase would keep the process alive; the server child is already stopped.
    process.exit(1);
  });
