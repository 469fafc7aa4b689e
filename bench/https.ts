/**
 * The HTTPS benchmark: iot-jobs-rx's `httpsTransport` against the official
 * `@aws-sdk/client-iot-jobs-data-plane`, side by side on one emulator data plane (plain HTTP with SigV4
 * checked, in the child process bench/server.ts). Part (d) of `npm run bench`; alone, after a build:
 *
 *   npx tsx bench/build.ts && npx tsx --no-warnings bench/https.ts [--http-seq N] [--http-flight N] [--http-cold N]
 *
 *   sequential    describeJobExecution round trip, N per client (default 500) in 5 interleaved blocks (ABBA)
 *   16 in flight  3 rounds of N requests per client (default 2000), alternating; throughput = requests / wall time
 *   cold start    fresh `node` processes running the BUILT dist (bench/cold/http-*.ts), N each (default 9),
 *                 rotating order after one unmeasured pass: process start → first reply, and RSS
 *
 * Ours is dist/index.js (or BENCH_DIST), loaded as an application requires it. Tables go to stdout, progress to
 * stderr, the raw figures to .bench/https-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { coldRun, type ColdSample } from './lib/cold';
import { benchJobId, httpThings } from './lib/config';
import { oursHttpClient, sdkHttpClient } from './lib/http-clients';
import { inFlight, intFlag, log, oursEntry, root, sequential, startServer, type FlightResult, type Requester } from './lib/harness';
import { median, mib, ms, perSecond, ratio, summarize, table, verdict, type Summary } from './lib/stats';

type Who = 'ours' | 'sdk';
const concurrency = 16;
const blocks = 5;
const rounds = 3;
const coldClients = ['empty', 'http-ours', 'http-sdk'] as const;
type ColdClient = (typeof coldClients)[number];
const coldThing: Record<ColdClient, string> = { empty: httpThings.coldOurs, 'http-ours': httpThings.coldOurs, 'http-sdk': httpThings.coldSdk };
const orderOf = (i: number): readonly [Who, Who] => (i % 2 === 0 ? ['ours', 'sdk'] : ['sdk', 'ours']);

interface Measured {
  readonly seq: Record<Who, { samples: number[]; cpuMs: number }>;
  readonly flight: Record<Who, FlightResult[]>;
  readonly cold: Map<ColdClient, ColdSample[]>;
}

/** Sequential blocks and in-flight rounds, interleaved so that drift on a shared machine hits both alike. */
const measureRoundTrips = async (requesters: Record<Who, Requester>, seqPerClient: number, flightPerRound: number): Promise<Omit<Measured, 'cold'>> => {
  log(`https: warm-up 200 sequential + 320 with ${concurrency} in flight each`);
  for (const who of ['ours', 'sdk'] as const) {
    await sequential(requesters[who], 200);
    await inFlight(requesters[who], 320, concurrency);
  }
  const seq: Measured['seq'] = { ours: { samples: [], cpuMs: 0 }, sdk: { samples: [], cpuMs: 0 } };
  for (let block = 0; block < blocks; block += 1) {
    for (const who of orderOf(block)) {
      const result = await sequential(requesters[who], Math.ceil(seqPerClient / blocks));
      seq[who].samples.push(...result.samples);
      seq[who].cpuMs += result.cpuMs;
    }
  }
  log(`https: sequential ${seq.ours.samples.length} + ${seq.sdk.samples.length} done`);
  const flight: Measured['flight'] = { ours: [], sdk: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const who of orderOf(round)) flight[who].push(await inFlight(requesters[who], flightPerRound, concurrency));
  }
  log(`https: ${rounds} rounds × ${flightPerRound} with ${concurrency} in flight done`);
  return { seq, flight };
};

const measureCold = async (dataEndpoint: string, samples: number): Promise<Measured['cold']> => {
  log(`https: cold start, ${samples} fresh processes each, rotating order`);
  const run = (client: ColdClient) => coldRun(client, [dataEndpoint, coldThing[client], benchJobId]);
  for (const client of coldClients) await run(client); // warms the file cache for everyone
  const cold = new Map<ColdClient, ColdSample[]>();
  for (let i = 0; i < samples; i += 1) {
    for (let j = 0; j < coldClients.length; j += 1) {
      const client = coldClients[(i + j) % coldClients.length];
      if (client !== undefined) cold.set(client, [...(cold.get(client) ?? []), await run(client)]);
    }
  }
  return cold;
};

