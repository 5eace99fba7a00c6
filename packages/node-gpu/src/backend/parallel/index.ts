/** Data-parallel training across worker threads (one model replica per worker, gradients averaged in shared memory). */
export { DataParallelTrainer } from './trainer.js';
export type { DataParallelOptions, StepOutcome, RawBatch } from './trainer.js';
export { DataParallelStep } from './train-step.js';
export type { FactorySpec, AdamWHyper, WorkerStats } from './protocol.js';
export { visionDataParallelStep, visionDataParallelSteps } from './vision-step.js';
export { planWorkers, MAX_THREADS_PER_REPLICA } from './plan.js';
export type { WorkerPlan, PlanOptions } from './plan.js';
export { startKernelThreads } from './kernel-threads.js';
export type { KernelThreadsHandle } from './kernel-threads.js';
export type { VisionDataParallelOptions, VisionDataParallelChoice } from './vision-step.js';
