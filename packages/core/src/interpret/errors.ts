/** Errors of the interpretation area. */

/** Bad inputs to an interpretation (mismatched lengths, unknown class indices, ...). */
export class InterpretationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpretationError';
  }
}
