import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type Argv, splitCommand } from '../agent/device-client/command';
import { deviceClientHandler } from '../agent/device-client-handler';
import { firmwareUpdateHandler } from '../agent/firmware/handler';
import type { JobHandler } from '../agent/handler';
import { runJobs } from '../agent/run-jobs';
import { millisecondsArg, stepTimeoutArg } from './args';
import { deviceCommand, withClient } from './device-command';
import { ConfigError } from './errors';
import type { CliIo } from './io';
import { lastValueFrom, takeUntil, takeWhile } from './rx';
import { stopRequested } from './stop';

/** Where Device Client keeps its handlers; `run` uses the same folder unless `--handlers` says otherwise. */
export const defaultHandlerDir = (): string => join(homedir(), '.aws-iot-device-client', 'jobs');

/** The journal `run` keeps unless `--journal` says otherwise. */
export const defaultJournalPath = (): string => join(homedir(), '.iot-jobs', 'journal.json');

interface RunFlags {
  readonly installDir?: string;
  readonly reboot?: Argv;
  readonly selfTest?: Argv;
  readonly allowUrl: string[];
  readonly handlers?: string;
  readonly allowCommands?: boolean;
  readonly journal?: string;
  readonly stepTimeout?: number;
  readonly jobTimeout?: number;
  readonly progressInterval?: number;
  readonly pollInterval?: number;
  readonly once?: boolean;
}

/** A command line as Device Client writes one: arguments separated by commas (`\,` for a comma). */
const argvArg = (value: string): Argv => {
  const split = splitCommand(value);
  if (!split.ok) throw new InvalidArgumentError(split.reason);
  return split.argv;
};

/**
 * The handlers `run` offers: firmware updates into `--install-dir` when given (first: its documents are
 * `{"operation": "firmware-update", …}`), then AWS IoT Device Client job documents from the handler folder.
 */
const handlersOf = (flags: RunFlags, io: CliIo): JobHandler[] => [
  ...(flags.installDir === undefined
    ? []
    : [
        firmwareUpdateHandler({
          installDir: resolve(io.cwd, flags.installDir),
          ...(flags.reboot === undefined ? {} : { reboot: flags.reboot }),
          ...(flags.selfTest === undefined ? {} : { selfTest: flags.selfTest }),
          ...(flags.allowUrl.length === 0 ? {} : { allowedUrlPrefixes: flags.allowUrl }),
        }),
      ]),
  deviceClientHandler({ handlerDir: resolve(io.cwd, flags.handlers ?? defaultHandlerDir()), allowCommands: flags.allowCommands === true, cwd: io.cwd }),
];

/**
 * `iot-jobs run`: the job runner (docs/agent.md) for this thing until SIGINT or SIGTERM (or, with `--once`,
 * until the queue is empty), then a clean stop: a running job is left in the journal to resume or end
 * FAILED "interrupted" at the next start. Progress bars on a terminal, plain lines otherwise, JSON lines
 * with `--json`. Exits 1 when the journal cannot be written.
 */
export const runCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'run', 'run this thing\'s jobs (AWS IoT Device Client job documents, firmware updates), journaled so a restart resumes')
    .option('--handlers <dir>', `allow-listed folder of runHandler programs (default ${defaultHandlerDir()})`)
    .option('--allow-commands', 'let job documents run commands (runCommand); off by default')
    .option('--journal <file>', `the runner's journal (default ${defaultJournalPath()})`)
    .option('--step-timeout <minutes>', 'the service\'s step timer, renewed while a job runs (default: none)', stepTimeoutArg)
    .option('--job-timeout <ms>', 'fail a job that runs longer (default: none)', millisecondsArg)
    .option('--progress-interval <ms>', 'least time between progress updates (default 5000)', millisecondsArg)
    .option('--poll-interval <ms>', 'look for jobs this often besides notifications (default 300000)', millisecondsArg)
    .option('--once', 'run the pending jobs, then exit')
    .option('--install-dir <dir>', 'run firmware-update jobs too, installing into <dir> (releases/<version>, current symlink)')
    .option('--reboot <command>', 'firmware: the command that reboots, comma-separated as in Device Client, e.g. sudo,systemctl,reboot', argvArg)
    .option('--self-test <command>', 'firmware: a health check run with the new release active (exit 0 = healthy)', argvArg)
    .option('--allow-url <prefix>', 'firmware: a URL prefix images may come from, ending with / (repeatable; default any https://)', (v: string, all: string[]) => [...all, v], [])
    .action(async (flags: RunFlags, command: Command) => {
      if (flags.installDir === undefined && (flags.reboot !== undefined || flags.selfTest !== undefined || flags.allowUrl.length > 0)) {
        throw new ConfigError('--reboot, --self-test and --allow-url configure firmware updates: they need --install-dir');
      }
      const journal = resolve(io.cwd, flags.journal ?? defaultJournalPath());
      // Made before connecting: they check their options (`--allow-url`, ...), and a refusal must come first.
      const handlers = handlersOf(flags, io);
      await withClient(command, io, async ({ opened: { client, reconnected$ }, json }) => {
        const runner = runJobs(client, {
          handlers,
          journal,
          reconnected: reconnected$,
          ...(flags.stepTimeout === undefined ? {} : { stepTimeoutInMinutes: flags.stepTimeout }),
          ...(flags.jobTimeout === undefined ? {} : { jobTimeoutMs: flags.jobTimeout }),
          ...(flags.progressInterval === undefined ? {} : { progressIntervalMs: flags.progressInterval }),
          ...(flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval }),
        });
        // Loaded here, so other commands do not load cli-progress.
        const { renderProgress } = await import('./progress');
        const events = runner.pipe(renderProgress({ tty: !json && io.stdout.isTTY === true, json, write: (text) => io.stdout.write(text) }));
        // --once: until the first `idle` (the queue is empty), included.
        const bounded = flags.once === true ? events.pipe(takeWhile((event) => event.kind !== 'idle', true)) : events;
        await lastValueFrom(bounded.pipe(takeUntil(stopRequested(io))), { defaultValue: undefined });
      }, {}, { stoppable: true });
    });
};
