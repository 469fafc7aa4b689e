/**
 * Where a sequential round trip's time goes on the client, ours against raw mqtt.js, on the same emulator
 * child: timestamps at the PUBLISH of a request, at the arrival of its reply packet, when the caller gets the
 * reply, and at the next PUBLISH. Medians over N round trips.
 *
 *   npx tsx bench/build.ts && npx tsx --no-warnings bench/gap.ts [N]      (default 2000)
 *
 * `reply → caller` is the client's work on a reply (parse, correlate, decode, complete); `caller → publish`
 * its work to send the next request (for ours: the call, the caller's stack, encode, token, subscribe,
 * publish). The rest of the round trip is the network and the emulator.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { firstValueFrom } from 'rxjs';
import type * as Library from '../src/index';
import { benchJobId } from './lib/config';
import { log, oursEntry, startServer } from './lib/harness';
import { median } from './lib/stats';

/** `pause`: the other client's turn; no span crosses it. */
type Mark = 'publish' | 'packet' | 'caller' | 'pause';

/** Records when `client` publishes and when a PUBLISH packet arrives. */
const watch = (client: MqttClient, marks: [Mark, number][]): void => {
  client.prependListener('packetsend', (packet) => {
    if (packet.cmd === 'publish') marks.push(['publish', performance.now()]);
  });
  client.prependListener('packetreceive', (packet) => {
    if (packet.cmd === 'publish') marks.push(['packet', performance.now()]);
  });
};

/** Median µs from each `from` mark to the next `to` mark. */
const gap = (marks: readonly [Mark, number][], from: Mark, to: Mark): string => {
  const spans: number[] = [];
  marks.forEach(([mark, at], i) => {
    if (mark !== from) return;
    const next = marks.slice(i + 1, i + 6).find(([other]) => other === to || other === 'pause');
    if (next !== undefined && next[0] === to) spans.push(next[1] - at);
  });
  return `${(median(spans) * 1000).toFixed(1)} µs`;
};

const report = (name: string, marks: readonly [Mark, number][]): void => {
  log(`${name.padEnd(5)} publish → reply packet ${gap(marks, 'publish', 'packet')}; reply packet → caller ${gap(marks, 'packet', 'caller')}; caller → next publish ${gap(marks, 'caller', 'publish')}`);
};

const main = async (): Promise<void> => {
  const count = Number(process.argv[2] ?? '2000');
  const server = await startServer(['gap-raw', 'gap-ours']);
  try {
    const library = createRequire(__filename)(oursEntry) as typeof Library;
    const ours = await library.connectMqtt({ url: server.url, clientId: 'gap-ours', reconnectPeriodMs: 0 });
    const jobs = library.createJobsClient({ thingName: 'gap-ours', transport: library.mqttTransport(ours) });
    const oursDescribe = async (): Promise<void> => {
      await firstValueFrom(jobs.describeJobExecution({ jobId: benchJobId }));
    };

    const raw = await mqtt.connectAsync(server.url, { clientId: 'gap-raw', reconnectPeriod: 0 });
    // As bench/lib/harness.ts's raw client: TCP_NODELAY, or each round trip waits for Nagle.
    if (raw.stream instanceof Socket) raw.stream.setNoDelay(true);
    const waiting = new Map<string, () => void>();
    raw.on('message', (_topic, payload) => {
      const body: unknown = JSON.parse(payload.toString());
      const token = typeof body === 'object' && body !== null && 'clientToken' in body ? body.clientToken : undefined;
      if (typeof token !== 'string') return;
      waiting.get(token)?.();
      waiting.delete(token);
    });
    await raw.subscribeAsync('$aws/things/gap-raw/jobs/+/get/+', { qos: 1 });
    let n = 0;
    const rawDescribe = (): Promise<void> =>
      new Promise((resolve) => {
        n += 1;
        const clientToken = `raw-${String(n)}`;
        waiting.set(clientToken, resolve);
        raw.publish(`$aws/things/gap-raw/jobs/${benchJobId}/get`, JSON.stringify({ clientToken }), { qos: 1 });
      });

    const clients = [
      { name: 'ours', client: ours, describe: oursDescribe, marks: new Array<[Mark, number]>() },
      { name: 'raw', client: raw, describe: rawDescribe, marks: new Array<[Mark, number]>() },
    ];
    for (const { describe } of clients) for (let i = 0; i < 300; i += 1) await describe();
    for (const { client, marks } of clients) watch(client, marks);
    // Rounds in alternating order: the emulator child warms up as it runs, which would favour the second.
    const rounds = 10;
    for (let round = 0; round < rounds; round += 1) {
      for (const { describe, marks } of round % 2 === 0 ? clients : [...clients].reverse()) {
        for (let i = 0; i < Math.ceil(count / rounds); i += 1) {
          await describe();
          marks.push(['caller', performance.now()]);
        }
        marks.push(['pause', performance.now()]);
      }
    }
    await ours.endAsync(true);
    await raw.endAsync(true);
    for (const { name, marks } of clients) report(name, marks);
  } finally {
    await server.stop();
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
