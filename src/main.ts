// Entry point (`node dist/main.js`): turns on Node's on-disk compile cache before the app's
// modules load, then starts the server: the single-file bundle `npm run build` makes
// (scripts/bundle.mjs) when it is there, else the compiled modules.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

enableCompileCache();
const bundle = new URL('./bundle/server.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : './server.js');
