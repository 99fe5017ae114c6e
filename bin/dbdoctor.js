#!/usr/bin/env -S node --
// "--" before this file's path: Node 20 reads --env-file anywhere on its command line, even after
// the script (and exits 9 with its own message when that file is missing), so dbdoctor's own
// --env-file must come after a "--" that ends node's options.
import { main } from '../dist/cli/main.js';
process.exit(await main(process.argv));
