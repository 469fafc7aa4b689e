/**
 * One cold-start sample (bench/run.ts and bench/https.ts): a fresh `node <coldOutDir>/<client>.js <args>`
 * (built from bench/cold/<client>.ts by bench/build.ts), its one-line report, and what the parent saw.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ColdReport } from '../cold/report';
import { coldOutDir } from './config';
import { oursEntry, root, waitExit } from './harness';

/** A child's report, plus what this process saw: spawn → the child's line, spawn → its exit. */
export interface ColdSample extends ColdReport {
  readonly spawnToReplyMs: number;
  readonly spawnToExitMs: number;
}

/** Where the compiled children are. */
export const coldDir = path.join(root, coldOutDir);

const isColdReport = (value: unknown, client: ColdReport['client']): value is ColdReport => {
  if (typeof value !== 'object' || value === null || !('client' in value) || value.client !== client) return false;
  const keys = ['startMs', 'requireMs', 'connectMs', 'describeMs', 'firstReplyMs', 'rss', 'heapUsed'];
  return keys.every((key) => key in value && typeof (value as Record<string, unknown>)[key] === 'number');
};

/** Runs one fresh child (ours loads the build named by `oursEntry`) and returns its sample. */
export const coldRun = async (client: ColdReport['client'], args: readonly string[]): Promise<ColdSample> => {
  const script = path.join(coldDir, `${client}.js`);
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_DIST: oursEntry },
  });
  let stdout = '';
  let lineAt = Number.NaN;
  child.stdout.on('data', (chunk: Buffer) => {
    if (Number.isNaN(lineAt)) lineAt = performance.now();
    stdout += chunk.toString();
  });
  const code = await waitExit(child, 20_000);
  const exitedAt = performance.now();
  if (code !== 0) throw new Error(`${path.relative(root, script)} exited with ${code}`);
  const parsed: unknown = JSON.parse(stdout.trim());
  if (!isColdReport(parsed, client)) throw new Error(`${path.relative(root, script)}: unexpected output ${stdout}`);
  return { ...parsed, spawnToReplyMs: lineAt - spawnedAt, spawnToExitMs: exitedAt - spawnedAt };
};
