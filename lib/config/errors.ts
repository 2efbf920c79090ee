/**
 * A context value the app cannot use. The message is one line: where the value came from, the
 * value, and what is allowed.
 */
export class ConfigError extends Error {
  /**
   * @param key the context key the value is for
   * @param value the value as received
   * @param allowed what would have been accepted
   * @param source where the value came from, as the user would write it
   * @default source `context -c <key>`
   */
  constructor(
    readonly key: string,
    readonly value: string,
    readonly allowed: string,
    readonly source: string = `context -c ${key}`,
  ) {
    super(`Invalid ${source}=${value}: ${allowed}`);
    this.name = 'ConfigError';
  }
}