const report = ({ seq, flight, cold }: Measured, settings: { seq: number; flight: number; cold: number }): { text: string; ratios: Record<string, number> } => {
  const ours = `iot-jobs-rx httpsTransport (${path.relative(root, oursEntry)})`;
  const sdkName = '@aws-sdk/client-iot-jobs-data-plane';
  const s: Record<Who, Summary> = { ours: summarize(seq.ours.samples), sdk: summarize(seq.sdk.samples) };
  const rps = (who: Who): number => median(flight[who].map((r) => r.perSecond));
  const lat = (who: Who): Summary => summarize(flight[who].flatMap((r) => r.samples));
  const cpu = (ms_: number, n: number): string => `${((ms_ / n) * 1000).toFixed(0)} µs`;
  const flightCpu = (who: Who): string => cpu(flight[who].reduce((a, r) => a + r.cpuMs, 0), settings.flight * rounds);
  const coldMedian = (client: ColdClient, key: keyof Omit<ColdSample, 'client'>): number => median((cold.get(client) ?? []).map((c) => c[key]));
  // First reply less Node's own start-up, which is the same for both and the noisiest part on a shared machine.
  const scriptToReply = (client: ColdClient): number => median((cold.get(client) ?? []).map((c) => c.firstReplyMs - c.startMs));
  const ratios = {
    seqMedian: s.ours.median / s.sdk.median,
    seqP99: s.ours.p99 / s.sdk.p99,
    flight: rps('ours') / rps('sdk'),
    cold: coldMedian('http-ours', 'firstReplyMs') / coldMedian('http-sdk', 'firstReplyMs'),
    rss: coldMedian('http-ours', 'rss') / coldMedian('http-sdk', 'rss'),
    scriptToReply: scriptToReply('http-ours') / scriptToReply('http-sdk'),
  };
  const out = ['', `(d) HTTPS: describeJobExecution round trip, sequential (data plane: plain HTTP + SigV4 in a child process)`];
  out.push(
    table([
      ['client', 'n', 'median', 'p99', 'max', 'CPU/request', 'median vs SDK'],
      [ours, String(s.ours.n), ms(s.ours.median), ms(s.ours.p99), ms(s.ours.max), cpu(seq.ours.cpuMs, s.ours.n), ratio(ratios.seqMedian)],
      [sdkName, String(s.sdk.n), ms(s.sdk.median), ms(s.sdk.p99), ms(s.sdk.max), cpu(seq.sdk.cpuMs, s.sdk.n), '1.00×'],
    ]),
    '',
    `(d) HTTPS: ${concurrency} requests in flight (median of ${rounds} rounds of ${settings.flight})`,
    table([
      ['client', 'n', 'throughput', 'latency median', 'latency p99', 'CPU/request', 'throughput vs SDK'],
      [ours, String(lat('ours').n), perSecond(rps('ours')), ms(lat('ours').median), ms(lat('ours').p99), flightCpu('ours'), ratio(ratios.flight)],
      [sdkName, String(lat('sdk').n), perSecond(rps('sdk')), ms(lat('sdk').median), ms(lat('sdk').p99), flightCpu('sdk'), '1.00×'],
    ]),
    `  rounds (req/s): ours ${flight.ours.map((r) => Math.round(r.perSecond)).join(', ')}; sdk ${flight.sdk.map((r) => Math.round(r.perSecond)).join(', ')}`,
    '',
    `(d) HTTPS cold start in fresh \`node\` processes (median of ${settings.cold}); times from process start`,
  );
  const names: Record<ColdClient, string> = { empty: 'empty node (baseline)', 'http-ours': ours, 'http-sdk': sdkName };
  out.push(
    table([
      ['client', 'node start', 'require', 'first describe', 'script→reply', 'first reply', 'spawn→reply', 'spawn→exit', 'RSS', 'heap used'],
      ...coldClients.map((c) => [
        names[c],
        ...(['startMs', 'requireMs', 'describeMs'] as const).map((k) => ms(coldMedian(c, k))),
        ms(scriptToReply(c)),
        ...(['firstReplyMs', 'spawnToReplyMs', 'spawnToExitMs'] as const).map((k) => ms(coldMedian(c, k))),
        mib(coldMedian(c, 'rss')),
        mib(coldMedian(c, 'heapUsed')),
      ]),
    ]),
    `  first reply (ms) ours: ${(cold.get('http-ours') ?? []).map((c) => c.firstReplyMs.toFixed(0)).join(' ')} | sdk: ${(cold.get('http-sdk') ?? []).map((c) => c.firstReplyMs.toFixed(0)).join(' ')}`,
    '',
    'HTTPS targets (ours / official SDK)',
    table([
      ['target', 'measured', 'verdict'],
      ['sequential median no slower than the SDK', ratio(ratios.seqMedian), verdict(ratios.seqMedian <= 1)],
      ['sequential p99', ratio(ratios.seqP99), 'info'],
      [`${concurrency} in flight throughput no lower than the SDK`, ratio(ratios.flight), verdict(ratios.flight >= 1)],
      ['cold start faster than the SDK', `${ms(coldMedian('http-ours', 'firstReplyMs'))} vs ${ms(coldMedian('http-sdk', 'firstReplyMs'))} (${ratio(ratios.cold)})`, verdict(ratios.cold < 1)],
      ['cold start less node start-up (script → first reply)', `${ms(scriptToReply('http-ours'))} vs ${ms(scriptToReply('http-sdk'))} (${ratio(ratios.scriptToReply)})`, 'info'],
      ['RSS after first reply', `${mib(coldMedian('http-ours', 'rss'))} vs ${mib(coldMedian('http-sdk', 'rss'))} (${ratio(ratios.rss)})`, 'info'],
    ]),
  );
  return { text: `${out.join('\n')}\n`, ratios };
};

/** Runs the whole HTTPS benchmark (its own emulator child) and prints its report. */
export const runHttpsBench = async (): Promise<void> => {
  const settings = { seq: intFlag('http-seq', 500), flight: intFlag('http-flight', 2000), cold: intFlag('http-cold', 9) };
  const started = new Date();
  const server = await startServer(Object.values(httpThings));
  log(`https: emulator child ready, data plane at ${server.dataEndpoint}`);
  try {
    const ours = oursHttpClient(server.dataEndpoint, httpThings.ours);
    const sdk = await sdkHttpClient(server.dataEndpoint, httpThings.sdk);
    const trips = await measureRoundTrips({ ours: ours.describe, sdk: sdk.describe }, settings.seq, settings.flight);
    await Promise.all([ours.close(), sdk.close()]);
    const cold = await measureCold(server.dataEndpoint, settings.cold);
    const { text, ratios } = report({ ...trips, cold }, settings);
    process.stdout.write(text);
    const file = path.join(root, '.bench', `https-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ started: started.toISOString(), node: process.version, settings, ...trips, cold: Object.fromEntries(cold), ratios }, null, 2)}\n`);
    log(`https: raw figures written to ${path.relative(root, file)}`);
  } finally {
    await server.stop();
  }
};

if (require.main === module) {
  runHttpsBench().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
