/**
 * Profiles one client under the benchmark's load, for finding where its time goes:
 *
 *   node --cpu-prof --cpu-prof-dir=.bench/prof --import tsx bench/profile.ts ours flight 20000
 *   node --import tsx bench/profile.ts raw seq 5000
 *
 * Starts the same emulator child as bench/run.ts, warms the client up, then runs N requests
 * sequentially (`seq`) or 64 in flight (`flight`) and prints median, p99, requests/s and CPU per request.
 */
import { things } from './lib/config';
import { inFlight, log, oursClient, rawClient, sequential, startServer } from './lib/harness';
import { ms, summarize } from './lib/stats';

const main = async (): Promise<void> => {
  const [which = 'ours', mode = 'flight', countText = '10000'] = process.argv.slice(2);
  const count = Number(countText);
  if ((which !== 'ours' && which !== 'raw') || (mode !== 'seq' && mode !== 'flight') || !Number.isInteger(count) || count < 1) {
    throw new Error('usage: bench/profile.ts ours|raw seq|flight <count>');
  }
  const server = await startServer([things.raw, things.ours]);
  try {
    const client = which === 'ours' ? await oursClient(server.url, things.ours) : await rawClient(server.url, things.raw);
    await sequential(client.describe, 300);
    await inFlight(client.describe, 640, 64);
    const start = performance.now();
    const result = mode === 'seq' ? await sequential(client.describe, count) : await inFlight(client.describe, count, 64);
    const elapsed = performance.now() - start;
    const s = summarize(result.samples);
    log(
      `${which} ${mode} ×${count}: median ${ms(s.median)}, p99 ${ms(s.p99)}, ${Math.round((count / elapsed) * 1000)} req/s, ` +
        `CPU ${((result.cpuMs / count) * 1000).toFixed(0)} µs/request`,
    );
    await client.close();
  } finally {
    await server.stop();
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
