// Runs the CLI like bin/dbdoctor.js does, but without process.exit(): the process ends only when
// nothing is left on the event loop. A test that times this proves no socket, timer or lookup
// outlives the run ("never hangs", not just "prints in time").
import { main } from '../../dist/cli/main.js';

process.exitCode = await main(process.argv);
