// Entry point (`node dist/main.js`): turns on Node's on-disk compile cache before the app's
// modules load, so every start after the first skips compiling them, then starts the server.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./server.js');
