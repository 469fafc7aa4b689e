/**
 * The server side of the benchmark, in its own process so the measuring process is not also the broker:
 * the emulator (aedes broker with the Jobs service, TCP_NODELAY on its sockets) on ephemeral loopback
 * ports, with one QUEUED job (`benchJobId`) targeting every thing named on the command line.
 *
 * Prints `READY <mqtt-url> <data-endpoint>` on stdout once it can answer (the data plane: plain HTTP,
 * SigV4 with `benchCredentials`). Exits when stdin closes (its parent is gone), on
 * SIGTERM/SIGINT, or after 20 minutes at the latest.
 *
 *   node --import tsx bench/server.ts thing-a thing-b
 */
import { startEmulator } from '../src/emulator';
import { benchCredentials, benchJobDocument, benchJobId } from './lib/config';

const main = async (): Promise<void> => {
  const things = process.argv.slice(2);
  const emulator = await startEmulator({ credentials: benchCredentials });
  const created = emulator.engine.createJob({
    jobId: benchJobId,
    targets: things.map((thing) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`),
    document: JSON.stringify(benchJobDocument),
  });
  if (!created.ok) throw new Error(created.message);

  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    clearTimeout(lifetime);
    void emulator.close().finally(() => process.exit(0));
  };
  const lifetime = setTimeout(close, 20 * 60_000);
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
  process.stdin.on('end', close);
  process.stdin.on('close', close);
  process.stdin.resume();
  process.stdout.write(`READY ${emulator.mqttUrl} ${emulator.dataEndpoint}\n`);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
