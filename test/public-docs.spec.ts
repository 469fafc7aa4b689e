import { join } from 'node:path';
import ts from 'typescript';

// Found by an independent audit (stop 11): four public response and event types, and some 40 members of public
// interfaces, had no TSDoc, which the project's standards ask of every public item. This pins it for every
// entry of the package.

const root = join(__dirname, '..');
const entries = ['src/index.ts', 'src/testing/index.ts', 'src/emulator/index.ts', 'src/agent/index.ts', 'src/transport/aws-crt.ts'];

/** Exports of `entry`, and members of its exported interfaces, with no documentation comment. */
const undocumented = (program: ts.Program, entry: string): string[] => {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(root, entry));
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (module === undefined) return [`${entry}: not found`];
  const docOf = (symbol: ts.Symbol): string => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  return checker.getExportsOfModule(module).flatMap((exported) => {
    const symbol = (exported.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(exported) : exported;
    const missing = docOf(symbol) === '' ? [`${entry}: ${exported.name}`] : [];
    if ((symbol.flags & ts.SymbolFlags.Interface) === 0) return missing;
    const members = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol));
    return [...missing, ...members.filter((member) => docOf(member) === '').map((member) => `${entry}: ${exported.name}.${member.name}`)];
  });
};

describe('public documentation', () => {
  it('tsdoc - every export of every entry, and every member of its exported interfaces, has a doc comment', () => {
    const program = ts.createProgram(
      entries.map((entry) => join(root, entry)),
      { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Preserve, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true, skipLibCheck: true, noEmit: true, types: ['node'] },
    );
    expect(entries.flatMap((entry) => undocumented(program, entry))).toEqual([]);
  });
});
