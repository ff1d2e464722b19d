/**
 * @module Builds of the browser SDK (`npm run build`):
 * - dist/public/sdk/v1.js          IIFE for the script tag (global `Vouchsafe`, js-cookie inside), minified
 * - dist/public/sdk/snippet.min.js the loader snippet, minified
 * - dist/client/index.js (+ .d.ts) ESM for bundlers, js-cookie inside so the file also loads as is
 * - dist/server/identity.js (+ .d.ts) ESM for a shop's backend: signIdentity (identity verification)
 * - dist/public/demo/              the demo storefront (client/demo), copied as is
 * - dist/public/console/assets/    the operator console's static files: its stylesheet
 *                                  (client/console) and htmx, named by htmx's version so that
 *                                  browsers may keep it for a year (worker/src/console/assets.ts)
 */
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { transform } from 'esbuild';
import ts from 'typescript';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const root = here('..');

// ES2020 keeps `?.` and `??` native (every browser with fetch + WebCrypto has them) instead of
// paying bytes for their down-levelled form.
const TARGET = 'es2020';

/** TypeScript to JavaScript, file by file; type-checking is `tsc`'s job, not the bundler's. */
const esbuildTs = () => ({
  name: 'esbuild-ts',
  async transform(code, id) {
    if (!id.endsWith('.ts')) return null;
    const out = await transform(code, { loader: 'ts', target: TARGET, sourcefile: id, sourcemap: true });
    return { code: out.code, map: out.map };
  },
});

/**
 * Emits the .d.ts files of `entry` next to its ESM build with the TypeScript API: those of the
 * files under `dir` (the entry's own folder; it may import from shared/ too). The program sees the
 * DOM lib and no Workers types, like a consumer's project would, and a type error fails the build.
 */
const declarations = (entry, dir) => ({
  name: 'declarations',
  generateBundle() {
    const program = ts.createProgram([here(entry)], {
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: root,
      outDir: root,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    if (diagnostics.length) {
      const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
      this.error(ts.formatDiagnostics(diagnostics, host));
    }
    const own = here(dir);
    program.emit(undefined, (fileName, text) => {
      if (fileName.startsWith(own)) this.emitFile({ type: 'asset', fileName: fileName.slice(own.length), source: text });
    });
  },
});

/** Copies the demo storefront (plain HTML, CSS and JS, no build step) next to the SDK it loads. */
const copyDemo = () => ({
  name: 'copy-demo',
  buildStart() {
    for (const file of readdirSync(here('./demo'))) this.addWatchFile(here(`./demo/${file}`));
  },
  writeBundle() {
    rmSync(here('../dist/public/demo'), { recursive: true, force: true });
    cpSync(here('./demo'), here('../dist/public/demo'), { recursive: true });
  },
});

/** The console's own stylesheet and the htmx build it loads, never from a CDN. */
const copyConsole = () => ({
  name: 'copy-console',
  buildStart() {
    for (const file of readdirSync(here('./console'))) this.addWatchFile(here(`./console/${file}`));
  },
  writeBundle() {
    rmSync(here('../dist/public/console'), { recursive: true, force: true });
    const out = here('../dist/public/console/assets');
    cpSync(here('./console'), out, { recursive: true });
    const htmx = here('../node_modules/htmx.org');
    const { version } = JSON.parse(readFileSync(`${htmx}/package.json`, 'utf8'));
    mkdirSync(out, { recursive: true });
    copyFileSync(`${htmx}/dist/htmx.min.js`, `${out}/htmx-${version}.min.js`);
  },
});

const resolve = () => nodeResolve({ extensions: ['.ts', '.mjs', '.js'], browser: true });

const minify = () =>
  // 'some' keeps /*! ... */ notices: js-cookie's MIT licence line ships with the bundle.
  terser({ ecma: 2020, compress: { passes: 2 }, format: { comments: 'some' } });

export default [
  {
    input: here('./global.ts'),
    output: { file: here('../dist/public/sdk/v1.js'), format: 'iife', plugins: [minify()] },
    plugins: [resolve(), esbuildTs(), copyDemo(), copyConsole()],
  },
  {
    input: here('./snippet.js'),
    output: { file: here('../dist/public/sdk/snippet.min.js'), format: 'es', plugins: [minify()] },
  },
  {
    input: here('./index.ts'),
    output: { dir: here('../dist/client'), format: 'es', entryFileNames: 'index.js' },
    plugins: [resolve(), esbuildTs(), declarations('./index.ts', './')],
  },
  {
    input: here('../shared/identity.ts'),
    output: { file: here('../dist/server/identity.js'), format: 'es' },
    plugins: [esbuildTs(), declarations('../shared/identity.ts', '../shared/')],
  },
];
