// Generates TypeScript types from an OpenAPI document with openapi-typescript, then type-checks every program in
// programs/ (strict, noEmit) against them with openapi-fetch, and prints, per program, the compiler's diagnostics:
// {types: <first lines of the generated types>, programs: {"allowed.ts": [], "forbidden-…ts": [{code, message, line}]}}.
// The .NET test decides which programs must compile and which must fail, and why.
// Usage: node openapi/client.mjs <document.json>
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { print } from '../lib/io.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const documentPath = process.argv[2];
if (!documentPath) throw new Error('usage: client.mjs <document.json>');
const document = JSON.parse(fs.readFileSync(documentPath, 'utf8'));

// Inside the contract folder, so the programs resolve openapi-fetch from its node_modules.
const work = fs.mkdtempSync(path.join(here, '.work-'));
try {
  const types = astToString(await openapiTS(document));
  fs.writeFileSync(path.join(work, 'schema.d.ts'), types);

  const programsDir = path.join(here, 'programs');
  const names = fs.readdirSync(programsDir).filter((f) => f.endsWith('.ts')).sort();
  const options = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    skipLibCheck: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  };
  const programs = {};
  for (const name of names) {
    // Each program on its own: one program's error must not hide or cause another's.
    const file = path.join(work, name);
    fs.copyFileSync(path.join(programsDir, name), file);
    const program = ts.createProgram([file], options);
    programs[name] = ts.getPreEmitDiagnostics(program).map((d) => ({
      code: d.code,
      file: d.file ? path.basename(d.file.fileName) : null,
      line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : null,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
  }
  print({ typesLength: types.length, programs });
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
