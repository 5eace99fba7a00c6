#!/usr/bin/env node
/** The `fastts` executable: runs one command line and exits with its code. */
import { defaultHandlers } from './commands/index.js';
import { main, processIo } from './program.js';

const code = await main(process.argv.slice(2), processIo(), defaultHandlers);
// Exit explicitly: backends may keep worker threads alive. stdout/stderr are synchronous for files and pipes
// on POSIX, so nothing written is lost.
process.exit(code);
