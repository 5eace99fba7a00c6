/**
 * Errors raised by the Learner area. Each names the thing that was wrong and what to do about it.
 */

/** Base class of every error the Learner area throws. */
export class LearnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A learning rate (number, `slice(...)` or array) that cannot be applied to the model's layer groups. */
export class LearningRateError extends LearnerError {}

/** A hyper-parameter (epochs, momentum, weight decay, ...) outside its valid range. */
export class HyperParameterError extends LearnerError {}

/** Loss or metric inputs whose shapes or dtypes do not fit together. */
export class LossInputError extends LearnerError {}

/**
 * The loss became NaN or infinite during training. Training stopped before applying that batch's update,
 * so the model keeps the weights of the last good step.
 */
export class NonFiniteLossError extends LearnerError {
  constructor(
    message: string,
    /** The epoch (0-based) in which it happened. */
    readonly epoch: number,
    /** The batch index (0-based, within the epoch) in which it happened. */
    readonly batch: number,
    /** The offending loss value (NaN, Infinity or -Infinity). */
    readonly loss: number,
  ) {
    super(message);
  }
}

/**
 * Training was interrupted through an abort signal (e.g. SIGINT). It stopped at the end of the batch in
 * progress; `checkpoint` names the saved training state when the Learner has storage.
 */
export class FitInterruptedError extends LearnerError {
  constructor(
    message: string,
    readonly epoch: number,
    readonly batch: number,
    readonly checkpoint: string | undefined,
  ) {
    super(message);
  }
}

/** A saved or exported file that cannot be read back (wrong format, missing entries, other model). */
export class CheckpointError extends LearnerError {}

/** Something the Learner needs (storage, a test set, layer groups, ...) was not provided. */
export class LearnerConfigError extends LearnerError {}
