// Bundles the compiled server (dist/server.js, decorator metadata already emitted by tsc) into
// one ES module, dist/bundle/server.mjs, which dist/main.js loads when it exists. Node then reads
// one file instead of resolving ~1,500 modules: start-up to the first 200 went from ~610 ms to
// ~380 ms and idle RSS fell by ~15 MB on the project's 2-core machine; minifying whitespace and syntax
// (names kept: Nest uses class names) took another ~3 MB of source off the heap. node_modules stays beside
// it: packages Nest loads only if installed, and the Swagger UI assets, are resolved from there.
// The plugins, the footer and the checks after the build keep work the service never uses off
// every start and request (README, "Benchmarks"); each says what it measured.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

const OUTFILE = 'dist/bundle/server.mjs';
// With --nest-floor (`npm run bench`), also the bench's framework floor (bench/nest-floor-server.mjs),
// built the same way so that it compares; the service's build (the Docker image's too) leaves it out.
const FLOOR_OUTFILE = process.argv.includes('--nest-floor') ? 'dist/bundle/nest-floor.mjs' : undefined;
const requireHere = createRequire(import.meta.url);
const requireFromBundle = createRequire(resolve(OUTFILE));

/**
 * Built-ins that ES modules import through `require`. For `import ... from 'http'` (Nest's
 * packages are ES modules), Node builds a view of the built-in by reading every export, and some
 * exports are lazy getters for what the service never uses: `http`'s `WebSocket`, `CloseEvent`
 * and `MessageEvent` load undici (~50 ms of main-thread CPU before the first 200 on this machine),
 * `tls.rootCertificates` builds the bundled root certificates, `crypto.webcrypto` loads Web Crypto.
 * The shim exports the module's plain (non-getter) properties by name, so importing a getter fails
 * the build (see `logOverride`). `require()` calls are left alone: they get the module itself.
 */
const THROUGH_REQUIRE = /^(?:node:)?(http|tls|crypto)$/;
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(esbuild) {
    esbuild.onResolve({ filter: THROUGH_REQUIRE }, ({ path, kind }) =>
      kind === 'import-statement' || kind === 'dynamic-import'
        ? { path: THROUGH_REQUIRE.exec(path)[1], namespace: 'builtin-through-require' }
        : undefined,
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'builtin-through-require' }, ({ path }) => {
      const descriptors = Object.getOwnPropertyDescriptors(requireHere(`node:${path}`));
      const plain = Object.keys(descriptors).filter((name) => 'value' in descriptors[name] && /^[A-Za-z_$][\w$]*$/.test(name));
      return {
        contents:
          "import { createRequire } from 'node:module';\n" +
          `const builtin = createRequire(import.meta.url)('node:${path}');\n` +
          `export const { ${plain.join(', ')} } = builtin;\n` +
          'export default builtin;\n',
        loader: 'js',
      };
    });
  },
};

/**
 * Work that dependencies do when their module loads, for features this service never uses, moved
 * to first use. Each edit must match exactly once in each of its `files`, and the lazy stand-in
 * must cover every use of the name, or the build fails: an upgrade that changes the code cannot
 * silently undo an edit.
 * - Nest's two loggers each build an `Intl.DateTimeFormat` for a timestamp only Nest's console
 *   logger prints (this service logs through pino). The first one loads ICU's locale data:
 *   ~25 ms and ~8 MB of RSS at every start.
 * - class-validator's `IsPhoneNumber` loads libphonenumber-js and its metadata (~22 ms in a
 *   start-up profile); the service validates no phone numbers (class-validator checks only its
 *   environment). Were the package missing, `isPhoneNumber` would answer false instead of the
 *   service failing to start.
 */
const LAZY_EDITS = [
  {
    file: /[\\/]@nestjs[\\/]common[\\/]services[\\/](console-)?logger\.service\.js$/,
    files: 2,
    eager: 'const dateTimeFormatter = new Intl.DateTimeFormat(',
    lazy: 'const dateTimeFormatter = lazyDateTimeFormat(',
    name: 'dateTimeFormatter',
    covered: 'dateTimeFormatter.format(',
    append:
      'function lazyDateTimeFormat(locales, options) {\n' +
      '  let formatter;\n' +
      '  return { format: (date) => (formatter ??= new Intl.DateTimeFormat(locales, options)).format(date) };\n' +
      '}\n',
  },
  {
    file: /[\\/]class-validator[\\/]cjs[\\/]decorator[\\/]string[\\/]IsPhoneNumber\.js$/,
    files: 1,
    eager: 'const max_1 = require("libphonenumber-js/max");',
    lazy: 'const max_1 = { get parsePhoneNumber() { return require("libphonenumber-js/max").parsePhoneNumber; } };',
    name: 'max_1',
    covered: 'max_1.parsePhoneNumber',
  },
];
const edited = new Map(LAZY_EDITS.map((edit) => [edit, 0]));
const lazyDependencyWork = {
  name: 'lazy-dependency-work',
  setup(esbuild) {
    for (const edit of LAZY_EDITS) {
      esbuild.onLoad({ filter: edit.file }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        const count = (text) => source.split(text).length - 1;
        if (count(edit.eager) !== 1) throw new Error(`${path}: expected "${edit.eager}" once; update LAZY_EDITS in scripts/bundle.mjs`);
        if (count(edit.name) !== 1 + count(edit.covered)) {
          throw new Error(`${path}: "${edit.name}" is used other than as "${edit.covered}"; update LAZY_EDITS in scripts/bundle.mjs`);
        }
        edited.set(edit, edited.get(edit) + 1);
        return { contents: source.replace(edit.eager, edit.lazy) + (edit.append ?? ''), loader: 'js', resolveDir: dirname(path) };
      });
    }
  },
};

