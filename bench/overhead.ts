/**
 * The library's own CPU per describeJobExecution, without mqtt.js, broker or network: the client runs on an
 * in-memory MqttPort that grants every SUBSCRIBE and answers every PUBLISH on the next macrotask with the
 * same reply the responder sends. What remains is token, encode, the RxJS pipeline, correlation, JSON
 * parsing and io-ts decoding.
 *
 *   node --import tsx bench/overhead.ts [seq|flight] [count]      (flight = 64 in flight)
 *   BENCH_DIST=<dir> node --import tsx bench/overhead.ts ...       (another CommonJS build)
 *   node --import tsx bench/overhead.ts seq|flight <count> <build-dir> <build-dir>...
 *
 * `<build-dir>:stacks` runs that build with `callerStacks: true`, `<build-dir>:nostacks` with `callerStacks: false`;
 * a plain `<build-dir>` with its own default (frames taken before 48098b4, in stop 13; not since).
 *
 * With build directories, every build runs in this one process, each on its own port, in alternating
 * blocks of 2000 requests (`count` requests per build in all); the report gives each build's median CPU
 * per block and its ratio to the first build. Machine noise then hits every build alike, which separate
 * runs on a shared machine do not (their spread is ±30 %).
 */
import { createRequire } from 'node:module';
import { Observable, firstValueFrom, type Subscriber } from 'rxjs';
import type * as Library from '../src/index';
import { benchJobDocument, benchJobId } from './lib/config';
import { buildSpec, inFlight, oursEntry, sequential } from './lib/harness';
import { median } from './lib/stats';

type Port = Library.MqttPort;
type Event = Library.SubscriptionEvent;

const memoryPort = (): Port => {
  const subscribers = new Set<Subscriber<Event>>();
  const now = Math.floor(Date.now() / 1000);
  const execution = { jobId: benchJobId, status: 'QUEUED', versionNumber: 1, executionNumber: 1, queuedAt: now, lastUpdatedAt: now, jobDocument: benchJobDocument };
  return {
    subscribe: () =>
      new Observable<Event>((subscriber) => {
        subscribers.add(subscriber);
        setImmediate(() => {
          subscriber.next({ kind: 'subscribed' });
        });
        return () => subscribers.delete(subscriber);
      }),
    publish: (topic, payload) =>
      new Observable<void>((subscriber) => {
        const { clientToken } = JSON.parse(payload) as { clientToken?: string };
        setImmediate(() => {
          subscriber.next();
          subscriber.complete();
          const reply = new TextEncoder().encode(JSON.stringify({ execution, timestamp: now, clientToken }));
          for (const s of subscribers) s.next({ kind: 'message', message: { topic: `${topic}/accepted`, payload: reply } });
        });
      }),
    connection$: new Observable<Library.ConnectionState>(() => undefined),
  };
};

/** One describe at a time, on a client of the build at `entry`. */
const describer = (entry: string, callerStacks?: boolean): (() => Promise<void>) => {
  const library = createRequire(__filename)(entry) as typeof Library;
  const transport = library.mqttTransport(memoryPort());
  const jobs = library.createJobsClient({ thingName: 'bench-ours', transport, ...(callerStacks === undefined ? {} : { callerStacks }) });
  return async () => {
    await firstValueFrom(jobs.describeJobExecution({ jobId: benchJobId }));
  };
};

const main = async (): Promise<void> => {
  const [mode = 'seq', countText = '20000', ...builds] = process.argv.slice(2);
  const count = Number(countText);
  if ((mode !== 'seq' && mode !== 'flight') || !Number.isInteger(count) || count < 1) {
    throw new Error('usage: bench/overhead.ts seq|flight <count> [<build-dir>...]');
  }
  const run = (describe: () => Promise<void>, n: number) => (mode === 'seq' ? sequential(describe, n) : inFlight(describe, n, 64));
  if (builds.length === 0) {
    const describe = describer(oursEntry);
    await run(describe, 3000);
    const start = performance.now();
    const { cpuMs } = await run(describe, count);
    const elapsed = performance.now() - start;
    console.log(`${oursEntry} ${mode} ×${count}: ${((cpuMs / count) * 1000).toFixed(1)} µs CPU/request, ${((elapsed / count) * 1000).toFixed(1)} µs wall/request`);
  } else {
    const describers = builds.map(buildSpec).map((spec) => describer(spec.dir, spec.callerStacks));
    for (const describe of describers) await run(describe, 3000);
    const block = 2000;
    const perBlock = describers.map((): number[] => []);
    for (let round = 0; round < Math.ceil(count / block); round += 1) {
      for (let i = 0; i < describers.length; i += 1) {
        const k = (round + i) % describers.length; // rotating order
        const describe = describers[k];
        if (describe === undefined) continue;
        const { cpuMs } = await run(describe, block);
        perBlock[k]?.push((cpuMs / block) * 1000);
      }
    }
    const first = median(perBlock[0] ?? []);
    builds.forEach((build, k) => {
      const cpu = median(perBlock[k] ?? []);
      console.log(`${build} ${mode}: ${cpu.toFixed(1)} µs CPU/request (median of ${perBlock[k]?.length ?? 0} blocks of ${block}), ${(cpu / first).toFixed(3)}× the first`);
    });
  }
  // The reply subscription lingers 30 s by default; nothing else is left to wait for.
  process.exit(0);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
