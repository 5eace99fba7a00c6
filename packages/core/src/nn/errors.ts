/** Errors raised by the module system. */

/** A shape that does not match what a module expects, reported with the parameter's dotted name. */
export interface ShapeMismatch {
  /** Dotted state-dict key, e.g. `layer1.0.conv1.weight`. */
  key: string;
  /** Shape the module expects, in the layout of the state dict being loaded. */
  expected: number[];
  /** Shape found in the state dict. */
  actual: number[];
}

/** Raised by {@link Module.loadStateDict} when keys are missing, unexpected, or have the wrong shape. */
export class StateDictError extends Error {
  override readonly name = 'StateDictError';
  constructor(
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly shapeMismatches: ShapeMismatch[],
    context = 'loadStateDict',
  ) {
    super(StateDictError.describe(missingKeys, unexpectedKeys, shapeMismatches, context));
  }

  private static describe(missing: string[], unexpected: string[], mismatched: ShapeMismatch[], context: string): string {
    const list = (keys: string[]): string =>
      keys.length <= 12 ? keys.join(', ') : `${keys.slice(0, 12).join(', ')} … (${keys.length - 12} more)`;
    const parts: string[] = [];
    if (mismatched.length > 0) {
      const shown = mismatched
        .slice(0, 12)
        .map((m) => `${m.key}: expected [${m.expected.join(',')}], got [${m.actual.join(',')}]`);
      if (mismatched.length > 12) shown.push(`… (${mismatched.length - 12} more)`);
      parts.push(`${mismatched.length} shape mismatch(es): ${shown.join('; ')}`);
    }
    if (missing.length > 0) parts.push(`${missing.length} missing key(s): ${list(missing)}`);
    if (unexpected.length > 0) parts.push(`${unexpected.length} unexpected key(s): ${list(unexpected)}`);
    return (
      `${context}: the weights do not fit this model. ${parts.join('. ')}. ` +
      'Check that the weights were made for this architecture (and number of classes); ' +
      'use { strict: false } to skip missing/unexpected keys.'
    );
  }
}

/** Raised when a module is used with inputs or options it cannot handle. */
export class ModuleConfigError extends Error {
  override readonly name = 'ModuleConfigError';
}
