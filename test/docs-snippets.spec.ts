import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

// Found by an independent audit (stop 11): the README's usage example, pasted into a project with the
// compiler options this package itself uses, did not type-check (`expectedVersion` may be undefined under
// exactOptionalPropertyTypes). Every ```ts block of README.md and docs/ is now type-checked, against src/.

const root = join(__dirname, '..');

/** The ```ts blocks of `file`, each with the line it starts on. */
const blocksOf = (file: string): { name: string; code: string }[] => {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks: { name: string; code: string }[] = [];
  for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const line = text.slice(0, match.index).split('\n').length;
    blocks.push({ name: `${file}:${line}`, code: match[1] ?? '' });
  }
  return blocks;
};

// What the snippets use without defining: names from earlier in the same page, or plainly the reader's own.
// Declared global, so that a snippet's own import or declaration of the same name takes precedence.
const prelude = `
import type * as Library from 'iot-jobs-rx';
import type * as Emulator from 'iot-jobs-rx/emulator';
import type * as Rx from 'rxjs';
import type * as t from 'io-ts';
import type { MqttClient } from 'mqtt';
import type { Observable } from 'rxjs';
import type { HandlerEvent } from 'iot-jobs-rx/agent';
import type { mqtt } from 'aws-iot-device-sdk-v2';
declare global {
  const cert: string, key: string, ca: string, url: string;
  const client: MqttClient;
  const config: mqtt.MqttConnectionConfig;
  const emu: Emulator.Emulator;
  const MyDocument: t.Type<{ operation: string }>;
  const Firmware: t.Type<{ operation: 'install'; url: string; sha256: string }>;
  const jobs: Library.JobsClient<{ operation: 'install'; url: string; sha256: string }>;
  const downloadAndInstall: (document: { url: string; sha256: string }, signal: AbortSignal) => Observable<HandlerEvent>;
  const log: { warn: (...args: unknown[]) => void };
  const readFileSync: typeof import('node:fs').readFileSync;
  const startEmulator: typeof Emulator.startEmulator;
  const createJobsClient: typeof Library.createJobsClient;
  const mqttTransport: typeof Library.mqttTransport;
  const httpsTransport: typeof Library.httpsTransport;
  const iotCredentialsProvider: typeof Library.iotCredentialsProvider;
  const merge: typeof Rx.merge, map: typeof Rx.map, tap: typeof Rx.tap, ignoreElements: typeof Rx.ignoreElements;
}
export {};
`;

const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`)];
const snippets = docs.flatMap(blocksOf);

describe('documentation snippets', () => {
  it('docs - there are snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
  });

  it('docs - every ```ts block in README.md and docs/ type-checks against src/ with the package\'s own strict options', () => {
    const files = new Map<string, string>([[join(root, 'test', '__snippets__', 'prelude.ts'), prelude]]);
    for (const [i, snippet] of snippets.entries()) files.set(join(root, 'test', '__snippets__', `snippet-${i}.ts`), `${snippet.code}\nexport {};\n`);
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts'],
      module: ts.ModuleKind.Preserve,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      baseUrl: root,
      paths: {
        'iot-jobs-rx': ['src/index.ts'],
        'iot-jobs-rx/testing': ['src/testing/index.ts'],
        'iot-jobs-rx/emulator': ['src/emulator/index.ts'],
        'iot-jobs-rx/agent': ['src/agent/index.ts'],
        'iot-jobs-rx/aws-crt': ['src/transport/aws-crt.ts'],
      },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
    host.readFile = (name) => files.get(name) ?? readFile(name);
    host.getSourceFile = (name, language, onError, create) => {
      const text = files.get(name);
      return text === undefined ? getSourceFile(name, language, onError, create) : ts.createSourceFile(name, text, language, true);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file !== undefined && files.has(diagnostic.file.fileName))
      .map((diagnostic) => {
        const file = diagnostic.file;
        const index = Number(/snippet-(\d+)\.ts$/.exec(file?.fileName ?? '')?.[1] ?? -1);
        const line = file === undefined || diagnostic.start === undefined ? 0 : file.getLineAndCharacterOfPosition(diagnostic.start).line;
        const where = snippets[index]?.name ?? 'prelude';
        return `${where} (+${line}): ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  });
});
