#!/usr/bin/env -S node --
// "--" before this file's path: Node 20 reads --env-file anywhere on its command line, even after
// the script (and exits 9 with its own message when that file is missing), so dbdoctor's own
// --env-file must come after a "--" that ends node's options.
import module from 'node:module';
// Node >= 22.1 keeps compiled code between runs (a no-op on Node 20, which has no such cache).
module.enableCompileCache?.();
// The command line's bundle (scripts/bundle.ts): one file for what every command needs, chunks for the rest.
const { main } = await import('../dist/bundle/main.js');
process.exit(await main(process.argv));
