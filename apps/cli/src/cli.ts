#!/usr/bin/env node
/** The `fastts` executable: runs one command line and exits with its code. */
import { defaultHandlers } from './commands/index.js';
import { main, processIo } from './program.js';

// Started by a queue worker (`fastts worker`, with an IPC channel): die with it. A worker killed without a word
// loses its job to another worker, which resumes the run: this process must not write to it any more.
if (process.channel && process.env.FASTTS_WORKER_CHILD === '1')
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));

const code = await main(process.argv.slice(2), processIo(), defaultHandlers);
// Exit explicitly: backends may keep worker threads alive. stdout/stderr are synchronous for files and pipes
// on POSIX, so nothing written is lost.
process.exit(code);
