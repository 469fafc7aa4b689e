// Cold start of iot-jobs-rx as a device runs it: plain `node`, the BUILT package (dist/index.js, CommonJS;
// BENCH_DIST, an absolute path set by bench/run.ts, may name another build to compare; else ./dist).
// require → connectMqtt → one describeJobExecution → print one JSON line → end the client → exit by itself.
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Library from '../../src/index';
import { args, fail, guard, report } from './report';

const tStart = performance.now();
const { url, thingName, jobId } = args();
const timer = guard();

const entry = process.env.BENCH_DIST ?? path.resolve('dist');
const { connectMqtt, createJobsClient, mqttTransport } = createRequire(__filename)(entry) as typeof Library;
const tRequired = performance.now();

connectMqtt({ url, clientId: `${thingName}-${process.pid}`, reconnectPeriodMs: 0 }).then((client) => {
  const tConnected = performance.now();
  const jobs = createJobsClient({ thingName, transport: mqttTransport(client) });
  jobs.describeJobExecution({ jobId }).subscribe({
    next: (reply) => {
      const tReply = performance.now();
      const { rss, heapUsed } = process.memoryUsage();
      if (reply.execution?.jobId !== jobId) fail(new Error(`unexpected reply ${JSON.stringify(reply)}`));
      const times = { requireMs: tRequired - tStart, connectMs: tConnected - tRequired, describeMs: tReply - tConnected };
      report({ client: 'ours', startMs: tStart, ...times, firstReplyMs: tReply, rss, heapUsed });
      client.end(true, () => {
        clearTimeout(timer);
      });
    },
    error: fail,
  });
}, fail);
