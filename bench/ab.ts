/**
 * Quick A/B of part (a) only: the raw mqtt.js floor against one or more CommonJS builds of ours, on one
 * emulator child, interleaved so that drift on a shared machine hits every client alike.
 *
 *   npx tsx --no-warnings bench/ab.ts [--rounds N] [--seq N] [--flight N] <build-dir>...   (default: dist)
 *
 * `<build-dir>:stacks` runs that build with `callerStacks: true`, `<build-dir>:nostacks` with `callerStacks: false`.
 * A plain `<build-dir>` runs with that build's default: taking the frames before 48098b4 (stop 13), not since.
 *
 * Each round runs N sequential requests of every client, one of each in turn (`alternating`), then, per
 * client in rotating order, N with 64 in flight. The report gives, per build, the median over rounds of its
 * ratio to the raw client of the same round (the ratios are what a noisy machine cannot shift much; absolute
 * figures move by ±30 %).
 */
import path from 'node:path';
import { benchJobId } from './lib/config';
import { alternating, buildSpec, inFlight, intFlag, log, oursClient, rawClient, root, sequential, startServer, type BenchClient } from './lib/harness';
import { median, ms, ratio, summarize, table } from './lib/stats';

const main = async (): Promise<void> => {
  const rounds = intFlag('rounds', 6);
  const seqCount = intFlag('seq', 400);
  const flightCount = intFlag('flight', 2000);
  const flags = new Set(['--rounds', '--seq', '--flight']);
  const args = process.argv.slice(2);
  const builds = args.filter((arg, i) => !flags.has(arg) && !flags.has(args[i - 1] ?? ''));
  const specs = (builds.length === 0 ? ['dist'] : builds).map(buildSpec);
  const entries = specs.map((spec) => spec.dir);
  const names = ['raw', ...entries.map((_, i) => `ours-${i}`)];
  const server = await startServer(names.map((name) => `ab-${name}`));
  try {
    log(`${server.url}: raw vs ${entries.map((e) => path.relative(root, e)).join(', ')}; ${rounds} rounds of ${seqCount} seq + ${flightCount} in flight; job ${benchJobId}`);
    const clients: BenchClient[] = [await rawClient(server.url, 'ab-raw')];
    for (const [i, spec] of specs.entries()) clients.push(await oursClient(server.url, `ab-ours-${i}`, spec.dir, spec.callerStacks));
    for (const client of clients) {
      await sequential(client.describe, 300);
      await inFlight(client.describe, 640, 64);
    }
    const seqMedian = names.map((): number[] => []);
    const seqCpu = names.map((): number[] => []);
    const rps = names.map((): number[] => []);
    const flightCpu = names.map((): number[] => []);
    for (let round = 0; round < rounds; round += 1) {
      const sequentials = await alternating(
        clients.map((client) => client.describe),
        seqCount,
      );
      for (const [k, s] of sequentials.entries()) {
        seqMedian[k]?.push(summarize(s.samples).median);
        seqCpu[k]?.push((s.cpuMs / seqCount) * 1000);
      }
      for (let j = 0; j < clients.length; j += 1) {
        const k = (round + j) % clients.length;
        const client = clients[k];
        if (client === undefined) continue;
        const f = await inFlight(client.describe, flightCount, 64);
        rps[k]?.push(f.perSecond);
        flightCpu[k]?.push((f.cpuMs / flightCount) * 1000);
      }
    }
    const ratios = (xs: readonly number[] | undefined, base: readonly number[] | undefined): number[] =>
      (xs ?? []).map((x, r) => x / (base?.[r] ?? Number.NaN));
    const label = (k: number): string => (k === 0 ? 'raw mqtt.js' : (specs[k - 1]?.label ?? ''));
    console.log(
      table([
        ['client', 'seq median', 'seq vs raw', 'seq CPU/req', '64 in flight', 'vs raw', 'flight CPU/req'],
        ...names.map((_, k) => [
          label(k),
          ms(median(seqMedian[k] ?? [])),
          ratio(median(ratios(seqMedian[k], seqMedian[0]))),
          `${median(seqCpu[k] ?? []).toFixed(0)} µs`,
          `${Math.round(median(rps[k] ?? []))}/s`,
          ratio(median(ratios(rps[k], rps[0]))),
          `${median(flightCpu[k] ?? []).toFixed(0)} µs`,
        ]),
      ]),
    );
    console.log('per round, vs raw (sequential median; 64-in-flight throughput):');
    for (let k = 1; k < names.length; k += 1) {
      console.log(`  ${label(k)} seq:    ${ratios(seqMedian[k], seqMedian[0]).map((x) => x.toFixed(2)).join(' ')}`);
      console.log(`  ${label(k)} flight: ${ratios(rps[k], rps[0]).map((x) => x.toFixed(2)).join(' ')}`);
    }
    for (const client of clients) await client.close();
  } finally {
    await server.stop();
  }
  process.exit(0);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
