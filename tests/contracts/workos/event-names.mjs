// Prints the EventName union of @workos-inc/node (Event['event']), read from the SDK's type definitions with the
// TypeScript compiler: the list of every event name WorkOS knows.
import path from 'node:path';
import ts from 'typescript';
import { contractsDir } from './lib.mjs';
import { print } from '../lib/io.mjs';

const file = path.join(contractsDir, 'workos', '__event-names.ts');
const source = "import type { EventName } from '@workos-inc/node';\nexport type Names = EventName;\n";
const options = {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
  strict: true, noEmit: true, skipLibCheck: true,
};
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile.bind(host);
const fileExists = host.fileExists.bind(host);
const readFile = host.readFile.bind(host);
host.getSourceFile = (name, language, ...rest) => name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
host.fileExists = (name) => name === file || fileExists(name);
host.readFile = (name) => name === file ? source : readFile(name);

const program = ts.createProgram([file], options, host);
const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length) throw new Error(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
const checker = program.getTypeChecker();
const alias = program.getSourceFile(file).statements.find((s) => ts.isTypeAliasDeclaration(s) && s.name.text === 'Names');
const type = checker.getTypeAtLocation(alias.name);
const names = (type.isUnion() ? type.types : [type]).map((t) => t.value);
if (names.some((n) => typeof n !== 'string')) throw new Error('EventName is not a union of string literals');
print([...new Set(names)].sort());
