import { Command, CommanderError } from 'commander';
import { emulatorCommand } from './emulator';

/**
 * The `iot-jobs` command. Exit codes: 0 success, 1 a failure while running, 2 bad usage or configuration.
 * Errors print as one line; `--verbose` adds the stack.
 */
export const main = async (argv: readonly string[]): Promise<number> => {
  const program = new Command('iot-jobs')
    .description('AWS IoT Jobs for devices: run jobs, inspect them, and emulate the service locally')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  emulatorCommand(program);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const verbose = program.opts<{ verbose?: boolean }>().verbose === true;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`iot-jobs: ${verbose && error instanceof Error ? (error.stack ?? message) : message}\n`);
    return error instanceof Error && (error.name === 'StateFileError' || error.name === 'InvalidRequestError') ? 2 : 1;
  }
};

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
