/**
 * The backend the end-to-end learner tests train on: the Node platform's fast CPU path (`setupBackend`) when it
 * exists, else tfjs' cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as node from '@fastts/node-gpu';

/** Sets up the backend once; returns its name. */
export async function setupTestBackend(): Promise<string> {
  const setup = (node as Record<string, unknown>).setupBackend as ((o: { backend?: string }) => Promise<unknown>) | undefined;
  if (setup) await setup({ backend: 'auto' });
  else {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
  }
  return tf.getBackend();
}
