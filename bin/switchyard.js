#!/usr/bin/env node
'use strict';
// The `switchyard` command: run | validate | demo. The compiled CLI lives in dist/ (npm run build).
let main;
try {
  main = require('../dist/src/cli/main.js').main;
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    console.error('switchyard is not built yet: run `npm run build` first');
    process.exit(1);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exit(1); },
);
