/**
 * Runs the pastewatch CLI from source (no build needed): `node --import tsx test/helpers/run-cli.ts ARGS`.
 * Tests use it to run the real CLI inside network namespaces while other parts are being rebuilt.
 */
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
// Everything was drained and flushed by now; a library handle left open must not keep the process alive.
setTimeout(() => process.exit(), 1500).unref();
