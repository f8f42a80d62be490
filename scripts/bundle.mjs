// Bundles the compiled server (dist/server.js, decorator metadata already emitted by tsc) into
// one ES module, dist/bundle/server.mjs, which dist/main.js loads when it exists. Node then reads
// one file instead of resolving ~1,500 modules: start-up to the first 200 went from ~610 ms to
// ~380 ms and idle RSS fell by ~15 MB on the project's 2-core machine; minifying whitespace and syntax
// (names kept: Nest uses class names) took another ~3 MB of source off the heap. node_modules stays beside
// it: packages Nest loads only if installed, and the Swagger UI assets, are resolved from there.
// Two plugins below take work off every start that the service never uses (see each).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * `node:http` through `require`. For an ES module's `import ... from 'http'` (Nest's packages are
 * ES modules), Node builds a view of the built-in by reading every export, and `http`'s lazy
 * `WebSocket`, `EventSource`, ... exports then load undici, which the service never uses. The
 * shim exports http's plain exports by name; a name the bundle asks for that is not listed fails
 * the build (see `logOverride`). Measured: ~50 ms less main-thread CPU before the first 200.
 */
const HTTP_EXPORTS = ['Agent', 'ClientRequest', 'IncomingMessage', 'METHODS', 'OutgoingMessage', 'STATUS_CODES', 'Server', 'ServerResponse', 'createServer', 'get', 'request', 'validateHeaderName', 'validateHeaderValue'];
const httpThroughRequire = {
  name: 'http-through-require',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^(node:)?http$/ }, () => ({ path: 'node:http', namespace: 'http-through-require' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({
      contents:
        "import { createRequire } from 'node:module';\n" +
        "const http = createRequire(import.meta.url)('node:http');\n" +
        `export const { ${HTTP_EXPORTS.join(', ')} } = http;\nexport default http;\n`,
      loader: 'js',
    }));
  },
};

/**
 * Work that dependencies do when their module loads, for features this service never uses, moved
 * to first use. Each edit must match exactly once, so an upgrade that changes the line fails the
 * build here instead of silently undoing the edit.
 * - Nest's two loggers each build an `Intl.DateTimeFormat` for a timestamp only Nest's console
 *   logger prints (this service logs through pino). The first one loads ICU's locale data:
 *   ~25 ms and ~8 MB of RSS at every start.
 * - class-validator's `IsPhoneNumber` loads libphonenumber-js and its metadata; the service
 *   validates no phone numbers (class-validator checks only its environment).
 */
const LAZY_EDITS = [
  {
    file: /[\\/]@nestjs[\\/]common[\\/]services[\\/](console-)?logger\.service\.js$/,
    eager: 'const dateTimeFormatter = new Intl.DateTimeFormat(',
    lazy: 'const dateTimeFormatter = lazyDateTimeFormat(',
    append:
      'function lazyDateTimeFormat(locales, options) {\n' +
      '  let formatter;\n' +
      '  return { format: (date) => (formatter ??= new Intl.DateTimeFormat(locales, options)).format(date) };\n' +
      '}\n',
  },
  {
    file: /[\\/]class-validator[\\/]cjs[\\/]decorator[\\/]string[\\/]IsPhoneNumber\.js$/,
    eager: 'const max_1 = require("libphonenumber-js/max");',
    lazy: 'const max_1 = { get parsePhoneNumber() { return require("libphonenumber-js/max").parsePhoneNumber; } };',
    uses: { 'max_1.': 'max_1.parsePhoneNumber' }, // the getter must cover every use
  },
];
const lazyDependencyWork = {
  name: 'lazy-dependency-work',
  setup(esbuild) {
    for (const edit of LAZY_EDITS) {
      esbuild.onLoad({ filter: edit.file }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        const count = (text) => source.split(text).length - 1;
        const usesCovered = Object.entries(edit.uses ?? {}).every(([all, covered]) => count(all) === count(covered));
        if (count(edit.eager) !== 1 || !usesCovered) throw new Error(`${path}: expected "${edit.eager}" once (and no other use); update scripts/bundle.mjs`);
        return { contents: source.replace(edit.eager, edit.lazy) + (edit.append ?? ''), loader: 'js', resolveDir: dirname(path) };
      });
    }
  },
};

/**
 * validator.js's modules whose regular expressions hold non-ASCII letters (esbuild escapes them in
 * strings, not in regex literals), loaded from node_modules instead of bundled. One such character
 * makes V8 hold the whole 3.7 MB bundle as a two-byte string and decode it the slow way: bundling
 * them cost ~4 MB of RSS and ~30 ms at every start. The build checks that the bundle is ASCII.
 */
const NON_ASCII_VALIDATORS = /(?:^|[\\/])(alpha|isIdentityCard|isLicensePlate|isStrongPassword|isTaxID|isVAT)(?:\.js)?$/;
const nonAsciiValidatorsOutside = {
  name: 'non-ascii-validators-outside',
  setup(esbuild) {
    esbuild.onResolve({ filter: NON_ASCII_VALIDATORS }, ({ path, resolveDir }) => {
      const target = path.startsWith('.') ? join(resolveDir, path) : path;
      if (!/(?:^|[\\/]node_modules[\\/])validator[\\/]lib[\\/]\w+(?:\.js)?$/.test(target)) return undefined;
      return { path: `validator/lib/${NON_ASCII_VALIDATORS.exec(path)[1]}.js`, external: true };
    });
  },
};

await build({
  entryPoints: ['dist/server.js'],
  outfile: 'dist/bundle/server.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
  // An import the http shim does not provide must fail the build, not be `undefined` at run time.
  logOverride: { 'import-is-undefined': 'error' },
  plugins: [httpThroughRequire, lazyDependencyWork, nonAsciiValidatorsOutside],
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
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  // keepNames makes esbuild call its helper __name(fn, "name") wherever a named function is
  // created, including the functions Fastify's hook runners create on every request, and each
  // call is an Object.defineProperty: ~3 % of a GET's main-thread time in a profile. Once the
  // modules have loaded, the helper skips functions whose name is already right (the same result).
  footer: { js: '__name = (target, value) => (target.name === value ? target : __defProp(target, "name", { value, configurable: true }));' },
});

const bundled = await readFile('dist/bundle/server.mjs', 'latin1');
const nonAscii = bundled.search(/[\u0080-\u00ff]/); // latin1: one character per byte
if (nonAscii >= 0) {
  const near = JSON.stringify(bundled.slice(Math.max(0, nonAscii - 80), nonAscii + 8));
  throw new Error(`dist/bundle/server.mjs is not ASCII at offset ${nonAscii}, near ${near}: leave that module out of the bundle (NON_ASCII_VALIDATORS)`);
}
