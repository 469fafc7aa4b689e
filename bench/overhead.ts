/**
 * The library's own CPU per describeJobExecution, without mqtt.js, broker or network: the client runs on an
 * in-memory MqttPort that grants every SUBSCRIBE and answers every PUBLISH on the next macrotask with the
 * same reply the responder sends. What remains is token, encode, the RxJS pipeline, correlation, JSON
 * parsing and io-ts decoding.
 *
 *   node --import tsx bench/overhead.ts [seq|flight] [count]      (flight = 64 in flight)
 *   BENCH_DIST=<dir> node --import tsx bench/overhead.ts ...       (another CommonJS build)
 */
import { createRequire } from 'node:module';
import { Observable, firstValueFrom, type Subscriber } from 'rxjs';
import type * as Library from '../src/index';
import { benchJobDocument, benchJobId } from './lib/config';
import { inFlight, oursEntry, sequential } from './lib/harness';

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

const main = async (): Promise<void> => {
  const [mode = 'seq', countText = '20000'] = process.argv.slice(2);
  const count = Number(countText);
  if ((mode !== 'seq' && mode !== 'flight') || !Number.isInteger(count) || count < 1) throw new Error('usage: bench/overhead.ts seq|flight <count>');
  const library = createRequire(__filename)(oursEntry) as typeof Library;
  const jobs = library.createJobsClient({ thingName: 'bench-ours', transport: library.mqttTransport(memoryPort()) });
  const describe = async (): Promise<void> => {
    await firstValueFrom(jobs.describeJobExecution({ jobId: benchJobId }));
  };
  const run = (n: number) => (mode === 'seq' ? sequential(describe, n) : inFlight(describe, n, 64));
  await run(3000);
  const start = performance.now();
  const { cpuMs } = await run(count);
  const elapsed = performance.now() - start;
  console.log(`${oursEntry} ${mode} ×${count}: ${((cpuMs / count) * 1000).toFixed(1)} µs CPU/request, ${((elapsed / count) * 1000).toFixed(1)} µs wall/request`);
  // The reply subscription lingers 30 s by default; nothing else is left to wait for.
  process.exit(0);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
