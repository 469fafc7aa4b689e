// Baseline: an empty Node process (no require, no network); what every cold start pays before user code.
import { report } from './report';

const memory = process.memoryUsage();
const now = performance.now();
report({ client: 'empty', startMs: now, requireMs: 0, connectMs: 0, describeMs: 0, firstReplyMs: now, rss: memory.rss, heapUsed: memory.heapUsed });
