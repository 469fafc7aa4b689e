import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * A linger only waits for a next user of a subscription; it must never keep Node alive. The child uses a
 * fake port (its connection$ never ends, as a custom port's may not), the default 30 s linger, one request
 * and one event stream it leaves, then has nothing left to do: it must exit by itself at once, not 30 s later.
 */
const repoRoot = join(__dirname, '..', '..');

const child = `
const { firstValueFrom } = require('rxjs');
const { createJobsClient, mqttTransport } = require('./src');
const { clientTokenOf, createFakeMqttPort } = require('./src/testing');
const port = createFakeMqttPort({ responder: (topic, payload) => [{ topic: topic + '/accepted', payload: JSON.stringify({ clientToken: clientTokenOf(payload), timestamp: 1 }) }] });
const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port) });
// An event stream used and left: its subscription lingers too.
const events = jobs.jobExecutionsChanged().subscribe();
firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' })).then(() => {
  events.unsubscribe();
  console.log('answered');
});
`;

it('mqtt transport - a lingering subscription does not keep Node alive: the process exits after its last request', async () => {
  const started = Date.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  proc.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => {
    const killer = setTimeout(() => { proc.kill('SIGKILL'); }, 15_000);
    proc.once('exit', (exitCode) => {
      clearTimeout(killer);
      resolve(exitCode);
    });
  });
  expect(output).toContain('answered');
  expect(code).toBe(0);
  // tsx start-up takes a second or two here; the linger would hold the process for 30 s.
  expect(Date.now() - started).toBeLessThan(12_000);
}, 20_000);
