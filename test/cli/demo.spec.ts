import { jsonLines, runCli } from './helpers';

/** `iot-jobs demo` (what `npm start` runs): deterministic, loopback only, every job ends as expected. */
describe('iot-jobs demo', () => {
  it('cli demo - runs the four sample jobs to their expected statuses and prints the table', async () => {
    const run = await runCli(['demo']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const table = run.stdout.slice(run.stdout.indexOf('JOB'));
    expect(table).toMatch(/firmware-2-1-0\s+SUCCEEDED\s+version=2\.1\.0 previous=2\.0\.0/);
    expect(table).toMatch(/calibrate-bme280\s+FAILED\s+sensor bme280 did not answer/);
    expect(table).toMatch(/health-check\s+SUCCEEDED\s+Job exited with status: 0/);
    expect(table).toMatch(/collect-diagnostics\s+CANCELED/);
    expect(run.stdout).toContain('Every job ended as expected');
  }, 60_000);

  it('cli demo - --json prints the runner events, then a summary, one JSON document per line', async () => {
    const run = await runCli(['demo', '--json']);
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const summary = lines.at(-1);
    expect(summary).toMatchObject({
      kind: 'summary',
      ok: true,
      executions: [
        { jobId: 'firmware-2-1-0', status: 'SUCCEEDED' },
        { jobId: 'calibrate-bme280', status: 'FAILED' },
        { jobId: 'health-check', status: 'SUCCEEDED' },
        { jobId: 'collect-diagnostics', status: 'CANCELED' },
      ],
    });
    expect(lines).toContainEqual(expect.objectContaining({ kind: 'canceled', jobId: 'collect-diagnostics', status: 'CANCELED' }));
    // The canceled job got no status from the device after its cancellation.
    expect(lines.filter((line) => typeof line === 'object' && line !== null && 'kind' in line && line.kind === 'reported' && 'jobId' in line && line.jobId === 'collect-diagnostics')).toEqual([]);
  }, 60_000);
});
