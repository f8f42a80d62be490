// Jest (native ESM mode) links a test's whole import graph before evaluating it, and a CommonJS
// package imported from it (@willsoto/nestjs-prometheus) is run during linking; its require() of
// the ES module @nestjs/common then fails as "a cycle". Loading @nestjs/common first, here, avoids
// that. Node itself (dist/main.js) has no such problem.
await import('@nestjs/common');
