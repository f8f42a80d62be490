// Jest (ESM mode) setup: evaluates Nest's ES modules before any test file's import graph does.
// @nestjs/throttler is CommonJS and require()s them; inside a graph Jest is still walking, that
// require of an ES module is refused as a cycle (Node itself, running dist/, has no such problem).
import '@nestjs/common';
import '@nestjs/core';