/**
 * validator.js's modules whose regular expressions hold non-ASCII letters (esbuild escapes them in
 * strings, not in regex literals), loaded from node_modules instead of bundled. One such character
 * makes V8 hold the whole 3.7 MB bundle as a two-byte string and decode it the slow way: bundling
 * them cost ~4 MB of RSS and ~30 ms at every start. The build checks that the bundle is ASCII, and
 * that the bundle's `require` finds the same file as the importing module would.
 */
const NON_ASCII_VALIDATORS = /(?:^|[\\/])(alpha|isIdentityCard|isLicensePlate|isStrongPassword|isTaxID|isVAT)(?:\.js)?$/;
const nonAsciiValidatorsOutside = {
  name: 'non-ascii-validators-outside',
  setup(esbuild) {
    esbuild.onResolve({ filter: NON_ASCII_VALIDATORS }, ({ path, importer }) => {
      const target = createRequire(importer).resolve(path);
      if (!/[\\/]node_modules[\\/]validator[\\/]lib[\\/]\w+\.js$/.test(target)) return undefined;
      const spec = `validator/lib/${NON_ASCII_VALIDATORS.exec(path)[1]}.js`;
      if (requireFromBundle.resolve(spec) !== target) throw new Error(`${OUTFILE} would load ${spec} from elsewhere than ${target}`);
      return { path: spec, external: true };
    });
  },
};

// keepNames makes esbuild call its helper __name(fn, "name") wherever a named function is created,
// including the functions Fastify's hook runners create on every request, and each call is an
// Object.defineProperty: ~3 % of a GET's main-thread time in a profile. Once the modules have
// loaded, this footer makes the helper skip functions whose name is already right (same result).
const NAME_HELPER =
  '__name = (target, value) => (target.name === value ? target : __defProp(target, "name", { value, configurable: true }));';

await build({
  // One build, so each dependency is loaded (and edited) once; each entry still gets a whole bundle.
  entryPoints: { server: 'dist/server.js', ...(FLOOR_OUTFILE && { 'nest-floor': 'bench/nest-floor-server.mjs' }) },
  outdir: dirname(OUTFILE),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
  // An import the built-in shims do not provide must fail the build, not be `undefined` at run time.
  logOverride: { 'import-is-undefined': 'error' },
  plugins: [builtinsThroughRequire, lazyDependencyWork, nonAsciiValidatorsOutside],
  // Licence comments go to server.mjs.LEGAL.txt: one of them has a non-ASCII name in it.
  legalComments: 'external',
  // Optional Nest/Fastify integrations this service does not use; Nest probes for them at run time.
  external: [
    '@nestjs/microservices',
    '@nestjs/microservices/*',
    '@nestjs/websockets',
    '@nestjs/websockets/*',
    '@nestjs/platform-express',
    'class-transformer/storage',
    '@fastify/view',
    '@fastify/multipart',
    // Required only on first use (see LAZY_EDITS), so left out: 368 KB less to read at every start.
    'libphonenumber-js',
    'libphonenumber-js/*',
  ],
  // CommonJS packages inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  footer: { js: NAME_HELPER },
});

for (const [edit, count] of edited) {
  if (count !== edit.files) throw new Error(`"${edit.eager}" was made lazy in ${count} files, not ${edit.files}; update LAZY_EDITS`);
}
for (const outfile of FLOOR_OUTFILE ? [OUTFILE, FLOOR_OUTFILE] : [OUTFILE]) {
  const bundled = await readFile(outfile, 'latin1');
  for (const helper of ['var __defProp=', 'var __name=']) {
    if (bundled.split(helper).length !== 2) throw new Error(`${outfile}: esbuild's "${helper}" changed; update NAME_HELPER`);
  }
  const nonAscii = bundled.search(/[\u0080-\u00ff]/); // latin1: one character per byte
  if (nonAscii >= 0) {
    const near = JSON.stringify(bundled.slice(Math.max(0, nonAscii - 80), nonAscii + 8));
    throw new Error(`${outfile} is not ASCII at offset ${nonAscii}, near ${near}: leave its module out (NON_ASCII_VALIDATORS)`);
  }
}
