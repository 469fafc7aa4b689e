import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Found by a new user's walkthrough: when one of the emulator's ports was taken, startEmulator() rejected
 * but left what it had already started (the aedes broker and its timers, the ports that did listen), so
 * `iot-jobs emulator` printed the error and never exited. The child takes one port, tries each position,
 * then releases everything it holds: it must exit by itself, and the ports opened before the failure must be
 * free again.
 */
const repoRoot = join(__dirname, '..', '..');

const child = `
const net = require('node:net');
const { startEmulator } = require('./src/emulator');
const listen = (port) => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve(server));
});
const freePort = async () => {
  const server = await listen(0);
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
};
(async () => {
  const busy = await listen(0);
  const taken = busy.address().port;
  for (const position of ['mqttPort', 'dataPort', 'controlPort']) {
    const ports = { mqttPort: await freePort(), dataPort: await freePort(), controlPort: await freePort() };
    ports[position] = taken;
    const outcome = await startEmulator(ports).then(
      async (emu) => { await emu.close(); return 'started'; },
      (error) => error.code ?? error.message,
    );
    // What listened before the failure was closed: every other port can be listened on again.
    const reusable = [];
    for (const [name, port] of Object.entries(ports)) {
      if (name === position) continue;
      const server = await listen(port).catch(() => undefined);
      reusable.push(server !== undefined);
      if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    }
    console.log(position, outcome, reusable.every(Boolean) ? 'released' : 'held');
  }
  busy.close();
})();
`;

it('emulator - a port in use rejects startEmulator and leaves nothing running: the process exits by itself', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => {
    const killer = setTimeout(() => {
      proc.kill('SIGKILL');
    }, 20_000);
    proc.once('exit', (exitCode) => {
      clearTimeout(killer);
      resolve(exitCode);
    });
  });
  expect(output.trim().split('\n')).toEqual(['mqttPort EADDRINUSE released', 'dataPort EADDRINUSE released', 'controlPort EADDRINUSE released']);
  expect(code).toBe(0);
}, 30_000);
