// Cold start of iot-jobs-rx over HTTPS as a device runs it: plain `node`, the BUILT package (dist/index.js,
// CommonJS; BENCH_DIST, an absolute path set by the parent, may name another build; else ./dist).
// require → httpsTransport (SigV4) → one describeJobExecution → print one JSON line → exit by itself (the
// keep-alive agent's idle socket is unref'd). There is no connect step: the first request opens the socket.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Library from '../../src/index';
import { benchCredentials, benchRegion } from '../lib/config';
import { args, fail, guard, report } from './report';

const tStart = performance.now();
const { url, thingName, jobId } = args();
const timer = guard();

const entry = process.env.BENCH_DIST ?? path.resolve('dist');
const { createJobsClient, httpsTransport } = createRequire(__filename)(entry) as typeof Library;
const tRequired = performance.now();

const jobs = createJobsClient({ thingName, transport: httpsTransport({ endpoint: url, region: benchRegion, credentials: benchCredentials }) });
jobs.describeJobExecution({ jobId }).subscribe({
  next: (reply) => {
    const tReply = performance.now();
    const { rss, heapUsed } = process.memoryUsage();
    if (reply.execution?.jobId !== jobId) fail(new Error(`unexpected reply ${JSON.stringify(reply)}`));
    report({ client: 'http-ours', startMs: tStart, requireMs: tRequired - tStart, connectMs: 0, describeMs: tReply - tRequired, firstReplyMs: tReply, rss, heapUsed });
    clearTimeout(timer);
  },
  error: fail,
});
